import type { JourneyMap } from "../api";
import { makePdf, type PdfImage } from "./pdf";
import { canvasMeasure, LAYOUT, pageRanges, renderSvg, type SvgLabels } from "./exportSvg";

// PNG_SCALE renders PNGs at twice the SVG's size, so that text stays sharp
// on high-density screens and in slides.
export const PNG_SCALE = 2;

// fileName makes a map's name safe as a download name, keeping letters of
// any script.
export function fileName(name: string, ext: string): string {
  const base = name
    .normalize("NFC")
    .replace(/[\\/:*?"<>|\u0000-\u001f]+/g, " ")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 120);
  return `${base || "map"}.${ext}`;
}

export function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.rel = "noopener";
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function exportSvg(map: JourneyMap, labels: SvgLabels) {
  return renderSvg(map, { labels, measure: canvasMeasure() });
}

// rasterise draws an SVG document onto a canvas. The image is a data: URL,
// which the app's Content-Security-Policy allows for images, and an SVG
// without external references does not taint the canvas.
async function rasterise(svg: string, width: number, height: number, scale: number): Promise<HTMLCanvasElement> {
  const img = new Image();
  img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
  await img.decode();
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("this browser cannot draw on a canvas");
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
  return canvas;
}

function toBlob(canvas: HTMLCanvasElement, type: string, quality?: number): Promise<Blob> {
  return new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error(`the browser could not encode ${type}`))), type, quality),
  );
}

export async function exportPng(map: JourneyMap, labels: SvgLabels): Promise<Blob> {
  const doc = exportSvg(map, labels);
  return toBlob(await rasterise(doc.svg, doc.width, doc.height, PNG_SCALE), "image/png");
}

// A4 landscape in points, and the pixels per point the pages are drawn at
// (about 200 dpi: sharp in print, a few megabytes for a large map).
const PAGE = { width: 841.89, height: 595.28, margin: 24, density: 2.8 };

// exportPdf lays the map out on landscape pages, a run of whole stages per
// page, each page repeating the lane names, all at one scale.
export async function exportPdf(map: JourneyMap, labels: SvgLabels): Promise<Blob> {
  const measure = canvasMeasure();
  const full = renderSvg(map, { labels, measure });
  const availW = PAGE.width - 2 * PAGE.margin;
  const availH = PAGE.height - 2 * PAGE.margin;
  const widest = Math.max(...map.stages.map((s) => Math.max(1, s.steps.length))) * LAYOUT.colWidth + LAYOUT.laneWidth + 2 * LAYOUT.pad;
  const scale = Math.min(1, availH / full.height, availW / widest);
  const pages: PdfImage[] = [];
  for (const range of pageRanges(map, availW, scale)) {
    const doc = renderSvg(map, { labels, measure, stages: range, title: range[0] === 0 });
    const px = scale * PAGE.density;
    const canvas = await rasterise(doc.svg, doc.width, doc.height, px);
    const jpeg = new Uint8Array(await (await toBlob(canvas, "image/jpeg", 0.9)).arrayBuffer());
    pages.push({ jpeg, width: canvas.width, height: canvas.height, pointsPerPixel: 1 / PAGE.density });
  }
  const bytes = makePdf(pages, { pageWidth: PAGE.width, pageHeight: PAGE.height, margin: PAGE.margin, title: map.name });
  return new Blob([bytes as BlobPart], { type: "application/pdf" });
}
