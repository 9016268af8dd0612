import type { JourneyMap, Lane, Step } from "../api";
import { lanesOf } from "../map/lanes";
import { CHANNEL_ICONS } from "../map/channelIcons";
import { itemsOf } from "./model";

// The board drawn as a standalone SVG document, laid out here rather than
// copied from the page: the file opens in any viewer or vector editor,
// needs no fonts or styles from the app, and is the source of the PNG and
// PDF exports too. Colours are the light theme's, which print well.

export interface SvgLabels {
  lane: (l: Lane) => string;
  channel: (c: string) => string;
  emotion: (score: number) => string;
  noSteps: string;
}

export interface SvgOptions {
  labels: SvgLabels;
  // measure gives a text's width in pixels; the browser's canvas is exact,
  // the fallback estimate keeps layout sane where there is no canvas.
  measure?: (text: string, size: number, bold: boolean) => number;
  stages?: [number, number]; // a range of stages [from, to), for pages
  title?: boolean;
}

export interface SvgDoc {
  svg: string;
  width: number;
  height: number;
}

export const FONT = `system-ui, "Noto Sans", "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif`;
export const LAYOUT = {
  pad: 24,
  laneWidth: 168,
  colWidth: 216,
  cellPad: 10,
  font: 13,
  line: 18,
  stageHeight: 40,
  titleHeight: 48,
  emotionHeight: 132,
};

const C = {
  bg: "#ffffff",
  text: "#1b1f24",
  muted: "#5a6270",
  border: "#d5dae1",
  head: "#f0f2f5",
  accent: "#2256c9",
  accentText: "#ffffff",
  pos: "#15803d",
  neg: "#b42318",
  pain: "#fdf1f0",
  opp: "#eef8f1",
};

