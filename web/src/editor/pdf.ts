// A minimal PDF writer: one JPEG image per page, scaled to fit inside the
// margins and centred. That is all a map export needs, and it keeps a
// PDF library out of the app (PDF 1.4, ISO 32000-1 §7: objects, one
// cross-reference table, DCTDecode images).

export interface PdfImage {
  jpeg: Uint8Array;
  width: number; // pixels
  height: number;
  // pointsPerPixel draws the image at that size, top left, rather than
  // fitted and centred: pages of one document then share a scale.
  pointsPerPixel?: number;
}

export interface PdfOptions {
  pageWidth?: number; // points; the default is A4 landscape
  pageHeight?: number;
  margin?: number;
  title?: string;
}

const ascii = (s: string) => new TextEncoder().encode(s);

// pdfText encodes a document-information string as UTF-16BE with a byte
// order mark, written in hex, so any script survives.
export function pdfText(s: string): string {
  let hex = "FEFF";
  for (let i = 0; i < s.length; i++) hex += s.charCodeAt(i).toString(16).padStart(4, "0").toUpperCase();
  return `<${hex}>`;
}

export function makePdf(images: PdfImage[], o: PdfOptions = {}): Uint8Array {
  if (images.length === 0) throw new Error("a PDF needs at least one page");
  const W = o.pageWidth ?? 841.89;
  const H = o.pageHeight ?? 595.28;
  const M = o.margin ?? 24;
  const chunks: Uint8Array[] = [];
  const offsets: number[] = [];
  let size = 0;
  const push = (b: Uint8Array) => {
    chunks.push(b);
    size += b.length;
  };
  const obj = (n: number, body: string, stream?: Uint8Array) => {
    offsets[n] = size;
    push(ascii(`${n} 0 obj\n${body}\n`));
    if (stream) {
      push(ascii("stream\n"));
      push(stream);
      push(ascii("\nendstream\n"));
    }
    push(ascii("endobj\n"));
  };

  // Object numbers: 1 catalog, 2 page tree, 3 info, then three per page.
  const pageNo = (i: number) => 4 + 3 * i;
  push(ascii("%PDF-1.4\n%\xE2\xE3\xCF\xD3\n"));
  obj(1, "<< /Type /Catalog /Pages 2 0 R >>");
  obj(2, `<< /Type /Pages /Kids [${images.map((_, i) => `${pageNo(i)} 0 R`).join(" ")}] /Count ${images.length} >>`);
  obj(3, `<< /Producer (trek)${o.title ? ` /Title ${pdfText(o.title)}` : ""} >>`);
  images.forEach((im, i) => {
    const p = pageNo(i);
    const fit = Math.min((W - 2 * M) / im.width, (H - 2 * M) / im.height);
    const s = im.pointsPerPixel ? Math.min(fit, im.pointsPerPixel) : fit;
    const w = im.width * s;
    const h = im.height * s;
    const x = im.pointsPerPixel ? M : (W - w) / 2;
    const y = im.pointsPerPixel ? H - M - h : (H - h) / 2;
    obj(p, `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${W} ${H}] /Resources << /XObject << /Im0 ${p + 2} 0 R >> >> /Contents ${p + 1} 0 R >>`);
    const content = ascii(`q ${w.toFixed(2)} 0 0 ${h.toFixed(2)} ${x.toFixed(2)} ${y.toFixed(2)} cm /Im0 Do Q`);
    obj(p + 1, `<< /Length ${content.length} >>`, content);
    obj(
      p + 2,
      `<< /Type /XObject /Subtype /Image /Width ${im.width} /Height ${im.height} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode /Length ${im.jpeg.length} >>`,
      im.jpeg,
    );
  });
  const count = pageNo(images.length);
  const xref = size;
  let table = `xref\n0 ${count}\n0000000000 65535 f \n`;
  for (let n = 1; n < count; n++) table += `${String(offsets[n]).padStart(10, "0")} 00000 n \n`;
  push(ascii(`${table}trailer\n<< /Size ${count} /Root 1 0 R /Info 3 0 R >>\nstartxref\n${xref}\n%%EOF\n`));

  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
