import { useEffect, useId, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import type { TrendsQuery, TrendsResult } from "../data/api";
import { dayEnd, dayStart, formatCount, formatDay, formatShare } from "../data/format";
import { EChart } from "./EChart";
import { themeColours, type ChartOption } from "./theme";
import { DateField, EventSelect, Status, useActivities, useData, useQuery } from "./common";

function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

// trendsOption draws the range and the previous period of the same length
// on one axis, period by period, so the two can be compared at a glance.
export function trendsOption(r: TrendsResult, lang: string, names: { current: string; previous: string }): ChartOption {
  const c = themeColours();
  const conv = r.measure === "conversion";
  return {
    textStyle: { color: c.text },
    tooltip: { trigger: "axis" },
    legend: { top: 0, data: [names.current, names.previous], textStyle: { color: c.text } },
    grid: { left: 60, right: 20, top: 40, bottom: 50 },
    xAxis: { type: "category", data: r.series.map((p) => formatDay(p.start, lang)), axisLabel: { color: c.muted } },
    yAxis: {
      type: "value",
      axisLabel: { color: c.muted, formatter: conv ? (v: number) => formatShare(v, lang) : undefined },
      splitLine: { lineStyle: { color: c.border } },
    },
    series: [
      { name: names.current, type: "line", data: r.series.map((p) => p.value), color: c.accent },
      { name: names.previous, type: "line", data: r.previous.map((p) => p.value), lineStyle: { type: "dashed" }, color: c.muted },
    ],
  };
}

// TrendsView: a step's volume or a funnel's conversion per day, week or
// month, with the previous period beside it.
export function TrendsView({ params, now = new Date() }: { params: URLSearchParams; now?: Date }) {
  const { t, i18n } = useTranslation(["data", "translation"]);
  const lang = i18n.language;
  const data = useData();
  const acts = useActivities();
  const [measure, setMeasure] = useState<"volume" | "conversion">("volume");
  const [first, setFirst] = useState(params.get("event") ?? "");
  const [second, setSecond] = useState("");
  const [interval, setInterval] = useState<"day" | "week" | "month">("week");
  const [from, setFrom] = useState(params.get("from") ?? isoDay(new Date(now.getTime() - 90 * 86400e3)));
  const [to, setTo] = useState(params.get("to") ?? isoDay(now));
  const ids = { m: useId(), i: useId() };
  useEffect(() => {
    if (!first && acts.length) setFirst(acts[0].event);
    if (!second && acts.length > 1) setSecond(acts[1].event);
  }, [acts, first, second]);
  const q: TrendsQuery | null =
    !first || !dayStart(from) || !dayEnd(to)
      ? null
      : measure === "volume"
        ? { measure, event: { event: first }, interval, from: dayStart(from)!, to: dayEnd(to)! }
        : { measure, steps: [{ event: first }, { event: second || first }], interval, from: dayStart(from)!, to: dayEnd(to)! };
  const key = JSON.stringify(q);
  const { result, error, loading } = useQuery<TrendsResult>(key, q ? () => data.trends(q) : null);
  const opt = useMemo(
    () => (result ? trendsOption(result, lang, { current: t("trends.current"), previous: t("trends.previous") }) : null),
    [result, lang, t],
  );
  const val = (v: number) => (result?.measure === "conversion" ? formatShare(v, lang) : formatCount(v, lang));
  return (
    <div className="stack">
      <div className="query-bar row">
        <div className="field">
          <label htmlFor={ids.m}>{t("trends.measure")}</label>
          <select id={ids.m} value={measure} onChange={(e) => setMeasure(e.target.value as "volume" | "conversion")}>
            <option value="volume">{t("trends.volume")}</option>
            <option value="conversion">{t("trends.conversion")}</option>
          </select>
        </div>
        <EventSelect label={measure === "volume" ? t("trends.event") : t("trends.firstStep")} value={first} activities={acts} onChange={setFirst} />
        {measure === "conversion" && <EventSelect label={t("trends.lastStep")} value={second} activities={acts} onChange={setSecond} />}
        <div className="field">
          <label htmlFor={ids.i}>{t("trends.interval")}</label>
          <select id={ids.i} value={interval} onChange={(e) => setInterval(e.target.value as "day" | "week" | "month")}>
            <option value="day">{t("retention.day")}</option>
            <option value="week">{t("retention.week")}</option>
            <option value="month">{t("retention.month")}</option>
          </select>
        </div>
        <DateField label={t("overlay.from")} value={from} onChange={setFrom} />
        <DateField label={t("overlay.to")} value={to} onChange={setTo} />
      </div>
      <Status error={error} loading={loading} />
      {result && opt && (
        <>
          <dl className="kpis">
            <div>
              <dt>{t("trends.current")}</dt>
              <dd data-metric="total">{val(result.total.value)}</dd>
            </div>
            <div>
              <dt>{t("trends.previous")}</dt>
              <dd data-metric="previousTotal">{val(result.previousTotal.value)}</dd>
            </div>
          </dl>
          <EChart option={opt} label={t("trends.chart")} />
          <table className="data-table" aria-label={t("trends.table")}>
            <thead>
              <tr>
                <th scope="col">{t("trends.period")}</th>
                <th scope="col">{t("trends.current")}</th>
                <th scope="col">{t("trends.previous")}</th>
              </tr>
            </thead>
            <tbody>
              {result.series.map((p, i) => (
                <tr key={p.start}>
                  <th scope="row">{formatDay(p.start, lang)}</th>
                  <td>{val(p.value)}</td>
                  <td>{result.previous[i] ? val(result.previous[i].value) : ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}
