import { useId, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { MAP_KINDS, type JourneyMap, type MapKind } from "../api";
import { LANGUAGE_NAMES, LANGUAGES } from "../i18n";
import { EditableText } from "./EditableText";
import { MAX_TAG_LEN, MAX_TAGS, type Action } from "./model";

interface Props {
  map: JourneyMap;
  personaNames: string[];
  // dispatch makes the fields editable; viewers read them.
  dispatch?: (a: Action) => void;
  // fieldErrors are the server's complaints keyed by JSON path.
  fieldErrors: Record<string, string>;
}

// MapDetails shows the map's own fields under its name: description, goal,
// kind, content language, personas and tags. Editors change each in place,
// through the editor's model, so every change is undoable and autosaved.
export function MapDetails({ map, personaNames, dispatch, fieldErrors }: Props) {
  const { t } = useTranslation("editor");
  const { t: tc } = useTranslation();
  const lang = map.locale || undefined;
  const kindId = useId();
  const localeId = useId();
  const tagsId = useId();

  if (!dispatch) {
    return (
      <>
        {map.description && (
          <p className="map-desc" lang={lang}>
            {map.description}
          </p>
        )}
        {(map.goal || personaNames.length > 0 || (map.tags?.length ?? 0) > 0) && (
          <dl className="meta meta-row">
            {map.goal && (
              <div>
                <dt>{tc("map.goal")}</dt>
                <dd lang={lang}>{map.goal}</dd>
              </div>
            )}
            {personaNames.length > 0 && (
              <div>
                <dt>{tc("map.personas")}</dt>
                <dd>{personaNames.join(", ")}</dd>
              </div>
            )}
            {(map.tags?.length ?? 0) > 0 && (
              <div>
                <dt id={tagsId}>{t("map.tags")}</dt>
                <dd>
                  <ul className="tags chips" aria-labelledby={tagsId} lang={lang}>
                    {map.tags!.map((tag) => (
                      <li key={tag} className="tag">
                        {tag}
                      </li>
                    ))}
                  </ul>
                </dd>
              </div>
            )}
          </dl>
        )}
      </>
    );
  }

  // A locale outside the app's four languages stays selectable as it is,
  // so that opening the editor never changes it.
  const locales: string[] = ["", ...LANGUAGES];
  if (map.locale && !locales.includes(map.locale)) locales.push(map.locale);

  return (
    <div className="map-details">
      <div className="map-desc">
        <EditableText
          value={map.description ?? ""}
          placeholder={t("map.addDescription")}
          label={t("map.description")}
          multiline
          onCommit={(value) => dispatch({ type: "setMapText", field: "description", value })}
          error={fieldErrors.description}
          lang={lang}
        />
      </div>
      <dl className="meta meta-row map-fields">
        <div className="map-goal">
          <dt>{tc("map.goal")}</dt>
          <dd>
            <EditableText
              value={map.goal ?? ""}
              placeholder={t("map.addGoal")}
              label={t("map.goal")}
              multiline
              onCommit={(value) => dispatch({ type: "setMapText", field: "goal", value })}
              error={fieldErrors.goal}
              lang={lang}
            />
          </dd>
        </div>
        <div>
          <dt>
            <label htmlFor={kindId}>{t("map.kind")}</label>
          </dt>
          <dd>
            <select
              id={kindId}
              value={map.kind}
              aria-invalid={fieldErrors.kind ? true : undefined}
              onChange={(e) => dispatch({ type: "setKind", kind: e.target.value as MapKind })}
            >
              {MAP_KINDS.map((k) => (
                <option key={k} value={k}>
                  {tc(`kinds.${k}`)}
                </option>
              ))}
            </select>
            {fieldErrors.kind && <span className="field-error">{fieldErrors.kind}</span>}
          </dd>
        </div>
        <div>
          <dt>
            <label htmlFor={localeId}>{t("map.locale")}</label>
          </dt>
          <dd>
            <select
              id={localeId}
              value={map.locale ?? ""}
              aria-invalid={fieldErrors.locale ? true : undefined}
              onChange={(e) => dispatch({ type: "setMapText", field: "locale", value: e.target.value })}
            >
              {locales.map((l) => (
                <option key={l} value={l} lang={l || undefined}>
                  {l === "" ? t("map.localeUnset") : (LANGUAGE_NAMES as Record<string, string>)[l] ?? l}
                </option>
              ))}
            </select>
            {fieldErrors.locale && <span className="field-error">{fieldErrors.locale}</span>}
          </dd>
        </div>
        {personaNames.length > 0 && (
          <div>
            <dt>{tc("map.personas")}</dt>
            <dd>{personaNames.join(", ")}</dd>
          </div>
        )}
        <div>
          <dt id={tagsId}>{t("map.tags")}</dt>
          <dd>
            <Tags map={map} dispatch={dispatch} fieldErrors={fieldErrors} labelledBy={tagsId} />
          </dd>
        </div>
      </dl>
    </div>
  );
}

function Tags({ map, dispatch, fieldErrors, labelledBy }: { map: JourneyMap; dispatch: (a: Action) => void; fieldErrors: Record<string, string>; labelledBy: string }) {
  const { t } = useTranslation("editor");
  const [adding, setAdding] = useState(false);
  const [error, setError] = useState("");
  const addButton = useRef<HTMLButtonElement>(null);
  const tags = map.tags ?? [];
  const lang = map.locale || undefined;

  const refocus = () => requestAnimationFrame(() => addButton.current?.focus());
  const add = (raw: string) => {
    setAdding(false);
    refocus();
    const tag = raw.trim().replace(/\s+/g, " ");
    if (!tag) return;
    // The server would refuse it too; saying so here keeps the rest of the
    // map saving meanwhile.
    if (Array.from(tag).length > MAX_TAG_LEN) {
      setError(t("map.tagTooLong", { max: MAX_TAG_LEN }));
      return;
    }
    setError("");
    dispatch({ type: "addTag", tag });
  };

  return (
    <span className="tag-editor">
      <ul className="tags chips" aria-labelledby={labelledBy} lang={lang}>
        {tags.map((tag, i) => (
          <li key={tag} className="tag chip">
            <span>{tag}</span>
            <button
              type="button"
              className="icon-button small"
              aria-label={t("map.removeTag", { tag })}
              onClick={() => {
                dispatch({ type: "removeTag", tag });
                // The button goes away with its tag; the focus stays in the
                // tags rather than falling back to the page.
                refocus();
              }}
            >
              <span aria-hidden="true">✕</span>
            </button>
            {fieldErrors[`tags[${i}]`] && <span className="field-error">{fieldErrors[`tags[${i}]`]}</span>}
          </li>
        ))}
        {adding && (
          <li className="tag-new">
            <EditableText value="" editing label={t("map.newTag")} onCommit={add} onCancel={() => {
                setAdding(false);
                refocus();
              }}
              lang={lang}
            />
          </li>
        )}
      </ul>
      {!adding && tags.length < MAX_TAGS && (
        <button
          ref={addButton}
          type="button"
          className="button small"
          onClick={() => {
            setError("");
            setAdding(true);
          }}
        >
          <span aria-hidden="true">+</span> {t("map.addTag")}
        </button>
      )}
      {(error || fieldErrors.tags) && (
        <span className="field-error" role="alert">
          {error || fieldErrors.tags}
        </span>
      )}
    </span>
  );
}
