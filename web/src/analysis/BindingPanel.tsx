import { useEffect, useId, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { Modal } from "../components/Modal";
import { useSession } from "../context";
import { errorText } from "../format";
import { CHANNELS, DataApi, OPS, bindingMatcher, type Activity, type Binding, type Channel, type Filter, type Op } from "../data/api";
import { formatCount } from "../data/format";
import { parseValue } from "../data/segment";
import { customerHref } from "./links";
import "../data/data.css";

interface FilterRow {
  property: string;
  op: Op;
  value: string;
}

// MAX_EVENTS is the map schema's limit on events per binding.
const MAX_EVENTS = 20;

function rowsOf(b?: Binding): FilterRow[] {
  return (b?.where ?? []).map((f) => ({
    property: f.property,
    op: f.op,
    value: Array.isArray(f.value) ? f.value.join(", ") : f.value === undefined ? "" : String(f.value),
  }));
}

// filtersOf turns the rows into the binding's filters, dropping rows
// without a property; "in" takes a comma-separated list and "exists"
// takes no value.
export function filtersOf(rows: FilterRow[]): Filter[] {
  return rows
    .filter((r) => r.property.trim() !== "")
    .map((r) => {
      const f: Filter = { property: r.property.trim(), op: r.op };
      if (r.op === "in" || r.op === "not_in") f.value = r.value.split(",").map((v) => parseValue(v)).filter((v) => v !== "");
      else if (r.op !== "exists" && r.op !== "not_exists") f.value = parseValue(r.value);
      return f;
    });
}

interface Props {
  stepName: string;
  binding?: Binding;
  readOnly?: boolean;
  // onSave gets the new binding, or null to remove it; the panel closes
  // when the returned promise resolves.
  onSave: (b: Binding | null) => void | Promise<void>;
  onClose: () => void;
}

// BindingPanel links a map step to the data: events seen in the
// workspace (searchable, with their counts), property filters and a
// channel, and a preview of how many customers match before saving.
export function BindingPanel({ stepName, binding, readOnly, onSave, onClose }: Props) {
  const { t, i18n } = useTranslation(["data", "translation"]);
  const { api } = useSession();
  const data = useMemo(() => new DataApi(api), [api]);
  const lang = i18n.language;
  const ids = { search: useId(), channel: useId(), list: useId() };
  const [activities, setActivities] = useState<Activity[] | null>(null);
  const [search, setSearch] = useState("");
  const [events, setEvents] = useState<string[]>(binding?.events ?? []);
  const [channel, setChannel] = useState<Channel | "">(binding?.channel ?? "");
  const [rows, setRows] = useState<FilterRow[]>(() => rowsOf(binding));
  const [preview, setPreview] = useState<{ total: number; ids: string[] } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");

  useEffect(() => {
    let live = true;
    data.activities().then(
      (a) => live && setActivities(a),
      (e) => live && setError(errorText(t, e)),
    );
    return () => {
      live = false;
    };
  }, [data, t]);

  // Any change makes the last preview stale.
  useEffect(() => setPreview(null), [events, channel, rows]);

  const shown = (activities ?? []).filter((a) => a.event.toLowerCase().includes(search.trim().toLowerCase()));
  const current = (): Binding | null => {
    if (events.length === 0) return null;
    const b: Binding = { events };
    if (channel) b.channel = channel;
    const where = filtersOf(rows);
    if (where.length) b.where = where;
    return b;
  };

  const toggle = (name: string, on: boolean) =>
    setEvents((es) => (on ? (es.includes(name) || es.length >= MAX_EVENTS ? es : [...es, name]) : es.filter((e) => e !== name)));

  const runPreview = async () => {
    const b = current();
    if (!b) return;
    setBusy(true);
    setError("");
    try {
      const r = await data.funnel({ steps: [bindingMatcher(b)], customers: { step: 1, outcome: "reached", limit: 10 } });
      setPreview({ total: r.customers?.total ?? r.steps[0]?.customers ?? 0, ids: r.customers?.ids ?? [] });
    } catch (e) {
      setError(errorText(t, e));
    } finally {
      setBusy(false);
    }
  };

  const save = async (b: Binding | null) => {
    setBusy(true);
    setError("");
    try {
      await onSave(b);
      onClose();
    } catch (e) {
      setError(errorText(t, e));
    } finally {
      setBusy(false);
    }
  };

  const footer = (
    <>
      {binding && !readOnly && (
        <button type="button" className="button danger-outline" disabled={busy} onClick={() => void save(null)}>
          {t("binding.remove")}
        </button>
      )}
      <button type="button" className="button" onClick={onClose}>
        {t("common.cancel")}
      </button>
      {!readOnly && (
        <button type="button" className="button primary" disabled={busy || events.length === 0} onClick={() => void save(current())}>
          {t("binding.save")}
        </button>
      )}
    </>
  );

  return (
    <Modal title={t("binding.title", { step: stepName })} onClose={onClose} footer={footer} wide>
      <div className="binding-grid">
        <section className="stack" aria-labelledby={ids.list}>
          <h3 id={ids.list}>{t("binding.events")}</h3>
          <div className="field">
            <label htmlFor={ids.search}>{t("binding.search")}</label>
            <input id={ids.search} type="search" value={search} onChange={(e) => setSearch(e.target.value)} data-autofocus />
          </div>
          {activities === null && !error && <p aria-busy="true">{t("common.loading")}</p>}
          {activities !== null && activities.length === 0 && <p className="muted">{t("binding.noEvents")}</p>}
          <ul className="activity-list" aria-label={t("binding.seen")}>
            {shown.map((a) => (
              <li key={a.event}>
                <label className="check">
                  <input
                    type="checkbox"
                    checked={events.includes(a.event)}
                    disabled={readOnly}
                    onChange={(e) => toggle(a.event, e.target.checked)}
                  />
                  <span className="activity-name">{a.event}</span>
                  <span className="muted small">
                    {t("binding.counts", { customers: formatCount(a.customers, lang), events: formatCount(a.events, lang) })}
                  </span>
                </label>
              </li>
            ))}
          </ul>
        </section>
        <section className="stack">
          <h3>{t("binding.chosen")}</h3>
          {events.length === 0 ? (
            <p className="muted">{t("binding.noneChosen")}</p>
          ) : (
            <ul className="chips" aria-label={t("binding.chosen")}>
              {events.map((e) => (
                <li key={e} className="chip">
                  {e}
                  {!readOnly && (
                    <button type="button" className="chip-x" aria-label={t("binding.unselect", { event: e })} onClick={() => toggle(e, false)}>
                      ×
                    </button>
                  )}
                </li>
              ))}
            </ul>
          )}
          <div className="field">
            <label htmlFor={ids.channel}>{t("binding.channel")}</label>
            <select id={ids.channel} value={channel} disabled={readOnly} onChange={(e) => setChannel(e.target.value as Channel | "")}>
              <option value="">{t("binding.anyChannel")}</option>
              {CHANNELS.map((c) => (
                <option key={c} value={c}>
                  {t(`channels.${c}`)}
                </option>
              ))}
            </select>
          </div>
          <fieldset className="stack">
            <legend>{t("binding.filters")}</legend>
            {rows.map((r, i) => (
              <div key={i} className="filter-row">
                <input
                  aria-label={t("binding.property", { n: i + 1 })}
                  placeholder={t("binding.propertyHint")}
                  value={r.property}
                  disabled={readOnly}
                  onChange={(e) => setRows((rs) => rs.map((x, j) => (j === i ? { ...x, property: e.target.value } : x)))}
                />
                <select
                  aria-label={t("binding.op", { n: i + 1 })}
                  value={r.op}
                  disabled={readOnly}
                  onChange={(e) => setRows((rs) => rs.map((x, j) => (j === i ? { ...x, op: e.target.value as Op } : x)))}
                >
                  {OPS.map((o) => (
                    <option key={o} value={o}>
                      {t(`ops.${o}`)}
                    </option>
                  ))}
                </select>
                {r.op !== "exists" && r.op !== "not_exists" && (
                  <input
                    aria-label={t("binding.value", { n: i + 1 })}
                    value={r.value}
                    disabled={readOnly}
                    placeholder={r.op === "in" || r.op === "not_in" ? t("binding.listHint") : ""}
                    onChange={(e) => setRows((rs) => rs.map((x, j) => (j === i ? { ...x, value: e.target.value } : x)))}
                  />
                )}
                {!readOnly && (
                  <button
                    type="button"
                    className="icon-button"
                    aria-label={t("binding.removeFilter", { n: i + 1 })}
                    onClick={() => setRows((rs) => rs.filter((_, j) => j !== i))}
                  >
                    <span aria-hidden="true">×</span>
                  </button>
                )}
              </div>
            ))}
            {!readOnly && rows.length < 20 && (
              <div>
                <button type="button" className="button" onClick={() => setRows((rs) => [...rs, { property: "", op: "eq", value: "" }])}>
                  {t("binding.addFilter")}
                </button>
              </div>
            )}
          </fieldset>
          <div className="row">
            <button type="button" className="button" disabled={busy || events.length === 0} onClick={() => void runPreview()}>
              {t("binding.preview")}
            </button>
          </div>
          <div aria-live="polite">
            {preview && (
              <div className="preview-box">
                <p className="preview-count">{t("binding.matches", { count: preview.total, n: formatCount(preview.total, lang) })}</p>
                {preview.ids.length > 0 && (
                  <p className="small">
                    {t("binding.examples")}{" "}
                    {preview.ids.map((id, i) => (
                      <span key={id}>
                        {i > 0 && ", "}
                        <a href={customerHref(id)} target="_blank" rel="noreferrer">
                          {id}
                        </a>
                      </span>
                    ))}
                  </p>
                )}
              </div>
            )}
          </div>
          {error && (
            <p className="error" role="alert">
              {error}
            </p>
          )}
        </section>
      </div>
    </Modal>
  );
}
