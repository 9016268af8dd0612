import { describe, expect, it } from "vitest";
import type { JourneyMap } from "../api";
import { estimateWidth, LAYOUT, pageRanges, renderSvg, wrap, type SvgLabels } from "./exportSvg";
import { makePdf, pdfText } from "./pdf";
import { fileName } from "./exporter";
import small from "./testdata/small.json";
import bankingEl from "../testdata/map.banking-account-opening.el.json";

const map = small as unknown as JourneyMap;
const labels: SvgLabels = {
  lane: (l) => l.name || l.kind,
  channel: (c) => c.toUpperCase(),
  emotion: (s) => `score ${s}`,
  noSteps: "No steps yet",
};

describe("renderSvg", () => {
  it("is as wide as its columns and holds every stage, step, lane and item", () => {
    const doc = renderSvg(map, { labels });
    const columns = 2 + 2 + 1; // the empty stage keeps a column
    expect(doc.width).toBe(2 * LAYOUT.pad + LAYOUT.laneWidth + columns * LAYOUT.colWidth);
    expect(doc.svg).toMatch(new RegExp(`^<svg xmlns="http://www.w3.org/2000/svg" width="${doc.width}" height="${doc.height}"`));
    for (const s of ["Online purchase", "Discover", "Buy", "After", "Sees an ad", "Pays", "Pains", "KPI", "• Bounce rate", "SOCIAL: Facebook", "No steps yet", "Curious"]) {
      expect(doc.svg).toContain(`>${s}<`);
    }
    // One point per step with an emotion, and the curve through them.
    expect(doc.svg.match(/<circle /g)).toHaveLength(3);
    expect(doc.svg).toContain("<title>score -2</title>");
  });

  it("is well-formed XML with text escaped and the map's language", () => {
    const tricky: JourneyMap = { ...map, name: `Q&A <"beta">`, locale: "vi", stages: [{ id: "s", name: "Tìm hiểu & so sánh", steps: [{ id: "x", name: "<script>" }] }] };
    const doc = renderSvg(tricky, { labels });
    const parsed = new DOMParser().parseFromString(doc.svg, "image/svg+xml");
    expect(parsed.querySelector("parsererror")).toBeNull();
    expect(parsed.documentElement.getAttribute("xml:lang")).toBe("vi");
    expect(parsed.querySelector("title")!.textContent).toBe(`Q&A <"beta">`);
    expect(Array.from(parsed.querySelectorAll("text"), (t) => t.textContent)).toContain("<script>");
    expect(doc.svg).not.toContain("<script>");
  });

  it("draws only the stages of a page, without the title after the first", () => {
    const doc = renderSvg(map, { labels, stages: [1, 3], title: false });
    expect(doc.svg).not.toContain(">Discover<");
    expect(doc.svg).toContain(">Buy<");
    expect(doc.svg).not.toContain(">Online purchase</text>");
    expect(doc.width).toBe(2 * LAYOUT.pad + LAYOUT.laneWidth + 3 * LAYOUT.colWidth);
  });

  it("grows rows to fit wrapped text", () => {
    const long = { ...map, stages: [{ id: "s", name: "S", steps: [{ id: "x", name: "X", actions: ["word ".repeat(80)] }] }] };
    expect(renderSvg(long, { labels }).height).toBeGreaterThan(renderSvg(map, { labels }).height + 200);
  });
});

describe("wrap", () => {
  it.each([
    ["short", 200, 1],
    ["Khách hàng so sánh phí và lãi suất của nhiều ngân hàng trước khi quyết định", 120, 5],
    ["Supercalifragilisticexpialidocious", 60, 4],
  ])("wraps %j into lines that fit %dpx", (text, width, minLines) => {
    const lines = wrap(text, width, 13, false);
    expect(lines.length).toBeGreaterThanOrEqual(minLines);
    for (const l of lines) expect(estimateWidth(l, 13, false)).toBeLessThanOrEqual(width);
    expect(lines.join("").replace(/\s/g, "")).toBe(text.replace(/\s/g, ""));
  });
  it("keeps line breaks", () => expect(wrap("a\nb", 200, 13, false)).toEqual(["a", "b"]));
});

