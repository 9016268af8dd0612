import { describe, expect, it } from "vitest";
import { LANGUAGES, dataResources } from "../i18n";

// The "data" namespace obeys the same rules as the app's main strings:
// every message in every language, each language's plural forms, the same
// placeholders, and real translations.
type Tree = { [k: string]: string | Tree };

function flatten(t: Tree, prefix = ""): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(t)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === "string") out.set(key, v);
    else for (const [kk, vv] of flatten(v, key)) out.set(kk, vv);
  }
  return out;
}

const PLURAL = /_(zero|one|two|few|many|other)$/;

function messages(lang: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const [key, value] of flatten(dataResources[lang as keyof typeof dataResources] as Tree)) {
    const m = PLURAL.exec(key);
    const base = m ? key.slice(0, -m[0].length) : key;
    if (!out.has(base)) out.set(base, new Map());
    out.get(base)!.set(m ? m[1] : "", value);
  }
  return out;
}

const variables = (s: string) => Array.from(s.matchAll(/\{\{\s*(\w+)\s*\}\}/g), (m) => m[1]).sort();

// Names of products and platforms read the same in every language.
const SAME_EVERYWHERE = new Set([
  "sources.platforms.curl",
  "sources.platforms.node",
  "sources.platforms.python",
  "sources.platforms.ios",
  "sources.platforms.android",
]);
// Words that happen to be spelt as in English.
const SAME_IN: Record<string, Set<string>> = { pl: new Set(["overlay.segment"]) };

const en = messages("en");

describe.each(LANGUAGES.filter((l) => l !== "en"))("data locale %s", (lang) => {
  const msgs = messages(lang);
  const categories = new Intl.PluralRules(lang).resolvedOptions().pluralCategories;

  it("has every message of English and no other", () => {
    expect([...msgs.keys()].sort()).toEqual([...en.keys()].sort());
  });

  it("has exactly its language's plural forms", () => {
    for (const [key, forms] of en) {
      const theirs = msgs.get(key);
      if (!theirs) continue;
      if (forms.has("")) expect([...theirs.keys()], key).toEqual([""]);
      else expect([...theirs.keys()].sort(), key).toEqual([...categories].sort());
    }
  });

  it("uses the same placeholders as English", () => {
    for (const [key, forms] of en) {
      const want = variables([...forms.values()].at(-1)!).filter((v) => v !== "count");
      for (const [form, text] of msgs.get(key) ?? []) {
        expect(variables(text).filter((v) => v !== "count"), `${key}_${form}`).toEqual(want);
      }
    }
  });

  it("translates every user-facing string", () => {
    for (const [key, forms] of msgs) {
      if (SAME_EVERYWHERE.has(key) || SAME_IN[lang]?.has(key)) continue;
      const english = en.get(key)!;
      for (const [form, text] of forms) {
        expect(text.trim(), `${key} is empty`).not.toBe("");
        expect(text, `${key}${form ? "_" + form : ""} is still English`).not.toBe(english.get(form) ?? english.get("other"));
      }
    }
  });
});

describe("English data strings", () => {
  it("has one and other for every plural message", () => {
    for (const [key, forms] of en) if (!forms.has("")) expect([...forms.keys()].sort(), key).toEqual(["one", "other"]);
  });
});
