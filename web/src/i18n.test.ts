import { describe, expect, it } from "vitest";
import { createI18n, initialLanguage, LANGUAGE_KEY, rememberLanguage } from "./i18n";

function storage(v: Record<string, string | undefined>) {
  return { getItem: (k: string) => v[k] ?? null };
}

describe("initialLanguage", () => {
  it.each([
    { name: "remembered choice wins", saved: { [LANGUAGE_KEY]: "el" }, browser: ["vi-VN"], want: "el" },
    { name: "browser language with region", saved: {}, browser: ["pl-PL", "en"], want: "pl" },
    { name: "first supported browser language", saved: {}, browser: ["de-DE", "vi"], want: "vi" },
    { name: "unsupported everywhere falls back to English", saved: {}, browser: ["fr", "de"], want: "en" },
    { name: "unknown remembered value is ignored", saved: { [LANGUAGE_KEY]: "xx" }, browser: ["el-GR"], want: "el" },
  ])("$name", ({ saved, browser, want }) => {
    expect(initialLanguage(storage(saved), browser)).toBe(want);
  });

  it("reads back what rememberLanguage stored", () => {
    rememberLanguage("vi");
    expect(initialLanguage(localStorage, [])).toBe("vi");
  });
});

describe("createI18n", () => {
  it("translates, pluralises per language and sets the document language", () => {
    const i18n = createI18n("pl");
    expect(document.documentElement.lang).toBe("pl");
    expect(i18n.t("gallery.count", { count: 1 })).toBe("1 mapa");
    expect(i18n.t("gallery.count", { count: 3 })).toBe("3 mapy");
    expect(i18n.t("gallery.count", { count: 5 })).toBe("5 map");
    void i18n.changeLanguage("el");
    expect(document.documentElement.lang).toBe("el");
    expect(i18n.t("gallery.count", { count: 2 })).toBe("2 χάρτες");
    void i18n.changeLanguage("vi");
    expect(i18n.t("gallery.count", { count: 1 })).toBe("1 bản đồ");
  });
});
