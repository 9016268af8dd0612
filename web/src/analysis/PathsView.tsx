import { useId, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import type { PathsQuery, PathsResult } from "../data/api";
import { dayEnd, dayStart, formatCount } from "../data/format";
import { EChart } from "./EChart";
import { themeColours, type ChartOption } from "./theme";
import { DateField, EventSelect, Status, useActivities, useData, useQuery } from "./common";

// nodeLabel names a Sankey node in the UI's language: "(other)", "(end)"
// and "(start)" are the server's placeholders.
function nodeLabel(n: { event: string; kind?: string }, t: (k: string) => string): string {
  return n.kind ? t(`paths.${n.kind}`) : n.event;
}

export function sankeyOption(r: PathsResult, t: (k: string) => string): ChartOption {
  const c = themeColours();
  return {
    textStyle: { color: c.text },
    tooltip: { trigger: "item" },
    series: [
      {
        type: "sankey",
        left: 10,
        right: 140,
        top: 10,
        bottom: 10,
        nodeGap: 10,
        emphasis: { focus: "adjacency" },
        lineStyle: { color: "gradient", opacity: 0.35 },
        label: { color: c.text },
        // Node ids carry the step, so one event at two steps stays two nodes.
        data: r.nodes.map((n) => ({ name: n.id, value: n.customers, label: { formatter: nodeLabel(n, t) } })),
        links: r.links.map((l) => ({ source: l.source, target: l.target, value: l.customers })),
      },
    ],
  };
}

export function PathsView({ params }: { params: URLSearchParams }) {
  const { t, i18n } = useTranslation(["data", "translation"]);
  const lang = i18n.language;
  const data = useData();
  const acts = useActivities();
  const [anchor, setAnchor] = useState(params.get("event") ?? "");
  const [direction, setDirection] = useState<"forward" | "backward">("forward");
  const [steps, setSteps] = useState(4);
  const [topN, setTopN] = useState(6);
  const [collapse, setCollapse] = useState(true);
  const [from, setFrom] = useState(params.get("from") ?? "");
  const [to, setTo] = useState(params.get("to") ?? "");
  const ids = { dir: useId(), steps: useId(), top: useId(), col: useId() };
  const q: PathsQuery = {
    anchor: anchor ? { event: anchor } : undefined,
    direction,
    steps,
    topN,
    collapseRepeats: collapse,
    from: dayStart(from),
    to: dayEnd(to),
  };
  const key = JSON.stringify(q);
  const { result, error, loading } = useQuery<PathsResult>(key, () => data.paths(q));
  const opt = useMemo(() => (result ? sankeyOption(result, t) : null), [result, t]);
  const byId = new Map((result?.nodes ?? []).map((n) => [n.id, n]));
  return (
    <div className="stack">
      <div className="query-bar row">
        <EventSelect label={t("paths.anchor")} value={anchor} activities={acts} onChange={setAnchor} anyLabel={t("paths.journeyStart")} />
        <div className="field">
          <label htmlFor={ids.dir}>{t("paths.direction")}</label>
          <select id={ids.dir} value={direction} onChange={(e) => setDirection(e.target.value as "forward" | "backward")}>
            <option value="forward">{t("paths.forward")}</option>
            <option value="backward">{t("paths.backward")}</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.steps}>{t("paths.steps")}</label>
          <input id={ids.steps} type="number" min={1} max={10} value={steps} onChange={(e) => setSteps(Math.max(1, Math.min(10, Number(e.target.value) || 1)))} />
        </div>
        <div className="field">
          <label htmlFor={ids.top}>{t("paths.topN")}</label>
          <input id={ids.top} type="number" min={1} max={100} value={topN} onChange={(e) => setTopN(Math.max(1, Math.min(100, Number(e.target.value) || 1)))} />
        </div>
        <label className="check align-end" htmlFor={ids.col}>
          <input id={ids.col} type="checkbox" checked={collapse} onChange={(e) => setCollapse(e.target.checked)} />
          {t("paths.collapse")}
        </label>
        <DateField label={t("overlay.from")} value={from} onChange={setFrom} />
        <DateField label={t("overlay.to")} value={to} onChange={setTo} />
      </div>
      <Status error={error} loading={loading} />
      {result && opt && (
        <>
          <p>{t("paths.customers", { count: result.customers, n: formatCount(result.customers, lang) })}</p>
          <EChart option={opt} label={t("paths.chart")} height={480} />
          <details>
            <summary>{t("paths.links")}</summary>
            <table className="data-table">
              <thead>
                <tr>
                  <th scope="col">{t("paths.fromCol")}</th>
                  <th scope="col">{t("paths.toCol")}</th>
                  <th scope="col">{t("funnel.customers")}</th>
                </tr>
              </thead>
              <tbody>
                {result.links.map((l) => {
                  const a = byId.get(l.source);
                  const b = byId.get(l.target);
                  return (
                    <tr key={`${l.source}>${l.target}`}>
                      <td>{a ? `${a.step}. ${nodeLabel(a, t)}` : l.source}</td>
                      <td>{b ? `${b.step}. ${nodeLabel(b, t)}` : l.target}</td>
                      <td>{formatCount(l.customers, lang)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </details>
        </>
      )}
    </div>
  );
}
