import { useEffect, useId, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { ApiError } from "../api";
import { useSession } from "../context";
import { errorText } from "../format";
import { DataApi, type Customer, type StoredEvent } from "../data/api";
import { formatCount, formatTime } from "../data/format";
import { ChannelIcon } from "../analysis/ChannelIcon";
import { customerHref, go } from "../analysis/links";
import "../data/data.css";

// eventTitle names an event as people read it: a track call's event, a
// page or screen's name, or the call's type.
export function eventTitle(e: StoredEvent): string {
  if (e.event) return e.event;
  if (e.name) return `${e.type === "screen" ? "Screen" : e.type === "page" ? "Page" : e.type}: ${e.name}`;
  return e.type;
}

function Props({ value }: { value: Record<string, unknown> | undefined }) {
  if (!value || Object.keys(value).length === 0) return null;
  return (
    <dl className="props">
      {Object.entries(value).map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{typeof v === "object" && v !== null ? JSON.stringify(v) : String(v)}</dd>
        </div>
      ))}
    </dl>
  );
}

// CustomersPage finds a customer by any identifier (customer id, user id,
// anonymous id, email, phone) and shows their timeline across channels.
export default function CustomersPage({ id }: { id?: string }) {
  const { t, i18n } = useTranslation(["data", "translation"]);
  const lang = i18n.language;
  const { api } = useSession();
  const data = useMemo(() => new DataApi(api), [api]);
  const [q, setQ] = useState(id ?? "");
  const [customer, setCustomer] = useState<Customer | null>(null);
  const [events, setEvents] = useState<StoredEvent[]>([]);
  const [cursor, setCursor] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const inputId = useId();

  useEffect(() => {
    document.title = `${t("customers.title")} · trek`;
  }, [t]);

  useEffect(() => {
    if (!id) return;
    let live = true;
    setBusy(true);
    setError("");
    setCustomer(null);
    (async () => {
      try {
        const c = await data.customer(id);
        const page = await data.customerEvents(c.id);
        if (!live) return;
        setCustomer(c);
        setEvents(page.events);
        setCursor(page.nextCursor);
      } catch (e) {
        if (live) setError(e instanceof ApiError && e.status === 404 ? t("customers.notFound", { id }) : errorText(t, e));
      } finally {
        if (live) setBusy(false);
      }
    })();
    return () => {
      live = false;
    };
  }, [data, id, t]);

  const more = async () => {
    if (!customer || !cursor) return;
    setBusy(true);
    try {
      const page = await data.customerEvents(customer.id, cursor);
      setEvents((es) => [...es, ...page.events]);
      setCursor(page.nextCursor);
    } catch (e) {
      setError(errorText(t, e));
    } finally {
      setBusy(false);
    }
  };

  const channels = [...new Set(events.map((e) => e.channel))];
  return (
    <div className="page">
      <h1>{t("customers.title")}</h1>
      <form
        className="row search-row"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          if (q.trim()) go(customerHref(q.trim()));
        }}
      >
        <div className="field grow">
          <label htmlFor={inputId}>{t("customers.lookup")}</label>
          <input id={inputId} value={q} onChange={(e) => setQ(e.target.value)} placeholder={t("customers.hint")} />
        </div>
        <button type="submit" className="button primary align-end">
          {t("customers.find")}
        </button>
      </form>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {busy && !customer && <p aria-busy="true">{t("common.loading")}</p>}
      {customer && (
        <section className="stack" aria-label={t("customers.profile")}>
          <h2>{customer.id}</h2>
          <dl className="meta meta-row">
            <div>
              <dt>{t("customers.firstSeen")}</dt>
              <dd>{customer.firstSeen ? formatTime(customer.firstSeen, lang) : "–"}</dd>
            </div>
            <div>
              <dt>{t("customers.lastSeen")}</dt>
              <dd>{customer.lastSeen ? formatTime(customer.lastSeen, lang) : "–"}</dd>
            </div>
            <div>
              <dt>{t("customers.events")}</dt>
              <dd>{formatCount(customer.eventCount, lang)}</dd>
            </div>
            <div>
              <dt>{t("customers.channels")}</dt>
              <dd className="icons">
                {channels.map((c) => (
                  <ChannelIcon key={c} channel={c} />
                ))}
              </dd>
            </div>
          </dl>
          <div className="overlay-columns">
            <div>
              <h3>{t("customers.identifiers")}</h3>
              <ul className="identifiers">
                {customer.identifiers.map((x) => (
                  <li key={`${x.kind}:${x.value}`}>
                    <span className="badge">{t(`customers.kind.${x.kind}`, { defaultValue: x.kind })}</span> <code>{x.value}</code>
                  </li>
                ))}
              </ul>
            </div>
            <div>
              <h3>{t("customers.traits")}</h3>
              {Object.keys(customer.traits).length === 0 ? <p className="muted">{t("customers.noTraits")}</p> : <Props value={customer.traits} />}
            </div>
          </div>
          <h3>{t("customers.timeline")}</h3>
          <ol className="timeline" aria-label={t("customers.timeline")}>
            {events.map((e) => (
              <li key={e.messageId} className="tl-item">
                <ChannelIcon channel={e.channel} />
                <div className="tl-body">
                  <div className="tl-head">
                    <strong>{eventTitle(e)}</strong>{" "}
                    <time dateTime={e.timestamp} className="muted small">
                      {formatTime(e.timestamp, lang)}
                    </time>{" "}
                    <span className="muted small">{t(`channels.${e.channel}`, { defaultValue: e.channel })}</span>
                  </div>
                  {(e.properties && Object.keys(e.properties).length > 0) || e.traits ? (
                    <details>
                      <summary>{t("customers.properties")}</summary>
                      <Props value={{ ...(e.properties ?? {}), ...(e.traits ?? {}) }} />
                    </details>
                  ) : null}
                </div>
              </li>
            ))}
          </ol>
          {cursor && (
            <button type="button" className="button" disabled={busy} onClick={() => void more()}>
              {t("customers.more")}
            </button>
          )}
        </section>
      )}
    </div>
  );
}
