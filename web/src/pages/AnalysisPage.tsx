import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import type { JourneyMap } from "../api";
import { useSession } from "../context";
import { errorText } from "../format";
import { ANALYSIS_KINDS, analysisHref, go, type AnalysisKind } from "../analysis/links";
import { FunnelView } from "../analysis/FunnelView";
import { PathsView } from "../analysis/PathsView";
import { ProcessView } from "../analysis/ProcessView";
import { VariantsView } from "../analysis/VariantsView";
import { RetentionView } from "../analysis/RetentionView";
import { TrendsView } from "../analysis/TrendsView";
import "../data/data.css";

// AnalysisPage holds the analysis views, one per tab. Its search string
// carries what a link asked for: a map and step for "why do people leave
// here?", a range, an event.
export default function AnalysisPage({ kind, search }: { kind: AnalysisKind; search: string }) {
  const { t } = useTranslation(["data", "translation"]);
  const { api } = useSession();
  const params = new URLSearchParams(search);
  const mapId = params.get("map");
  const [map, setMap] = useState<JourneyMap | null>(null);
  const [error, setError] = useState("");

  useEffect(() => {
    document.title = `${t(`analysis.${kind}`)} · trek`;
  }, [kind, t]);

  useEffect(() => {
    if (!mapId) return;
    let live = true;
    api.map(mapId).then(
      (m) => live && setMap(m),
      (e) => live && setError(errorText(t, e)),
    );
    return () => {
      live = false;
    };
  }, [api, mapId, t]);

  const view = () => {
    if (mapId && !map) return error ? null : <p aria-busy="true">{t("common.loading")}</p>;
    switch (kind) {
      case "funnel":
        return <FunnelView params={params} map={map} />;
      case "paths":
        return <PathsView params={params} />;
      case "process":
        return <ProcessView params={params} />;
      case "variants":
        return <VariantsView params={params} />;
      case "retention":
        return <RetentionView params={params} />;
      case "trends":
        return <TrendsView params={params} />;
    }
  };

  return (
    <div className="page page-wide analysis-page">
      {map && (
        <a
          href={`/maps/${encodeURIComponent(map.id)}`}
          className="back"
          onClick={(e) => {
            e.preventDefault();
            go(`/maps/${encodeURIComponent(map.id)}`);
          }}
        >
          <span aria-hidden="true">←</span> {t("analysis.backToMap", { map: map.name })}
        </a>
      )}
      <h1>{t("analysis.title")}</h1>
      <nav className="tabs" aria-label={t("analysis.views")}>
        {ANALYSIS_KINDS.map((k) => {
          // A map and range travel between views; the step-specific
          // parameters stay with the funnel.
          const href = analysisHref(k, { from: params.get("from") ?? undefined, to: params.get("to") ?? undefined });
          return (
            <a
              key={k}
              href={href}
              aria-current={k === kind ? "page" : undefined}
              onClick={(e) => {
                e.preventDefault();
                go(href);
              }}
            >
              {t(`analysis.${k}`)}
            </a>
          );
        })}
      </nav>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div key={`${kind}?${search}`}>{view()}</div>
    </div>
  );
}
