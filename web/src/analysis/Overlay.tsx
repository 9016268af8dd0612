import { Suspense, lazy, useEffect, useId, useMemo, useState, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import type { JourneyMap, Step } from "../api";
import { useSession } from "../context";
import { errorText } from "../format";
import { CHANNELS, DataApi, stepBinding, type Activity, type Channel, type MapMetrics, type StepMetrics } from "../data/api";
import { dayEnd, dayStart, formatCount, formatDuration, formatShare } from "../data/format";
import { NO_SEGMENT, toSegment, type SegmentChoice } from "../data/segment";
import { themeColours, type ChartOption } from "./theme";

// The chart library loads with the first chart, not with the map page.
const EChart = lazy(() => import("./EChart").then((m) => ({ default: m.EChart })));
import { emotionFromMetrics, type Measured } from "./emotion";
import { analysisHref, go } from "./links";
import "../data/data.css";

export interface OverlayFilter {
  from: string; // YYYY-MM-DD or ""
  to: string;
  segment: SegmentChoice;
}

export const NO_FILTER: OverlayFilter = { from: "", to: "", segment: NO_SEGMENT };

// metricsParams turns the picker's state into the metrics endpoint's
// parameters; the "to" day is included.
export function metricsParams(f: OverlayFilter) {
  return { from: dayStart(f.from), to: dayEnd(f.to), segment: toSegment(f.segment) };
}

export interface OverlayData {
  metrics: MapMetrics | null;
  emotion: Record<string, Measured>;
  loading: boolean;
  error: string;
}

// useOverlay loads a map's live numbers (and the measured emotion curve)
// whenever the overlay is on and the range or segment changes.
export function useOverlay(map: JourneyMap | null, on: boolean, filter: OverlayFilter): OverlayData {
  const { t } = useTranslation(["data", "translation"]);
  const { api } = useSession();
  const data = useMemo(() => new DataApi(api), [api]);
  const [state, setState] = useState<OverlayData>({ metrics: null, emotion: {}, loading: false, error: "" });
  const key = JSON.stringify([map?.id, map?.version, filter]);
  useEffect(() => {
    if (!map || !on) return;
    let live = true;
    setState((s) => ({ ...s, loading: true, error: "" }));
    const p = metricsParams(filter);
    data.metrics(map.id, p).then(
      (metrics) => live && setState({ metrics, emotion: emotionFromMetrics(metrics), loading: false, error: "" }),
      (e) => live && setState({ metrics: null, emotion: {}, loading: false, error: errorText(t, e) }),
    );
    return () => {
      live = false;
    };
    // key stands for map and filter.
  }, [data, on, key, t]);
  return state;
}

// previousBound is the bound step before stepId in map order: where "why
// do people leave here?" starts its funnel.
export function previousBound(map: JourneyMap, stepId: string): Step | undefined {
  let prev: Step | undefined;
  for (const st of map.stages) {
    for (const s of st.steps) {
      if (s.id === stepId) return prev;
      if (stepBinding(s)) prev = s;
    }
  }
  return undefined;
}

export function whyHref(map: JourneyMap, stepId: string, f: OverlayFilter): string | undefined {
  if (!previousBound(map, stepId)) return undefined;
  return analysisHref("funnel", { map: map.id, step: stepId, from: f.from, to: f.to });
}

interface BadgeProps {
  m: StepMetrics;
  worst: number; // 0 when not among the worst drop-offs, else 1..3
  measured?: Measured;
  why?: string;
}

// StepMetricsBadge is what the overlay draws in a step's card.
export function StepMetricsBadge({ m, worst, measured, why }: BadgeProps) {
  const { t, i18n } = useTranslation(["data", "translation"]);
  const lang = i18n.language;
  if (!m.bound) return <p className="metric-badge unbound muted small">{t("overlay.unbound")}</p>;
  return (
    <div className={`metric-badge${worst ? " worst" : ""}`} data-step={m.stepId} aria-label={t("overlay.badge", { step: m.name })} role="group">
      {worst > 0 && <p className="worst-tag">{t("overlay.worst", { rank: worst })}</p>}
      <dl>
        <div>
          <dt>{t("overlay.customers")}</dt>
          <dd data-metric="customers">{formatCount(m.customers, lang)}</dd>
        </div>
        <div>
          <dt>{t("overlay.conversion")}</dt>
          <dd data-metric="conversion">{formatShare(m.conversionFromPrevious, lang)}</dd>
        </div>
        <div>
          <dt>{t("overlay.median")}</dt>
          <dd data-metric="median">{formatDuration(m.medianSecondsFromPrevious, lang)}</dd>
        </div>
        <div>
          <dt>{t("overlay.dropOff")}</dt>
          <dd data-metric="dropOff">
            {formatCount(m.dropOff, lang)} ({formatShare(m.dropOffShare, lang)})
          </dd>
        </div>
        {measured && (
          <div>
            <dt>{t("overlay.felt")}</dt>
            <dd data-metric="felt">{t("overlay.feltValue", { score: signed(measured.mean, lang), count: measured.responses })}</dd>
          </div>
        )}
      </dl>
      {why && (
        <a
          className="why-link"
          href={why}
          onClick={(e) => {
            e.preventDefault();
            go(why);
          }}
        >
          {t("overlay.why")}
        </a>
      )}
    </div>
  );
}

// signed shows a score with one decimal and its sign, as the designed
// curve's labels do; a mean that rounds to zero has no sign.
export function signed(x: number, lang: string): string {
  const r = (Math.sign(x) * Math.round(Math.abs(x) * 10)) / 10 || 0;
  const s = new Intl.NumberFormat(lang, { maximumFractionDigits: 1, minimumFractionDigits: 1 }).format(r);
  return r > 0 ? `+${s}` : s;
}

// overlayDecoration gives the board's stepDecoration: the numbers of each
// bound step, the worst drop-offs marked.
export function overlayDecoration(map: JourneyMap, o: OverlayData, f: OverlayFilter): (stepId: string) => ReactNode {
  const byId = new Map((o.metrics?.steps ?? []).map((s) => [s.stepId, s]));
  const worst = o.metrics?.worstDropOffs ?? [];
  const Decoration = (stepId: string) => {
    const m = byId.get(stepId);
    if (!m) return null;
    return <StepMetricsBadge m={m} worst={worst.indexOf(stepId) + 1} measured={o.emotion[stepId]} why={whyHref(map, stepId, f)} />;
  };
  return Decoration;
}

interface ControlsProps {
  filter: OverlayFilter;
  onChange: (f: OverlayFilter) => void;
}

// OverlayControls picks the date range and the segment: "customers who
// did EVENT [on CHANNEL] [with PROPERTY = VALUE]".
export function OverlayControls({ filter, onChange }: ControlsProps) {
  const { t } = useTranslation(["data", "translation"]);
  const { api } = useSession();
  const data = useMemo(() => new DataApi(api), [api]);
  const [acts, setActs] = useState<Activity[]>([]);
  const [draft, setDraft] = useState<SegmentChoice>(filter.segment);
  const id = { from: useId(), to: useId(), ev: useId(), ch: useId(), prop: useId(), val: useId() };
  useEffect(() => {
    let live = true;
    data.activities().then(
      (a) => live && setActs(a),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [data]);
  const seg = (patch: Partial<SegmentChoice>) => setDraft((d) => ({ ...d, ...patch }));
  return (
    <div className="overlay-controls">
      <fieldset className="row">
        <legend>{t("overlay.range")}</legend>
        <div className="field">
          <label htmlFor={id.from}>{t("overlay.from")}</label>
          <input id={id.from} type="date" value={filter.from} onChange={(e) => onChange({ ...filter, from: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor={id.to}>{t("overlay.to")}</label>
          <input id={id.to} type="date" value={filter.to} onChange={(e) => onChange({ ...filter, to: e.target.value })} />
        </div>
      </fieldset>
      <form
        className="row segment-picker"
        onSubmit={(e) => {
          e.preventDefault();
          onChange({ ...filter, segment: draft });
        }}
      >
        <fieldset className="row">
          <legend>{t("overlay.segment")}</legend>
          <div className="field">
            <label htmlFor={id.ev}>{t("overlay.didEvent")}</label>
            <select id={id.ev} value={draft.event} onChange={(e) => seg({ event: e.target.value })}>
              <option value="">{t("overlay.everyone")}</option>
              {acts.map((a) => (
                <option key={a.event} value={a.event}>
                  {a.event}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={id.ch}>{t("overlay.onChannel")}</label>
            <select id={id.ch} value={draft.channel} disabled={!draft.event} onChange={(e) => seg({ channel: e.target.value as Channel | "" })}>
              <option value="">{t("binding.anyChannel")}</option>
              {CHANNELS.map((c) => (
                <option key={c} value={c}>
                  {t(`channels.${c}`)}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={id.prop}>{t("overlay.withProperty")}</label>
            <input id={id.prop} value={draft.property} disabled={!draft.event} onChange={(e) => seg({ property: e.target.value })} />
          </div>
          <div className="field">
            <label htmlFor={id.val}>{t("overlay.equals")}</label>
            <input id={id.val} value={draft.value} disabled={!draft.event || !draft.property} onChange={(e) => seg({ value: e.target.value })} />
          </div>
        </fieldset>
        <div className="row end">
          <button type="submit" className="button">
            {t("overlay.apply")}
          </button>
          {filter.segment.event && (
            <button
              type="button"
              className="button"
              onClick={() => {
                setDraft(NO_SEGMENT);
                onChange({ ...filter, segment: NO_SEGMENT });
              }}
            >
              {t("overlay.clearSegment")}
            </button>
          )}
        </div>
      </form>
    </div>
  );
}

// emotionOption draws the designed emotion curve and, where survey answers
// exist, the measured one, across the bound steps.
export function emotionOption(map: JourneyMap, measured: Record<string, Measured>, labels: { designed: string; measured: string }): ChartOption {
  const steps = map.stages.flatMap((s) => s.steps);
  const c = themeColours();
  return {
    textStyle: { color: c.text },
    tooltip: { trigger: "axis" },
    legend: { top: 0, data: [labels.designed, labels.measured], textStyle: { color: c.text } },
    grid: { left: 40, right: 20, top: 40, bottom: 70 },
    xAxis: { type: "category", data: steps.map((s) => s.name), axisLabel: { rotate: 30, color: c.muted, width: 120, overflow: "truncate" } },
    yAxis: { type: "value", min: -2, max: 2, interval: 1, axisLabel: { color: c.muted }, splitLine: { lineStyle: { color: c.border } } },
    series: [
      { name: labels.designed, type: "line", data: steps.map((s) => s.emotion?.score ?? null), connectNulls: true },
      {
        name: labels.measured,
        type: "line",
        lineStyle: { type: "dashed" },
        data: steps.map((s) => (measured[s.id] ? Number(measured[s.id].mean.toFixed(2)) : null)),
        connectNulls: true,
      },
    ],
  };
}

// OverlaySummary shows the map-level numbers: customers at the start, the
// stages, conformance (mean fitness, end-to-end share, top deviations) and
// the emotion curves.
export function OverlaySummary({ map, o }: { map: JourneyMap; o: OverlayData }) {
  const { t, i18n } = useTranslation(["data", "translation"]);
  const lang = i18n.language;
  const m = o.metrics;
  const stepName = (id?: string) => map.stages.flatMap((s) => s.steps).find((s) => s.id === id)?.name ?? id ?? "";
  const opt = useMemo(
    () => emotionOption(map, o.emotion, { designed: t("overlay.designed"), measured: t("overlay.measured") }),
    [map, o.emotion, t],
  );
  if (o.error) {
    return (
      <p className="error" role="alert">
        {o.error}
      </p>
    );
  }
  if (!m) return o.loading ? <p aria-busy="true">{t("common.loading")}</p> : null;
  if (m.boundSteps === 0) return <p className="notice">{t("overlay.noBindings")}</p>;
  const conf = m.conformance;
  return (
    <section className="overlay-summary" aria-label={t("overlay.summary")} aria-busy={o.loading}>
      <dl className="kpis">
        <div>
          <dt>{t("overlay.started")}</dt>
          <dd data-metric="start">{formatCount(m.customers, lang)}</dd>
        </div>
        <div>
          <dt>{t("overlay.boundSteps")}</dt>
          <dd>{formatCount(m.boundSteps, lang)}</dd>
        </div>
        {conf && (
          <>
            <div>
              <dt>{t("overlay.fitness")}</dt>
              <dd data-metric="fitness">{formatShare(conf.meanFitness, lang)}</dd>
            </div>
            <div>
              <dt>{t("overlay.endToEnd")}</dt>
              <dd data-metric="endToEnd">{formatShare(conf.endToEndShare, lang)}</dd>
            </div>
            <div>
              <dt>{t("overlay.journeys")}</dt>
              <dd>{formatCount(conf.journeys, lang)}</dd>
            </div>
          </>
        )}
      </dl>
      <div className="overlay-columns">
        <div>
          <h3>{t("overlay.stages")}</h3>
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">{t("overlay.stage")}</th>
                <th scope="col">{t("overlay.entered")}</th>
                <th scope="col">{t("overlay.completed")}</th>
                <th scope="col">{t("overlay.conversion")}</th>
              </tr>
            </thead>
            <tbody>
              {m.stages
                .filter((s) => s.bound)
                .map((s) => (
                  <tr key={s.stageId}>
                    <th scope="row">{s.name}</th>
                    <td>{formatCount(s.entered, lang)}</td>
                    <td>{formatCount(s.completed, lang)}</td>
                    <td>{formatShare(s.conversion, lang)}</td>
                  </tr>
                ))}
            </tbody>
          </table>
        </div>
        {conf && conf.deviations.length > 0 && (
          <div>
            <h3>{t("overlay.deviations")}</h3>
            <ol className="deviations">
              {conf.deviations.slice(0, 5).map((d, i) => (
                <li key={i}>
                  {d.kind === "outside"
                    ? t("deviation.outside", { event: d.event })
                    : t(`deviation.${d.kind}`, { step: stepName(d.step) })}{" "}
                  <span className="muted">{t("overlay.journeyCount", { count: d.journeys, n: formatCount(d.journeys, lang) })}</span>
                </li>
              ))}
            </ol>
          </div>
        )}
      </div>
      <div>
        <h3>{t("overlay.emotion")}</h3>
        {Object.keys(o.emotion).length === 0 && <p className="muted small">{t("overlay.noSurveys")}</p>}
        <Suspense fallback={<div className="echart" />}>
          <EChart option={opt} label={t("overlay.emotionChart")} height={260} />
        </Suspense>
      </div>
    </section>
  );
}
