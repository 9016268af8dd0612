import { useEffect, useId, useMemo, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { MAP_KINDS, type JourneyMap, type MapKind, type TemplateSummary } from "../api";
import { useSession } from "../context";
import { errorText } from "../format";
import { LANGUAGES, LANGUAGE_NAMES, isLanguage, type Language } from "../i18n";
import { Modal } from "./Modal";

const INDUSTRIES = ["retail", "travel", "banking", "saas", "telecom", "healthcare", "insurance", "cross_industry"];

interface Props {
  onClose: () => void;
  onCreated: (m: JourneyMap) => void;
}

// NewMapDialog creates a map from one of trek's templates, in any of its
// languages, or a blank map of a chosen kind.
export function NewMapDialog({ onClose, onCreated }: Props) {
  const { t, i18n } = useTranslation();
  const { api } = useSession();
  const ids = { lang: useId(), industry: useId(), name: useId(), kind: useId(), persona: useId(), preview: useId() };
  const uiLang = isLanguage(i18n.resolvedLanguage) ? i18n.resolvedLanguage : "en";
  const [source, setSource] = useState<"template" | "blank">("template");
  const [locale, setLocale] = useState<Language>(uiLang);
  const [industry, setIndustry] = useState("");
  const [templates, setTemplates] = useState<TemplateSummary[] | null>(null);
  const [chosen, setChosen] = useState("");
  const [name, setName] = useState("");
  const [nameTouched, setNameTouched] = useState(false);
  const [kind, setKind] = useState<MapKind>("current_state");
  const [withPersona, setWithPersona] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");

  useEffect(() => {
    let live = true;
    setTemplates(null);
    api.templates(locale).then(
      (ts) => {
        if (!live) return;
        setTemplates(ts);
        setChosen((c) => (ts.some((x) => x.id === c) ? c : (ts[0]?.id ?? "")));
      },
      (e) => live && setError(errorText(t, e)),
    );
    return () => {
      live = false;
    };
  }, [api, t, locale]);

  const shown = useMemo(
    () => (templates ?? []).filter((x) => industry === "" || x.industry === industry),
    [templates, industry],
  );
  const template = shown.find((x) => x.id === chosen) ?? shown[0];

  // Until the user types a name of their own, the name follows the template.
  useEffect(() => {
    if (!nameTouched && source === "template") setName(template?.name ?? "");
  }, [template, nameTouched, source]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const n = name.trim();
    if (source === "blank" && n === "") {
      setError(t("newMap.nameRequired"));
      return;
    }
    setBusy(true);
    setError("");
    try {
      const m =
        source === "template" && template
          ? await api.createFromTemplate({ template: template.id, locale, name: n || undefined, withPersona })
          : await api.createMap({ name: n, kind, stages: [{ name: t("newMap.firstStage"), steps: [] }] });
      onCreated(m);
    } catch (err) {
      setError(errorText(t, err));
      setBusy(false);
    }
  };

  return (
    <Modal
      title={t("newMap.title")}
      onClose={onClose}
      wide
      footer={
        <>
          <button type="button" className="button" onClick={onClose}>
            {t("common.cancel")}
          </button>
          <button
            type="submit"
            form="new-map-form"
            className="button primary"
            disabled={busy || (source === "template" && !template)}
          >
            {busy ? t("newMap.creating") : t("newMap.create")}
          </button>
        </>
      }
    >
      <form id="new-map-form" onSubmit={submit} className="stack" noValidate>
        <fieldset className="segmented">
          <legend>{t("newMap.source")}</legend>
          <label>
            <input
              type="radio"
              name="source"
              value="template"
              checked={source === "template"}
              onChange={() => setSource("template")}
              data-autofocus
            />
            {t("newMap.fromTemplate")}
          </label>
          <label>
            <input
              type="radio"
              name="source"
              value="blank"
              checked={source === "blank"}
              onChange={() => {
                setSource("blank");
                if (!nameTouched) setName("");
              }}
            />
            {t("newMap.blank")}
          </label>
        </fieldset>

        {source === "template" ? (
          <>
            <div className="row">
              <div className="field">
                <label htmlFor={ids.lang}>{t("newMap.templateLanguage")}</label>
                <select
                  id={ids.lang}
                  value={locale}
                  onChange={(e) => isLanguage(e.target.value) && setLocale(e.target.value)}
                >
                  {LANGUAGES.map((l) => (
                    <option key={l} value={l} lang={l}>
                      {LANGUAGE_NAMES[l]}
                    </option>
                  ))}
                </select>
              </div>
              <div className="field">
                <label htmlFor={ids.industry}>{t("newMap.industry")}</label>
                <select id={ids.industry} value={industry} onChange={(e) => setIndustry(e.target.value)}>
                  <option value="">{t("newMap.allIndustries")}</option>
                  {INDUSTRIES.map((ind) => (
                    <option key={ind} value={ind}>
                      {t(`industries.${ind}`)}
                    </option>
                  ))}
                </select>
              </div>
            </div>
            <div className="template-picker">
              <fieldset className="template-list">
                <legend>{t("newMap.templates")}</legend>
                {templates === null ? (
                  <p aria-busy="true">{t("app.loading")}</p>
                ) : shown.length === 0 ? (
                  <p>{t("newMap.noTemplates")}</p>
                ) : (
                  shown.map((x) => (
                    <label key={x.id} className={x.id === template?.id ? "template-option selected" : "template-option"}>
                      <input
                        type="radio"
                        name="template"
                        value={x.id}
                        checked={x.id === template?.id}
                        onChange={() => setChosen(x.id)}
                      />
                      <span lang={locale}>
                        <strong>{x.name}</strong>
                        <span className="muted small">
                          {t(`kinds.${x.kind}`)} · {t(`industries.${x.industry}`)}
                        </span>
                      </span>
                    </label>
                  ))
                )}
              </fieldset>
              <section className="template-preview" aria-labelledby={ids.preview} lang={locale}>
                <h3 id={ids.preview}>{t("newMap.preview")}</h3>
                {template && (
                  <>
                    <p className="preview-name">{template.name}</p>
                    <p className="muted">{template.description}</p>
                    <p className="muted">{t("newMap.previewPersona", { name: template.persona })}</p>
                    <ol className="preview-stages">
                      {template.stages.map((st) => (
                        <li key={st.id}>
                          <strong>{st.name}</strong>
                          <ul>
                            {st.steps.map((s, i) => (
                              <li key={i}>{s}</li>
                            ))}
                          </ul>
                        </li>
                      ))}
                    </ol>
                  </>
                )}
              </section>
            </div>
            <label className="check">
              <input type="checkbox" checked={withPersona} onChange={(e) => setWithPersona(e.target.checked)} />
              {t("newMap.withPersona")}
            </label>
          </>
        ) : (
          <div className="field">
            <label htmlFor={ids.kind}>{t("newMap.kind")}</label>
            <select id={ids.kind} value={kind} onChange={(e) => setKind(e.target.value as MapKind)}>
              {MAP_KINDS.map((k) => (
                <option key={k} value={k}>
                  {t(`kinds.${k}`)}
                </option>
              ))}
            </select>
          </div>
        )}
        <div className="field">
          <label htmlFor={ids.name}>{t("newMap.name")}</label>
          <input
            id={ids.name}
            value={name}
            maxLength={200}
            aria-required={source === "blank"}
            onChange={(e) => {
              setName(e.target.value);
              setNameTouched(true);
            }}
          />
        </div>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </Modal>
  );
}
