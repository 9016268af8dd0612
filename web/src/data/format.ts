// Number, share and duration formatting for the data views, in the UI's
// language, so that every figure on screen reads the same way.

export function formatCount(n: number, lang: string): string {
  return new Intl.NumberFormat(lang).format(n);
}

// formatShare shows a share from 0 to 1 as a percentage with one decimal,
// which is enough to tell steps apart without suggesting false precision.
export function formatShare(x: number, lang: string): string {
  return new Intl.NumberFormat(lang, { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(x);
}

// formatDuration says how long in the two largest units ("2 h 5 min"), as
// the command line does, using the language's unit names.
export function formatDuration(seconds: number | null | undefined, lang: string): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  const units: [Intl.NumberFormatOptions["unit"], number][] = [
    ["day", 86400],
    ["hour", 3600],
    ["minute", 60],
    ["second", 1],
  ];
  const parts: string[] = [];
  let rest = Math.round(seconds);
  if (rest === 0 && seconds > 0) {
    return new Intl.NumberFormat(lang, { style: "unit", unit: "second", unitDisplay: "narrow", maximumFractionDigits: 1 }).format(seconds);
  }
  for (const [unit, secs] of units) {
    if (rest >= secs || (unit === "second" && parts.length === 0)) {
      const v = Math.floor(rest / secs);
      rest -= v * secs;
      parts.push(new Intl.NumberFormat(lang, { style: "unit", unit, unitDisplay: "narrow" }).format(v));
      if (parts.length === 2) break;
    } else if (parts.length > 0) {
      break;
    }
  }
  return parts.join(" ");
}

// dayStart and dayEnd turn a date input's value (YYYY-MM-DD, read as UTC
// as the API's dates are) into the half-open range [from, to) the API
// takes: the "to" day is included, so the range ends at the next midnight.
export function dayStart(date: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return undefined;
  return `${date}T00:00:00Z`;
}

export function dayEnd(date: string): string | undefined {
  const s = dayStart(date);
  if (!s) return undefined;
  const d = new Date(s);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().replace(".000Z", "Z");
}

export function formatDay(iso: string, lang: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeZone: "UTC" }).format(d);
}

export function formatTime(iso: string, lang: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  // Event times are shown in UTC, as the API gives them, and say so.
  return new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "long", timeZone: "UTC" }).format(d);
}
