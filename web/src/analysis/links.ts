// Addresses of the data pages, so that links can be opened in a new tab
// and pages reloaded. The analysis page keeps its query in the search
// string.

export const ANALYSIS_KINDS = ["funnel", "paths", "process", "variants", "retention", "trends"] as const;
export type AnalysisKind = (typeof ANALYSIS_KINDS)[number];

export function isAnalysisKind(s: string): s is AnalysisKind {
  return (ANALYSIS_KINDS as readonly string[]).includes(s);
}

export function customerHref(id: string): string {
  return `/customers/${encodeURIComponent(id)}`;
}

export function analysisHref(kind: AnalysisKind, params: Record<string, string | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return `/analysis/${kind}${s ? `?${s}` : ""}`;
}

// go opens an address inside the app without reloading it.
export function go(href: string): void {
  window.history.pushState(null, "", href);
  window.dispatchEvent(new PopStateEvent("popstate"));
}
