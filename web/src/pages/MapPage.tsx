import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { ApiError, type JourneyMap, type Persona } from "../api";
import { useSession } from "../context";
import { errorText } from "../format";
import { navigate } from "../router";
import { Editor } from "../editor/Editor";
import { useMapData } from "../analysis/MapData";

// MapPage loads one map and the workspace's personas, then hands them to
// the editor, which is read-only for viewers.
export function MapPage({ id }: { id: string }) {
  const { t } = useTranslation();
  const { api, canEdit } = useSession();
  const [map, setMap] = useState<JourneyMap | null>(null);
  const [personas, setPersonas] = useState<Persona[]>([]);
  const [error, setError] = useState("");
  // Binding steps to data and the live overlay hook into the editor.
  const data = useMapData(map, canEdit);

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
  return (
    <div className="page page-wide">
      {back}
      <Editor api={api} initial={map} personas={personas} canEdit={canEdit} {...data} />
    </div>
  );
}
