import type { TFunction } from "i18next";
import { ApiError } from "./api";

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["week", 7 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];

// relativeTime says "3 days ago" in the UI's language, in the largest unit
// that fits, so that a list of changes reads at a glance.
export function relativeTime(iso: string, lang: string, now: Date = new Date()): string {
  const then = new Date(iso);
  if (Number.isNaN(then.getTime())) return "";
  const diff = (then.getTime() - now.getTime()) / 1000;
  const rtf = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
  for (const [unit, secs] of UNITS) {
    if (Math.abs(diff) >= secs || unit === "second") {
      return rtf.format(Math.round(diff / secs), unit);
    }
  }
  return "";
}

export function absoluteTime(iso: string, lang: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" }).format(d);
}

// errorText turns any failure into a sentence in the UI's language.
export function errorText(t: TFunction, e: unknown): string {
  if (e instanceof ApiError) {
    switch (e.code) {
      case "network":
        return t("errors.network");
      case "forbidden":
        return t("errors.forbidden");
      case "not_found":
        return t("errors.notFound");
      case "conflict":
        return t("errors.conflict");
      case "invalid": {
        const detail = e.fields.length ? e.fields.map((f) => `${f.path}: ${f.message}`).join("; ") : e.message;
        return t("errors.invalid", { message: detail });
      }
    }
    return t("errors.generic", { message: e.message });
  }
  return t("errors.generic", { message: e instanceof Error ? e.message : String(e) });
}

// truncate keeps a name within the server's limit, counting characters
// (code points) as the server does, not UTF-16 units.
export function truncate(s: string, max: number): string {
  const cps = Array.from(s);
  return cps.length <= max ? s : cps.slice(0, max).join("");
}
