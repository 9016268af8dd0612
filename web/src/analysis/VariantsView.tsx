import { useId, useState } from "react";
import { useTranslation } from "react-i18next";
import type { VariantsResult } from "../data/api";
import { dayEnd, dayStart, formatCount, formatDuration, formatShare } from "../data/format";
import { DateField, Status, shade, useData, useQuery } from "./common";

// VariantsView lists the distinct journeys, most frequent first.
export function VariantsView({ params }: { params: URLSearchParams }) {
  const { t, i18n } = useTranslation(["data", "translation"]);
  const lang = i18n.language;
  const data = useData();
  const [limit, setLimit] = useState(25);
  const [from, setFrom] = useState(params.get("from") ?? "");
  const [to, setTo] = useState(params.get("to") ?? "");
  const id = useId();
  const q = { limit, from: dayStart(from), to: dayEnd(to) };
  const { result, error, loading } = useQuery<VariantsResult>(JSON.stringify(q), () => data.variants(q));
  const top = result?.variants[0]?.share ?? 1;
  return (
    <div className="stack">
      <div className="query-bar row">
        <div className="field">
          <label htmlFor={id}>{t("variants.limit")}</label>
          <select id={id} value={limit} onChange={(e) => setLimit(Number(e.target.value))}>
            {[10, 25, 50, 100].map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </div>
        <DateField label={t("overlay.from")} value={from} onChange={setFrom} />
        <DateField label={t("overlay.to")} value={to} onChange={setTo} />
      </div>
      <Status error={error} loading={loading} />
      {result && (
        <>
          <p>{t("variants.total", { variants: formatCount(result.total, lang), customers: formatCount(result.customers, lang) })}</p>
          <table className="data-table variants" aria-label={t("variants.table")}>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">{t("variants.sequence")}</th>
                <th scope="col">{t("funnel.customers")}</th>
                <th scope="col">{t("variants.share")}</th>
                <th scope="col">{t("variants.median")}</th>
                <th scope="col">{t("variants.p90")}</th>
              </tr>
            </thead>
            <tbody>
              {result.variants.map((v, i) => (
                <tr key={i}>
                  <td>{i + 1}</td>
                  <td>
                    <ol className="sequence" aria-label={t("variants.events", { count: v.events.length })}>
                      {v.events.map((e, j) => (
                        <li key={j}>{e}</li>
                      ))}
                    </ol>
                  </td>
                  <td>{formatCount(v.customers, lang)}</td>
                  <td style={{ background: shade(v.share / top) }}>{formatShare(v.share, lang)}</td>
                  <td>{formatDuration(v.medianSeconds, lang)}</td>
                  <td>{formatDuration(v.p90Seconds, lang)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}
