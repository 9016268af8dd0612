import { describe, expect, it } from "vitest";
import { dataResources, editorResources, LANGUAGES, resources } from "./i18n";

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

// A plural key stands for one message whose forms each language spells
// with its own categories (English one/other; Polish one/few/many/other;
// Vietnamese only other).
function messages(lang: string, ns: Record<string, unknown> = resources): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const [key, value] of flatten(ns[lang] as Tree)) {
    const m = PLURAL.exec(key);
    const base = m ? key.slice(0, -m[0].length) : key;
    const form = m ? m[1] : "";
    if (!out.has(base)) out.set(base, new Map());
    out.get(base)!.set(form, value);
  }
  return out;
}

function variables(s: string): string[] {
  return Array.from(s.matchAll(/\{\{\s*(\w+)\s*\}\}/g), (m) => m[1]).sort();
}

// Strings that are the same in every language by nature: the product's and
// platforms' names. Keys are "namespace:key".
const SAME_EVERYWHERE = [/^translation:app\.name$/, /^data:sources\.platforms\./];
// Words that happen to be spelt as in English.
const SAME_IN: Record<string, RegExp[]> = { pl: [/^data:overlay\.segment$/] };
const isSame = (ns: string, key: string, lang: string) =>
  [...SAME_EVERYWHERE, ...(SAME_IN[lang] ?? [])].some((re) => re.test(`${ns}:${key}`));

// Every namespace is checked the same way: the app's own strings
// ("translation") and each feature's.
const NAMESPACES: [string, Record<string, unknown>][] = [
  ["translation", resources],
  ["data", dataResources],
  ["editor", editorResources],
];

describe.each(NAMESPACES)("namespace %s", (nsName, ns) => {
  const en = messages("en", ns);

  describe.each(LANGUAGES.filter((l) => l !== "en"))("locale %s", (lang) => {
    const msgs = messages(lang, ns);
    const categories = new Intl.PluralRules(lang).resolvedOptions().pluralCategories;

    it("has every message of English and no other", () => {
      expect([...msgs.keys()].sort()).toEqual([...en.keys()].sort());
    });

    it("has exactly its language's plural forms for plural messages", () => {
      for (const [key, forms] of en) {
        const theirs = msgs.get(key);
        if (!theirs) continue;
        if (forms.has("")) {
          expect([...theirs.keys()], key).toEqual([""]);
        } else {
          expect([...theirs.keys()].sort(), key).toEqual([...categories].sort());
        }
      }
    });

    it("uses the same placeholders as English", () => {
      for (const [key, forms] of en) {
        const want = variables([...forms.values()].at(-1)!).filter((v) => v !== "count");
        for (const [form, text] of msgs.get(key) ?? []) {
          const got = variables(text).filter((v) => v !== "count");
          expect(got, `${key}${form ? "_" + form : ""}`).toEqual(want);
        }
      }
    });

    it("translates every user-facing string", () => {
      for (const [key, forms] of msgs) {
        if (isSame(nsName, key, lang)) continue;
        const english = en.get(key)!;
        for (const [form, text] of forms) {
          // A plural form is compared with English's form of the same
          // category: Polish "5 map" is a genitive plural, not English "1 map".
          const same = english.get(form) ?? english.get("other");
          expect(text.trim(), `${key}${form ? "_" + form : ""} is empty`).not.toBe("");
          expect(text, `${key}${form ? "_" + form : ""} is still English`).not.toBe(same);
        }
      }
    });
  });

  describe("English", () => {
    it("has its plural forms for every plural message", () => {
      for (const [key, forms] of en) {
        if (!forms.has("")) expect([...forms.keys()].sort(), key).toEqual(["one", "other"]);
      }
    });
  });
});

describe("script checks", () => {
  // Catch a file saved in the wrong language: each translation must be
  // written mostly in its own script or alphabet.
  const pattern: Record<string, RegExp> = {
    vi: /[ăâđêôơưàáạảãèéẹẻẽìíịỉĩòóọỏõùúụủũỳýỵỷỹ]/i,
    el: /[\u0370-\u03ff]/,
    pl: /[ąćęłńóśźż]/i,
  };
  it.each(Object.keys(pattern))("%s has its own letters in most messages", (lang) => {
    const texts = NAMESPACES.flatMap(([, ns]) => [...flatten(ns[lang] as Tree).values()]);
    const own = texts.filter((s) => pattern[lang].test(s)).length;
    expect(own / texts.length).toBeGreaterThan(lang === "pl" ? 0.4 : 0.7);
  });
});