describe("pageRanges", () => {
  const big = bankingEl as unknown as JourneyMap;
  it.each([1, 0.6, 0.3])("at scale %d puts whole stages on pages that fit", (scale) => {
    const pageWidth = 794;
    const ranges = pageRanges(big, pageWidth, scale);
    expect(ranges[0][0]).toBe(0);
    expect(ranges.at(-1)![1]).toBe(big.stages.length);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i][0]).toBe(ranges[i - 1][1]);
    for (const [a, b] of ranges) {
      const cols = big.stages.slice(a, b).reduce((n, s) => n + Math.max(1, s.steps.length), 0);
      const w = (2 * LAYOUT.pad + LAYOUT.laneWidth + cols * LAYOUT.colWidth) * scale;
      // A page may overflow only when one stage alone is wider than a page.
      if (b - a > 1) expect(w).toBeLessThanOrEqual(pageWidth);
    }
  });
  it("uses fewer pages at a smaller scale", () => {
    expect(pageRanges(bankingEl as unknown as JourneyMap, 794, 0.3).length).toBeLessThan(pageRanges(bankingEl as unknown as JourneyMap, 794, 1).length);
  });
});

describe("makePdf", () => {
  // A JPEG's bytes only pass through; the PDF's structure is what is tested.
  const fake = (n: number) => new Uint8Array(n).map((_, i) => (i * 7) & 0xff);
  const text = (b: Uint8Array) => new TextDecoder("latin1").decode(b);

  it("writes a PDF whose cross-reference table points at every object", () => {
    const bytes = makePdf(
      [
        { jpeg: fake(300), width: 1000, height: 500 },
        { jpeg: fake(120), width: 400, height: 500, pointsPerPixel: 0.5 },
      ],
      { title: "Hành trình Ελλάδα" },
    );
    const s = text(bytes);
    expect(s.startsWith("%PDF-1.4\n")).toBe(true);
    expect(s.endsWith("%%EOF\n")).toBe(true);
    const startxref = Number(/startxref\n(\d+)\n/.exec(s)![1]);
    expect(s.slice(startxref, startxref + 4)).toBe("xref");
    const table = /xref\n0 (\d+)\n([\s\S]*?)trailer/.exec(s)!;
    const count = Number(table[1]);
    expect(count).toBe(4 + 3 * 2);
    const offsets = table[2].trim().split("\n").slice(1).map((l) => Number(l.slice(0, 10)));
    offsets.forEach((off, i) => expect(s.slice(off, off + `${i + 1} 0 obj`.length)).toBe(`${i + 1} 0 obj`));
    expect(s).toContain("/Count 2");
    expect(s).toContain("/Width 1000 /Height 500 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode /Length 300");
    expect(s).toContain(`/Title ${pdfText("Hành trình Ελλάδα")}`);
    // The second page keeps its scale: 400 px at 0.5 pt is 200 pt wide, at the top left margin.
    expect(s).toContain("q 200.00 0 0 250.00 24.00 321.28 cm /Im0 Do Q");
  });

  it("refuses an empty document", () => {
    expect(() => makePdf([])).toThrow("at least one page");
  });

  it("encodes any script in the title as UTF-16", () => {
    expect(pdfText("Aé")).toBe("<FEFF004100E9>");
  });
});

describe("fileName", () => {
  it.each([
    ["Mua hàng trực tuyến", "png", "Mua hàng trực tuyến.png"],
    ['A/B: "test"?', "svg", "A B test.svg"],
    ["   ", "pdf", "map.pdf"],
  ])("%j → %j", (name, ext, want) => expect(fileName(name, ext)).toBe(want));
});
