import { useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { LANGUAGES, LANGUAGE_NAMES, isLanguage, rememberLanguage } from "../i18n";
import { THEMES, applyTheme, initialTheme, type Theme } from "../theme";

// Preferences are the language and theme pickers, shown before and after
// logging in; both choices are remembered in this browser.
export function Preferences() {
  const { t, i18n } = useTranslation();
  const langId = useId();
  const themeId = useId();
  const [theme, setTheme] = useState<Theme>(initialTheme);
  const themeLabel: Record<Theme, string> = {
    system: t("header.themeSystem"),
    light: t("header.themeLight"),
    dark: t("header.themeDark"),
  };
  return (
    <div className="prefs">
      <div className="field-inline">
        <label htmlFor={langId}>{t("header.language")}</label>
        <select
          id={langId}
          value={i18n.resolvedLanguage}
          onChange={(e) => {
            const l = e.target.value;
            if (!isLanguage(l)) return;
            rememberLanguage(l);
            void i18n.changeLanguage(l);
          }}
        >
          {LANGUAGES.map((l) => (
            <option key={l} value={l} lang={l}>
              {LANGUAGE_NAMES[l]}
            </option>
          ))}
        </select>
      </div>
      <div className="field-inline">
        <label htmlFor={themeId}>{t("header.theme")}</label>
        <select
          id={themeId}
          value={theme}
          onChange={(e) => {
            const v = e.target.value as Theme;
            setTheme(v);
            applyTheme(v);
          }}
        >
          {THEMES.map((th) => (
            <option key={th} value={th}>
              {themeLabel[th]}
            </option>
          ))}
        </select>
      </div>
    </div>
  );
}
