import { safeStorage } from "./i18n";

// "system" follows prefers-color-scheme through CSS alone; "light" and
// "dark" pin the choice with a data-theme attribute on <html>.
export type Theme = "system" | "light" | "dark";
export const THEMES: Theme[] = ["system", "light", "dark"];
export const THEME_KEY = "trek.theme";

export function initialTheme(storage = safeStorage()): Theme {
  const v = storage?.getItem(THEME_KEY);
  return v === "light" || v === "dark" ? v : "system";
}

export function applyTheme(theme: Theme): void {
  const root = document.documentElement;
  if (theme === "system") root.removeAttribute("data-theme");
  else root.setAttribute("data-theme", theme);
  try {
    if (theme === "system") safeStorage()?.removeItem(THEME_KEY);
    else safeStorage()?.setItem(THEME_KEY, theme);
  } catch {
    // The theme still applies for this visit.
  }
}
