import { useId, useState } from "react";
import { useTranslation } from "react-i18next";
import type { RetentionQuery, RetentionResult } from "../data/api";
import { dayEnd, dayStart, formatCount, formatDay, formatShare } from "../data/format";
import { DateField, EventSelect, Status, shade, useActivities, useData, useQuery } from "./common";

// RetentionView: cohorts by the period of their start event and the share
// returning in each later period, shaded by share.
export function RetentionView({ params }: { params: URLSearchParams }) {
  const { t, i18n } = useTranslation(["data", "translation"]);
  const lang = i18n.language;
  const data = useData();
  const acts = useActivities();
  const [start, setStart] = useState(params.get("start") ?? "");
  const [ret, setRet] = useState(params.get("return") ?? "");
  const [period, setPeriod] = useState<"day" | "week" | "month">("week");
  const [periods, setPeriods] = useState(8);
  const [from, setFrom] = useState(params.get("from") ?? "");
  const [to, setTo] = useState(params.get("to") ?? "");
  const ids = { p: useId(), n: useId() };
  const q: RetentionQuery = {
    start: start ? { event: start } : undefined,
    return: ret ? { event: ret } : undefined,
    period,
    periods,
    from: dayStart(from),
    to: dayEnd(to),
  };
  const { result, error, loading } = useQuery<RetentionResult>(JSON.stringify(q), () => data.retention(q));
  const cols = Array.from({ length: periods + 1 }, (_, i) => i);
  return (
    <div className="stack">
      <div className="query-bar row">
        <EventSelect label={t("retention.start")} value={start} activities={acts} onChange={setStart} anyLabel={t("retention.anyEvent")} />
        <EventSelect label={t("retention.return")} value={ret} activities={acts} onChange={setRet} anyLabel={t("retention.anyEvent")} />
        <div className="field">
          <label htmlFor={ids.p}>{t("retention.period")}</label>
          <select id={ids.p} value={period} onChange={(e) => setPeriod(e.target.value as "day" | "week" | "month")}>
            <option value="day">{t("retention.day")}</option>
            <option value="week">{t("retention.week")}</option>
            <option value="month">{t("retention.month")}</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.n}>{t("retention.periods")}</label>
          <input id={ids.n} type="number" min={1} max={52} value={periods} onChange={(e) => setPeriods(Math.max(1, Math.min(52, Number(e.target.value) || 1)))} />
        </div>
        <DateField label={t("overlay.from")} value={from} onChange={setFrom} />
        <DateField label={t("overlay.to")} value={to} onChange={setTo} />
      </div>
      <Status error={error} loading={loading} />
      {result && (
        <div className="table-scroll">
          <table className="data-table retention" aria-label={t("retention.table")}>
            <thead>
              <tr>
                <th scope="col">{t("retention.cohort")}</th>
                <th scope="col">{t("funnel.customers")}</th>
                {cols.map((c) => (
                  <th key={c} scope="col">
                    {t(`retention.n_${period}`, { n: c })}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {result.cohorts.map((co) => (
                <tr key={co.start}>
                  <th scope="row">{formatDay(co.start, lang)}</th>
                  <td>{formatCount(co.customers, lang)}</td>
                  {cols.map((c) => {
                    const p = co.periods.find((x) => x.period === c);
                    return p ? (
                      <td key={c} style={{ background: shade(p.share) }} className={p.complete ? "" : "incomplete"} title={p.complete ? undefined : t("retention.incomplete")}>
                        {formatShare(p.share, lang)}
                      </td>
                    ) : (
                      <td key={c} />
                    );
                  })}
                </tr>
              ))}
              {result.summary && (
                <tr className="summary">
                  <th scope="row">{t("retention.all")}</th>
                  <td />
                  {cols.map((c) => {
                    const p = result.summary!.periods.find((x) => x.period === c);
                    return p ? (
                      <td key={c} style={{ background: shade(p.share) }}>
                        {formatShare(p.share, lang)}
                      </td>
                    ) : (
                      <td key={c} />
                    );
                  })}
                </tr>
              )}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
