import { useEffect, useId, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import type { JourneyMap } from "../api";
import { bindingMatcher, stepBinding, type FunnelQuery, type FunnelResult, type FunnelStep, type Matcher } from "../data/api";
import { dayEnd, dayStart, formatCount, formatDuration, formatShare } from "../data/format";
import { EChart } from "./EChart";
import { themeColours, type ChartOption } from "./theme";
import { DateField, EventSelect, Status, useActivities, useData, useQuery } from "./common";
import { previousBound } from "./Overlay";

export interface FunnelStepSpec {
  label: string;
  matcher: Matcher;
}

// stepsFromMap builds "why do people leave here?": the funnel from the
// bound step before stepId to stepId, with their bindings as matchers.
export function stepsFromMap(map: JourneyMap, stepId: string): FunnelStepSpec[] | null {
  const step = map.stages.flatMap((s) => s.steps).find((s) => s.id === stepId);
  const prev = previousBound(map, stepId);
  const b = step && stepBinding(step);
  const pb = prev && stepBinding(prev);
  if (!step || !prev || !b || !pb) return null;
  return [
    { label: prev.name, matcher: bindingMatcher(pb) },
    { label: step.name, matcher: bindingMatcher(b) },
  ];
}

export function funnelOption(steps: FunnelStep[], labels: string[], names: { reached: string; dropped: string }): ChartOption {
  const c = themeColours();
  return {
    textStyle: { color: c.text },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    legend: { top: 0, data: [names.reached, names.dropped], textStyle: { color: c.text } },
    grid: { left: 60, right: 20, top: 40, bottom: 60 },
    xAxis: { type: "category", data: labels, axisLabel: { color: c.muted, width: 140, overflow: "truncate", interval: 0 } },
    yAxis: { type: "value", axisLabel: { color: c.muted }, splitLine: { lineStyle: { color: c.border } } },
    series: [
      { name: names.reached, type: "bar", stack: "f", data: steps.map((s) => s.customers), color: c.accent },
      { name: names.dropped, type: "bar", stack: "f", data: steps.map((s) => s.dropOff), color: "#e0715c" },
    ],
  };
}

// histogramOption draws the time-to-convert distribution of the last step
// from the first, in the server's bins.
export function histogramOption(step: FunnelStep | undefined, lang: string, name: string): ChartOption {
  const c = themeColours();
  const bins = step?.fromFirst?.histogram ?? [];
  return {
    textStyle: { color: c.text },
    tooltip: { trigger: "axis" },
    grid: { left: 60, right: 20, top: 20, bottom: 60 },
    xAxis: {
      type: "category",
      data: bins.map((b) => `${formatDuration(b.fromSeconds, lang)}–${b.toSeconds === null ? "∞" : formatDuration(b.toSeconds, lang)}`),
      axisLabel: { color: c.muted, rotate: 30 },
    },
    yAxis: { type: "value", axisLabel: { color: c.muted }, splitLine: { lineStyle: { color: c.border } } },
    series: [{ name, type: "bar", data: bins.map((b) => b.count), color: c.accent }],
  };
}

interface Props {
  params: URLSearchParams;
  map?: JourneyMap | null;
}

// FunnelView: conversion and drop-off per step, the time to convert, and a
// breakdown. Opened from a map step it starts from the step's funnel.
export function FunnelView({ params, map }: Props) {
  const { t, i18n } = useTranslation(["data", "translation"]);
  const lang = i18n.language;
  const data = useData();
  const acts = useActivities();
  const fromMap = map && params.get("step") ? stepsFromMap(map, params.get("step")!) : null;
  const [events, setEvents] = useState<string[]>(() => params.getAll("event"));
  const [windowSize, setWindowSize] = useState(params.get("window") ?? (fromMap ? "30d" : "7d"));
  const [order, setOrder] = useState<FunnelQuery["order"]>("ordered");
  const [breakdown, setBreakdown] = useState(params.get("breakdown") ?? "");
  const [from, setFrom] = useState(params.get("from") ?? "");
  const [to, setTo] = useState(params.get("to") ?? "");
  const ids = { win: useId(), order: useId(), bd: useId() };

  // Without steps of its own, the funnel starts from the two most common
  // events, so the page shows numbers at once.
  useEffect(() => {
    if (!fromMap && events.length === 0 && acts.length >= 2) setEvents([acts[0].event, acts[1].event]);
  }, [acts, fromMap, events.length]);

  const specs: FunnelStepSpec[] = fromMap ?? events.filter(Boolean).map((e) => ({ label: e, matcher: { event: e } }));
  const query: FunnelQuery | null =
    specs.length === 0
      ? null
      : {
          steps: specs.map((s) => s.matcher),
          window: windowSize,
          order,
          from: dayStart(from),
          to: dayEnd(to),
          breakdown: breakdown.trim() ? { property: breakdown.trim() } : undefined,
        };
  const key = JSON.stringify(query);
  const { result, error, loading } = useQuery<FunnelResult>(key, query ? () => data.funnel(query) : null);
  const labels = specs.map((s) => s.label);
  const names = { reached: t("funnel.reached"), dropped: t("funnel.dropped") };
  const opt = useMemo(() => (result ? funnelOption(result.steps, labels, names) : null), [result, key, lang]);
  const hist = useMemo(() => (result ? histogramOption(result.steps.at(-1), lang, t("funnel.customers")) : null), [result, lang, t]);

  return (
    <div className="stack">
      {fromMap && map && (
        <p className="notice">{t("funnel.fromMap", { from: fromMap[0].label, to: fromMap[1].label, map: map.name })}</p>
      )}
      {map && params.get("step") && !fromMap && <p className="notice">{t("funnel.noPrevious")}</p>}
      <div className="query-bar">
        {!fromMap && (
          <fieldset className="row">
            <legend>{t("funnel.steps")}</legend>
            {events.map((e, i) => (
              <div key={i} className="row tight">
                <EventSelect
                  label={t("funnel.step", { n: i + 1 })}
                  value={e}
                  activities={acts}
                  onChange={(v) => setEvents((es) => es.map((x, j) => (j === i ? v : x)))}
                />
                {events.length > 1 && (
                  <button
                    type="button"
                    className="icon-button"
                    aria-label={t("funnel.removeStep", { n: i + 1 })}
                    onClick={() => setEvents((es) => es.filter((_, j) => j !== i))}
                  >
                    <span aria-hidden="true">×</span>
                  </button>
                )}
              </div>
            ))}
            {events.length < 20 && (
              <button type="button" className="button align-end" onClick={() => setEvents((es) => [...es, acts[0]?.event ?? ""])}>
                {t("funnel.addStep")}
              </button>
            )}
          </fieldset>
        )}
        <div className="row">
          <div className="field">
            <label htmlFor={ids.win}>{t("funnel.window")}</label>
            <input id={ids.win} value={windowSize} size={6} onChange={(e) => setWindowSize(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor={ids.order}>{t("funnel.order")}</label>
            <select id={ids.order} value={order} onChange={(e) => setOrder(e.target.value as FunnelQuery["order"])}>
              <option value="ordered">{t("funnel.ordered")}</option>
              <option value="strict">{t("funnel.strict")}</option>
              <option value="any">{t("funnel.any")}</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor={ids.bd}>{t("funnel.breakdown")}</label>
            <select id={ids.bd} value={breakdown} onChange={(e) => setBreakdown(e.target.value)}>
              <option value="">{t("funnel.noBreakdown")}</option>
              {["channel", "context.device.type", "context.os.name", "context.locale", "context.campaign.source", "traits.plan"].map((p) => (
                <option key={p} value={p}>
                  {t(`props.${p.replace(/\./g, "_")}`, { defaultValue: p })}
                </option>
              ))}
            </select>
          </div>
          <DateField label={t("overlay.from")} value={from} onChange={setFrom} />
          <DateField label={t("overlay.to")} value={to} onChange={setTo} />
        </div>
      </div>
      <Status error={error} loading={loading} />
      {result && opt && (
        <>
          <EChart option={opt} label={t("funnel.chart")} />
          <table className="data-table" aria-label={t("funnel.table")}>
            <thead>
              <tr>
                <th scope="col">{t("funnel.stepCol")}</th>
                <th scope="col">{t("funnel.customers")}</th>
                <th scope="col">{t("funnel.fromPrevious")}</th>
                <th scope="col">{t("funnel.fromFirst")}</th>
                <th scope="col">{t("funnel.dropOff")}</th>
                <th scope="col">{t("funnel.median")}</th>
              </tr>
            </thead>
            <tbody>
              {result.steps.map((s, i) => (
                <tr key={i} data-step={i + 1}>
                  <th scope="row">
                    {i + 1}. {labels[i]}
                  </th>
                  <td data-metric="customers">{formatCount(s.customers, lang)}</td>
                  <td data-metric="conversion">{formatShare(s.conversionFromPrevious, lang)}</td>
                  <td>{formatShare(s.conversionFromFirst, lang)}</td>
                  <td data-metric="dropOff">{i === 0 ? "–" : formatCount(s.dropOff, lang)}</td>
                  <td data-metric="median">{formatDuration(s.medianSecondsFromPrevious, lang)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {result.steps.length > 1 && hist && (
            <section>
              <h3>{t("funnel.timeToConvert")}</h3>
              <EChart option={hist} label={t("funnel.histogram")} height={240} />
            </section>
          )}
          {result.breakdowns.length > 0 && (
            <section>
              <h3>{t("funnel.byValue", { property: breakdown })}</h3>
              <table className="data-table" aria-label={t("funnel.breakdownTable")}>
                <thead>
                  <tr>
                    <th scope="col">{t("funnel.value")}</th>
                    {labels.map((l, i) => (
                      <th key={i} scope="col">
                        {i + 1}. {l}
                      </th>
                    ))}
                    <th scope="col">{t("funnel.overall")}</th>
                  </tr>
                </thead>
                <tbody>
                  {result.breakdowns.map((b) => (
                    <tr key={b.value}>
                      <th scope="row">{b.value === "(none)" ? t("funnel.none") : b.value === "(other)" ? t("funnel.other") : b.value}</th>
                      {b.steps.map((s, i) => (
                        <td key={i}>{formatCount(s.customers, lang)}</td>
                      ))}
                      <td>{formatShare(b.steps.at(-1)?.conversionFromFirst ?? 0, lang)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          )}
        </>
      )}
    </div>
  );
}
