import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { ApiError, type JourneyMap, type Persona } from "../api";
import { useSession } from "../context";
import { absoluteTime, errorText, relativeTime } from "../format";
import { navigate } from "../router";
import { MapBoard } from "../map/MapBoard";

// MapPage loads one map and shows it. Saving, versions and the editor will
// live here; the board itself is MapBoard.
export function MapPage({ id }: { id: string }) {
  const { t, i18n } = useTranslation();
  const { api } = useSession();
  const [map, setMap] = useState<JourneyMap | null>(null);
  const [personas, setPersonas] = useState<Persona[]>([]);
  const [error, setError] = useState("");

  useEffect(() => {
    let live = true;
    Promise.all([api.map(id), api.personas()]).then(
      ([m, ps]) => {
        if (!live) return;
        setMap(m);
        setPersonas(ps);
      },
      (e) => {
        if (!live) return;
        setError(e instanceof ApiError && e.code === "not_found" ? t("map.notFound") : errorText(t, e));
      },
    );
    return () => {
      live = false;
    };
  }, [api, id, t]);

  useEffect(() => {
    if (map) document.title = `${map.name} · ${t("app.name")}`;
  }, [map, t]);

  const back = (
    <a
      href="/"
      className="back"
      onClick={(e) => {
        e.preventDefault();
        navigate({ page: "gallery" });
      }}
    >
      <span aria-hidden="true">←</span> {t("map.back")}
    </a>
  );

  if (error) {
    return (
      <div className="page">
        {back}
        <p className="error" role="alert">
          {error}
        </p>
      </div>
    );
  }
  if (!map) {
    return (
      <div className="page" aria-busy="true">
        {back}
        <p>{t("app.loading")}</p>
      </div>
    );
  }
  const names = (map.personaIds ?? []).map((pid) => personas.find((p) => p.id === pid)?.name ?? pid);
  return (
    <div className="page page-wide">
      {back}
      <div className="page-head">
        <h1 lang={map.locale || undefined}>{map.name}</h1>
        <span className="badge">{t(`kinds.${map.kind}`)}</span>
        <span className="muted">{t("map.version", { version: map.version })}</span>
        <span className="muted">{t("map.readOnly")}</span>
      </div>
      {map.updatedAt && (
        <p className="muted">
          <time dateTime={map.updatedAt} title={absoluteTime(map.updatedAt, i18n.language)}>
            {t("map.updated", { when: relativeTime(map.updatedAt, i18n.language), who: map.updatedBy ?? "" })}
          </time>
        </p>
      )}
      {map.description && (
        <p className="map-desc" lang={map.locale || undefined}>
          {map.description}
        </p>
      )}
      <dl className="meta meta-row">
        {map.goal && (
          <div>
            <dt>{t("map.goal")}</dt>
            <dd lang={map.locale || undefined}>{map.goal}</dd>
          </div>
        )}
        {names.length > 0 && (
          <div>
            <dt>{t("map.personas")}</dt>
            <dd>{names.join(", ")}</dd>
          </div>
        )}
      </dl>
      <MapBoard map={map} />
    </div>
  );
}
