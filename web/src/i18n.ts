import i18next, { type i18n } from "i18next";
import { initReactI18next } from "react-i18next";
import en from "./locales/en.json";
import vi from "./locales/vi.json";
import el from "./locales/el.json";
import pl from "./locales/pl.json";
import dataEn from "./locales/data/en.json";
import dataVi from "./locales/data/vi.json";
import dataEl from "./locales/data/el.json";
import dataPl from "./locales/data/pl.json";
import editorEn from "./locales/editor/en.json";
import editorVi from "./locales/editor/vi.json";
import editorEl from "./locales/editor/el.json";
import editorPl from "./locales/editor/pl.json";

export const resources = { en, vi, el, pl } as const;
// The data views' strings (analysis, overlay, personas, customers, sources)
// live in their own namespace, "data".
export const dataResources = { en: dataEn, vi: dataVi, el: dataEl, pl: dataPl } as const;
// The map editor's strings live in the namespace "editor".
export const editorResources = { en: editorEn, vi: editorVi, el: editorEl, pl: editorPl } as const;
export type Language = keyof typeof resources;
export const LANGUAGES: Language[] = ["en", "vi", "el", "pl"];

// Each language is offered under its own name (an endonym), as language
// pickers do, so a reader finds their language whatever the UI shows now.
export const LANGUAGE_NAMES: Record<Language, string> = {
  en: "English",
  vi: "Tiếng Việt",
  el: "Ελληνικά",
  pl: "Polski",
};

export const LANGUAGE_KEY = "trek.language";

export function isLanguage(v: unknown): v is Language {
  return typeof v === "string" && (LANGUAGES as string[]).includes(v);
}

// initialLanguage is the remembered choice, else the browser's first
// supported language, else English.
export function initialLanguage(
  storage: Pick<Storage, "getItem"> | undefined = safeStorage(),
  preferred: readonly string[] = typeof navigator === "undefined" ? [] : navigator.languages ?? [],
): Language {
  const saved = storage?.getItem(LANGUAGE_KEY);
  if (isLanguage(saved)) return saved;
  for (const tag of preferred) {
    const base = tag.toLowerCase().split("-")[0];
    if (isLanguage(base)) return base;
  }
  return "en";
}

export function safeStorage(): Storage | undefined {
  try {
    return typeof localStorage === "undefined" ? undefined : localStorage;
  } catch {
    // Storage can be blocked by the browser's privacy settings.
    return undefined;
  }
}

export function rememberLanguage(lang: Language): void {
  try {
    safeStorage()?.setItem(LANGUAGE_KEY, lang);
  } catch {
    // Not remembering the choice is better than failing to switch.
  }
}

export function createI18n(lng: Language = initialLanguage()): i18n {
  const inst = i18next.createInstance();
  void inst.use(initReactI18next).init({
    resources: Object.fromEntries(LANGUAGES.map((l) => [l, { translation: resources[l], data: dataResources[l], editor: editorResources[l] }])),
    lng,
    fallbackLng: "en",
    // A namespace's strings may use the app's shared ones (errors, channels).
    fallbackNS: "translation",
    supportedLngs: LANGUAGES,
    interpolation: { escapeValue: false }, // React escapes already
    returnNull: false,
    initAsync: false,
  });
  const sync = (l: string) => {
    if (typeof document !== "undefined") document.documentElement.lang = l;
  };
  sync(lng);
  inst.on("languageChanged", sync);
  return inst;
}