export function estimateWidth(text: string, size: number, bold: boolean): number {
  let w = 0;
  for (const ch of text) w += /[\u0300-\u036f]/.test(ch) ? 0 : /[ilj.,;:'|!]/.test(ch) ? 0.3 : /[A-ZÀ-ÞΑ-ΩmwMW]/.test(ch) ? 0.72 : 0.55;
  return w * size * (bold ? 1.06 : 1);
}

let canvasCtx: CanvasRenderingContext2D | null | undefined;

// canvasMeasure measures with the same fonts the SVG will be drawn with.
export function canvasMeasure(): ((text: string, size: number, bold: boolean) => number) | undefined {
  if (canvasCtx === undefined) {
    try {
      canvasCtx = typeof document === "undefined" ? null : document.createElement("canvas").getContext("2d");
    } catch {
      canvasCtx = null;
    }
  }
  const ctx = canvasCtx;
  if (!ctx || typeof ctx.measureText !== "function") return undefined;
  return (text, size, bold) => {
    ctx.font = `${bold ? "700 " : ""}${size}px ${FONT}`;
    return ctx.measureText(text).width;
  };
}

// wrap breaks text into lines no wider than width, at spaces where it can
// and inside a word only when the word alone is too wide.
export function wrap(text: string, width: number, size: number, bold: boolean, measure: SvgOptions["measure"] = estimateWidth): string[] {
  const out: string[] = [];
  for (const para of text.split("\n")) {
    let line = "";
    for (const word of para.split(/\s+/).filter(Boolean)) {
      const next = line ? `${line} ${word}` : word;
      if (measure(next, size, bold) <= width) {
        line = next;
        continue;
      }
      if (line) out.push(line);
      line = "";
      let rest = word;
      while (measure(rest, size, bold) > width && rest.length > 1) {
        const cps = Array.from(rest);
        let n = cps.length - 1;
        while (n > 1 && measure(cps.slice(0, n).join(""), size, bold) > width) n--;
        out.push(cps.slice(0, n).join(""));
        rest = cps.slice(n).join("");
      }
      line = rest;
    }
    out.push(line);
  }
  return out;
}

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

interface Col {
  step: Step | null;
  x: number;
}

// Content of one cell as lines of text with an optional leading icon.
interface Line {
  text: string;
  bold?: boolean;
  colour?: string;
  icon?: string; // channel
  indent?: number;
}

function cellLines(step: Step, lane: Lane, o: SvgOptions, measure: NonNullable<SvgOptions["measure"]>): Line[] {
  const w = LAYOUT.colWidth - 2 * LAYOUT.cellPad;
  const f = LAYOUT.font;
  if (lane.kind === "touchpoints") {
    return (step.touchpoints ?? []).flatMap((tp) => {
      const head = `${o.labels.channel(tp.channel)}: ${tp.name}`;
      return wrap(head, w - 18, f, false, measure).map((t, i) => ({ text: t, icon: i === 0 ? tp.channel : undefined, indent: 18 }));
    });
  }
  return itemsOf(step, lane).flatMap((item) =>
    wrap(item, w - 12, f, false, measure).map((t, i) => ({ text: (i === 0 ? "• " : "") + t, indent: i === 0 ? 0 : 10 })),
  );
}

export function renderSvg(map: JourneyMap, o: SvgOptions): SvgDoc {
  const measure = o.measure ?? estimateWidth;
  const L = LAYOUT;
  const [s0, s1] = o.stages ?? [0, map.stages.length];
  const stages = map.stages.slice(s0, s1);
  const lanes = lanesOf(map);
  const top = L.pad + (o.title === false ? 0 : L.titleHeight);
  const x0 = L.pad + L.laneWidth;

  const cols: Col[] = [];
  const stageSpans: { name: string; x: number; w: number }[] = [];
  for (const st of stages) {
    const x = x0 + cols.length * L.colWidth;
    const n = Math.max(1, st.steps.length);
    if (st.steps.length) st.steps.forEach((s) => cols.push({ step: s, x: x0 + cols.length * L.colWidth }));
    else cols.push({ step: null, x });
    stageSpans.push({ name: st.name, x, w: n * L.colWidth });
  }
  const width = x0 + cols.length * L.colWidth + L.pad;

  const stepNames = cols.map((c) => (c.step ? wrap(c.step.name, L.colWidth - 2 * L.cellPad, L.font + 1, true, measure) : [o.labels.noSteps]));
  const stepHeight = Math.max(1, ...stepNames.map((l) => l.length)) * L.line + 2 * L.cellPad;
  const rows = lanes.map((lane) => {
    if (lane.kind === "emotions") {
      const notes = cols.map((c) => (c.step?.emotion?.note ? wrap(c.step.emotion.note, L.colWidth - 2 * L.cellPad, L.font - 1, false, measure) : []));
      return { lane, lines: [] as Line[][], notes, height: L.emotionHeight + Math.max(0, ...notes.map((n) => n.length)) * (L.line - 2) + L.cellPad };
    }
    const lines = cols.map((c) => (c.step ? cellLines(c.step, lane, o, measure) : []));
    const name = wrap(o.labels.lane(lane), L.laneWidth - 2 * L.cellPad, L.font, true, measure);
    const h = Math.max(name.length, 1, ...lines.map((l) => l.length)) * L.line + 2 * L.cellPad;
    return { lane, lines, notes: [] as string[][], height: Math.max(h, 44) };
  });
  const height = top + L.stageHeight + stepHeight + rows.reduce((n, r) => n + r.height, 0) + L.pad;

  const out: string[] = [];
  const text = (x: number, y: number, s: string, attrs = "") => out.push(`<text x="${x.toFixed(1)}" y="${y.toFixed(1)}"${attrs}>${esc(s)}</text>`);
  const lang = map.locale ? ` xml:lang="${esc(map.locale)}"` : "";
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"${lang} font-family="${esc(FONT)}" font-size="${L.font}" fill="${C.text}">`,
  );
  out.push(`<title>${esc(map.name)}</title>`);
  out.push(`<rect width="${width}" height="${height}" fill="${C.bg}"/>`);
  if (o.title !== false) text(L.pad, L.pad + 26, map.name, ` font-size="22" font-weight="700"`);

  // Stage headers.
  let y = top;
  for (const sp of stageSpans) {
    out.push(`<rect x="${sp.x}" y="${y}" width="${sp.w}" height="${L.stageHeight}" fill="${C.accent}" stroke="${C.bg}"/>`);
    const name = wrap(sp.name, sp.w - 2 * L.cellPad, L.font + 2, true, measure)[0] ?? "";
    text(sp.x + L.cellPad, y + 25, name, ` font-size="${L.font + 2}" font-weight="700" fill="${C.accentText}"`);
  }
  y += L.stageHeight;
  // Step headers.
  out.push(`<rect x="${L.pad}" y="${y}" width="${width - 2 * L.pad}" height="${stepHeight}" fill="${C.head}"/>`);
  cols.forEach((c, i) => {
    stepNames[i].forEach((ln, k) =>
      text(c.x + L.cellPad, y + L.cellPad + 13 + k * L.line, ln, c.step ? ` font-weight="700" font-size="${L.font + 1}"` : ` fill="${C.muted}"`),
    );
  });
  y += stepHeight;

  for (const r of rows) {
    const bg = r.lane.kind === "pain_points" ? C.pain : r.lane.kind === "opportunities" ? C.opp : C.bg;
    out.push(`<rect x="${x0}" y="${y}" width="${cols.length * L.colWidth}" height="${r.height}" fill="${bg}"/>`);
    out.push(`<rect x="${L.pad}" y="${y}" width="${L.laneWidth}" height="${r.height}" fill="${C.head}"/>`);
    wrap(o.labels.lane(r.lane), L.laneWidth - 2 * L.cellPad, L.font, true, measure).forEach((ln, k) =>
      text(L.pad + L.cellPad, y + L.cellPad + 13 + k * L.line, ln, ` font-weight="700"`),
    );
    if (r.lane.kind === "emotions") {
      const unit = (L.emotionHeight - 36) / 4;
      const yOf = (s: number) => y + 18 + (2 - s) * unit;
      for (const s of [2, 0, -2]) {
        out.push(`<line x1="${x0}" x2="${x0 + cols.length * L.colWidth}" y1="${yOf(s)}" y2="${yOf(s)}" stroke="${C.border}"${s ? ` stroke-dasharray="4 4"` : ""}/>`);
      }
      const pts = cols.filter((c) => c.step?.emotion).map((c) => ({ x: c.x + L.colWidth / 2, s: c.step!.emotion!.score }));
      if (pts.length > 1) {
        out.push(`<path d="${pts.map((p, i) => `${i ? "L" : "M"}${p.x},${yOf(p.s).toFixed(1)}`).join(" ")}" fill="none" stroke="${C.accent}" stroke-width="2.5"/>`);
      }
      for (const p of pts) {
        const col = p.s > 0 ? C.pos : p.s < 0 ? C.neg : C.muted;
        out.push(`<circle cx="${p.x}" cy="${yOf(p.s).toFixed(1)}" r="6" fill="${col}" stroke="${C.bg}" stroke-width="2"><title>${esc(o.labels.emotion(p.s))}</title></circle>`);
      }
      cols.forEach((c, i) =>
        r.notes[i].forEach((ln, k) => text(c.x + L.cellPad, y + L.emotionHeight + 4 + k * (L.line - 2), ln, ` font-size="${L.font - 1}" fill="${C.muted}"`)),
      );
    } else {
      cols.forEach((c, i) =>
        r.lines[i].forEach((ln, k) => {
          const ly = y + L.cellPad + 13 + k * L.line;
          if (ln.icon) {
            out.push(
              `<path transform="translate(${c.x + L.cellPad},${ly - 11}) scale(0.8)" d="${CHANNEL_ICONS[ln.icon] ?? CHANNEL_ICONS.other}" fill="none" stroke="${C.accent}" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round"/>`,
            );
          }
          text(c.x + L.cellPad + (ln.indent ?? 0), ly, ln.text);
        }),
      );
    }
    out.push(`<line x1="${L.pad}" x2="${width - L.pad}" y1="${y + r.height}" y2="${y + r.height}" stroke="${C.border}"/>`);
    y += r.height;
  }
  // Column rules, drawn last so that cell backgrounds do not hide them.
  const boardTop = top;
  for (const c of cols) out.push(`<line x1="${c.x}" x2="${c.x}" y1="${boardTop}" y2="${y}" stroke="${C.border}"/>`);
  out.push(`<rect x="${L.pad}" y="${boardTop}" width="${width - 2 * L.pad}" height="${y - boardTop}" fill="none" stroke="${C.border}"/>`);
  out.push("</svg>");
  return { svg: out.join("\n"), width, height };
}

// pageRanges splits the stages into runs that fit one page each at the
// scale that fits the tallest run on a page, so no stage is cut in two.
export function pageRanges(map: JourneyMap, pageWidth: number, scale: number): [number, number][] {
  const L = LAYOUT;
  const avail = pageWidth / scale - 2 * L.pad - L.laneWidth;
  const out: [number, number][] = [];
  let start = 0;
  let used = 0;
  map.stages.forEach((st, i) => {
    const w = Math.max(1, st.steps.length) * L.colWidth;
    if (i > start && used + w > avail) {
      out.push([start, i]);
      start = i;
      used = 0;
    }
    used += w;
  });
  if (map.stages.length) out.push([start, map.stages.length]);
  return out;
}
