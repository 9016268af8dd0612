import { useCallback, useEffect, useId, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { MAP_KINDS, type MapSummary, type Persona } from "../api";
import { useSession } from "../context";
import { absoluteTime, errorText, relativeTime, truncate } from "../format";
import { navigate, routePath } from "../router";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { NewMapDialog } from "../components/NewMapDialog";

const SEARCH_DELAY_MS = 250;
const MAX_NAME = 200; // the server's limit on a map name, in characters

export function GalleryPage() {
  const { t, i18n } = useTranslation();
  const { api, canEdit } = useSession();
  const ids = { q: useId(), kind: useId(), persona: useId(), tag: useId(), heading: useId() };
  const [query, setQuery] = useState("");
  const [q, setQ] = useState("");
  const [kind, setKind] = useState("");
  const [persona, setPersona] = useState("");
  const [tag, setTag] = useState("");
  const [maps, setMaps] = useState<MapSummary[] | null>(null);
  const [personas, setPersonas] = useState<Persona[]>([]);
  const [knownTags, setKnownTags] = useState<string[]>([]);
  const [error, setError] = useState("");
  const [status, setStatus] = useState("");
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<MapSummary | null>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    document.title = `${t("gallery.title")} · ${t("app.name")}`;
  }, [t]);

  useEffect(() => {
    const h = setTimeout(() => setQ(query.trim()), SEARCH_DELAY_MS);
    return () => clearTimeout(h);
  }, [query]);

  useEffect(() => {
    let live = true;
    api.personas().then(
      (ps) => live && setPersonas(ps),
      (e) => live && setError(errorText(t, e)),
    );
    return () => {
      live = false;
    };
  }, [api, t, reload]);

  useEffect(() => {
    let live = true;
    api.maps({ q, kind, persona, tag }).then(
      (ms) => {
        if (!live) return;
        setMaps(ms);
        setError("");
        // Tags offered in the filter are every tag seen so far, so that
        // narrowing the list does not hide the other tags.
        setKnownTags((old) => Array.from(new Set([...old, ...ms.flatMap((m) => m.tags)])).sort());
      },
      (e) => live && setError(errorText(t, e)),
    );
    return () => {
      live = false;
    };
  }, [api, t, q, kind, persona, tag, reload]);

  const personaName = useMemo(() => new Map(personas.map((p) => [p.id, p.name])), [personas]);
  const filtered = q !== "" || kind !== "" || persona !== "" || tag !== "";
  const refresh = useCallback(() => setReload((n) => n + 1), []);

  const duplicate = async (m: MapSummary) => {
    try {
      const name = truncate(t("gallery.copyName", { name: m.name }), MAX_NAME);
      const copy = await api.duplicateMap(m.id, name);
      setStatus(t("gallery.duplicated", { name: copy.name }));
      refresh();
    } catch (e) {
      setError(errorText(t, e));
    }
  };

  return (
    <div className="page">
      <div className="page-head">
        <h1 id={ids.heading}>{t("gallery.title")}</h1>
        {canEdit && (
          <button type="button" className="button primary" onClick={() => setCreating(true)}>
            {t("gallery.newMap")}
          </button>
        )}
      </div>
      {!canEdit && <p className="muted">{t("gallery.readOnlyRole")}</p>}

      <div role="search" className="filters" aria-label={t("gallery.filters")}>
        <div className="field grow">
          <label htmlFor={ids.q}>{t("gallery.search")}</label>
          <input
            id={ids.q}
            type="search"
            value={query}
            placeholder={t("gallery.searchPlaceholder")}
            onChange={(e) => setQuery(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={ids.kind}>{t("gallery.kind")}</label>
          <select id={ids.kind} value={kind} onChange={(e) => setKind(e.target.value)}>
            <option value="">{t("gallery.allKinds")}</option>
            {MAP_KINDS.map((k) => (
              <option key={k} value={k}>
                {t(`kinds.${k}`)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.persona}>{t("gallery.persona")}</label>
          <select id={ids.persona} value={persona} onChange={(e) => setPersona(e.target.value)}>
            <option value="">{t("gallery.allPersonas")}</option>
            {personas.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.tag}>{t("gallery.tag")}</label>
          <select id={ids.tag} value={tag} onChange={(e) => setTag(e.target.value)}>
            <option value="">{t("gallery.allTags")}</option>
            {knownTags.map((tg) => (
              <option key={tg} value={tg}>
                {tg}
              </option>
            ))}
          </select>
        </div>
        {filtered && (
          <button
            type="button"
            className="button"
            onClick={() => {
              setQuery("");
              setQ("");
              setKind("");
              setPersona("");
              setTag("");
            }}
          >
            {t("gallery.clearFilters")}
          </button>
        )}
      </div>

      <div className="live" role="status" aria-live="polite">
        {status && (
          <p className="notice">
            {status}{" "}
            <button type="button" className="link-button" onClick={() => setStatus("")}>
              {t("common.dismiss")}
            </button>
          </p>
        )}
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}

      {maps === null ? (
        <p aria-busy="true">{t("app.loading")}</p>
      ) : (
        <>
          <p className="muted">{t("gallery.count", { count: maps.length })}</p>
          {maps.length === 0 ? (
            <p className="empty">{filtered ? t("gallery.noMatch") : t("gallery.empty")}</p>
          ) : (
            <ul className="cards" aria-labelledby={ids.heading}>
              {maps.map((m) => (
                <li key={m.id} className="card" data-map-id={m.id}>
                  <h2 className="card-title">
                    <a
                      href={routePath({ page: "map", id: m.id })}
                      onClick={(e) => {
                        e.preventDefault();
                        navigate({ page: "map", id: m.id });
                      }}
                    >
                      {m.name}
                    </a>
                  </h2>
                  <p className="badges">
                    <span className={`badge kind-${m.kind}`}>{t(`kinds.${m.kind}`)}</span>
                    <span className="muted">
                      {t("gallery.stages", { count: m.stages })} · {t("gallery.steps", { count: m.steps })}
                    </span>
                  </p>
                  {m.description && <p className="card-desc">{m.description}</p>}
                  <dl className="meta">
                    <div>
                      <dt>{t("gallery.persona")}</dt>
                      <dd>
                        {m.personaIds.length
                          ? m.personaIds.map((id) => personaName.get(id) ?? id).join(", ")
                          : t("gallery.noPersona")}
                      </dd>
                    </div>
                    <div>
                      <dt>{t("gallery.lastChange")}</dt>
                      <dd>
                        <time dateTime={m.updatedAt} title={absoluteTime(m.updatedAt, i18n.language)}>
                          {t("gallery.changedBy", {
                            when: relativeTime(m.updatedAt, i18n.language),
                            who: m.updatedBy,
                          })}
                        </time>
                      </dd>
                    </div>
                    {m.tags.length > 0 && (
                      <div>
                        <dt>{t("gallery.tags")}</dt>
                        <dd className="tags">
                          {m.tags.map((tg) => (
                            <span key={tg} className="tag">
                              {tg}
                            </span>
                          ))}
                        </dd>
                      </div>
                    )}
                  </dl>
                  {canEdit && (
                    <div className="card-actions">
                      <button
                        type="button"
                        className="button"
                        aria-label={t("gallery.duplicateLabel", { name: m.name })}
                        onClick={() => void duplicate(m)}
                      >
                        {t("gallery.duplicate")}
                      </button>
                      <button
                        type="button"
                        className="button danger-outline"
                        aria-label={t("gallery.deleteLabel", { name: m.name })}
                        onClick={() => setDeleting(m)}
                      >
                        {t("gallery.delete")}
                      </button>
                    </div>
                  )}
                </li>
              ))}
            </ul>
          )}
        </>
      )}

      {creating && (
        <NewMapDialog
          onClose={() => setCreating(false)}
          onCreated={(m) => {
            setCreating(false);
            navigate({ page: "map", id: m.id });
          }}
        />
      )}
      {deleting && (
        <ConfirmDialog
          title={t("confirmDelete.title")}
          body={t("confirmDelete.body", { name: deleting.name, count: deleting.version })}
          confirmLabel={t("confirmDelete.confirm")}
          busyLabel={t("confirmDelete.deleting")}
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            await api.deleteMap(deleting.id);
            setStatus(t("gallery.deleted", { name: deleting.name }));
            setDeleting(null);
            refresh();
          }}
        />
      )}
    </div>
  );
}
