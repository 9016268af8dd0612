import { useEffect, useId, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { useSession } from "../context";
import { errorText } from "../format";
import { DataApi, type Activity } from "../data/api";
import { formatCount } from "../data/format";

export function useData(): DataApi {
  const { api } = useSession();
  return useMemo(() => new DataApi(api), [api]);
}

// useActivities lists the workspace's event names, most frequent first.
export function useActivities(): Activity[] {
  const data = useData();
  const [acts, setActs] = useState<Activity[]>([]);
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
  return acts;
}

// useQuery runs run() whenever key changes and keeps the latest answer;
// an answer to an older key is dropped.
export function useQuery<T>(key: string, run: (() => Promise<T>) | null): { result: T | null; error: string; loading: boolean } {
  const { t } = useTranslation(["data", "translation"]);
  const [state, setState] = useState<{ result: T | null; error: string; loading: boolean }>({ result: null, error: "", loading: false });
  useEffect(() => {
    if (!run) return;
    let live = true;
    setState((s) => ({ ...s, loading: true, error: "" }));
    run().then(
      (result) => live && setState({ result, error: "", loading: false }),
      (e) => live && setState({ result: null, error: errorText(t, e), loading: false }),
    );
    return () => {
      live = false;
    };
    // key stands for everything run reads.
  }, [key, t]);
  return state;
}

export function EventSelect({
  label,
  value,
  onChange,
  activities,
  anyLabel,
}: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  activities: Activity[];
  anyLabel?: string;
}) {
  const { i18n } = useTranslation(["data", "translation"]);
  const id = useId();
  const names = activities.map((a) => a.event);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        {anyLabel !== undefined && <option value="">{anyLabel}</option>}
        {value && !names.includes(value) && <option value={value}>{value}</option>}
        {activities.map((a) => (
          <option key={a.event} value={a.event}>
            {a.event} ({formatCount(a.customers, i18n.language)})
          </option>
        ))}
      </select>
    </div>
  );
}

export function DateField({ label, value, onChange }: { label: string; value: string; onChange: (v: string) => void }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} type="date" value={value} onChange={(e) => onChange(e.target.value)} />
    </div>
  );
}

export function Status({ error, loading }: { error: string; loading: boolean }) {
  const { t } = useTranslation(["data", "translation"]);
  if (error)
    return (
      <p className="error" role="alert">
        {error}
      </p>
    );
  if (loading) return <p aria-busy="true">{t("common.loading")}</p>;
  return null;
}

// shade gives a table cell's background for a share from 0 to 1: a
// translucent blue over the table's own background, so retention tables
// read as heat maps in either theme and the text stays legible.
export function shade(share: number): string {
  const a = Math.round(Math.max(0, Math.min(1, share)) * 55) / 100;
  return `rgba(59, 111, 224, ${a})`;
}
