// Chart options are plain objects; their type is kept here, apart from
// ECharts itself, so that modules building options do not pull the chart
// library into the page that imports them.
export type ChartOption = Record<string, unknown>;

// themeColours reads the app's colours from its CSS variables, so charts
// follow the light or dark theme.
export function themeColours(): { text: string; muted: string; border: string; accent: string } {
  const st = getComputedStyle(document.documentElement);
  const v = (name: string, fallback: string) => st.getPropertyValue(name).trim() || fallback;
  return { text: v("--text", "#1b1f24"), muted: v("--muted", "#5a6270"), border: v("--border", "#d5dae1"), accent: v("--accent", "#2256c9") };
}

