import { useEffect, useId, useMemo, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { useSession } from "../context";
import { errorText } from "../format";
import { CHANNELS, DataApi, type Channel, type QuarantineItem, type Source } from "../data/api";
import { formatCount, formatTime } from "../data/format";
import { ChannelIcon } from "../analysis/ChannelIcon";
import { ConfirmDialog } from "../components/ConfirmDialog";
import "../data/data.css";

export const PLATFORMS = ["curl", "analytics.js", "node", "python", "ios", "android"] as const;
export type Platform = (typeof PLATFORMS)[number];

// snippet is the code a team pastes to send events to this server with
// the source's write key: Segment-compatible libraries with only their
// host changed (docs/collection.md).
export function snippet(p: Platform, writeKey: string, origin: string): string {
  const u = new URL(origin);
  const hostPath = `${u.host}/v1`;
  const protocol = u.protocol.replace(":", "");
  switch (p) {
    case "curl":
      return `curl -s ${origin}/v1/track -u '${writeKey}:' -H 'Content-Type: application/json' \\
  -d '{"userId": "u-42", "event": "Order Completed", "properties": {"revenue": 49.9}}'`;
    case "analytics.js":
      return `import { AnalyticsBrowser } from '@segment/analytics-next'

const writeKey = '${writeKey}'
export const analytics = AnalyticsBrowser.load(
  { writeKey, cdnSettings: { integrations: { 'Segment.io': { apiKey: writeKey } } } },
  { integrations: { 'Segment.io': { apiHost: '${hostPath}', protocol: '${protocol}' } } },
)
analytics.page()`;
    case "node":
      return `import { Analytics } from '@segment/analytics-node'

const analytics = new Analytics({ writeKey: '${writeKey}', host: '${origin}' })
analytics.track({ userId: 'u-42', event: 'Order Completed', properties: { revenue: 49.9 } })
await analytics.closeAndFlush()`;
    case "python":
      return `import segment.analytics as analytics

analytics.write_key = '${writeKey}'
analytics.host = '${origin}'
analytics.track('u-42', 'Order Completed', {'revenue': 49.9})
analytics.flush()`;
    case "ios":
      return `import Segment

let analytics = Analytics(configuration: Configuration(writeKey: "${writeKey}")
    .apiHost("${hostPath}")
    .flushAt(20))
analytics.track(name: "Order Completed", properties: ["revenue": 49.9])`;
    case "android":
      return `import com.segment.analytics.kotlin.android.Analytics

val analytics = Analytics("${writeKey}", applicationContext) {
    apiHost = "${hostPath}"
    flushAt = 20
}
analytics.track("Order Completed", buildJsonObject { put("revenue", 49.9) })`;
  }
}

async function copy(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

// useLiveCount polls the number of events in the workspace (the analytics
// index, which may lag by a minute) and, exactly, how many the sources
// sent since this page opened, so an admin wiring a new source sees its
// events arrive at once.
function useLiveCount(data: DataApi, everyMs: number): { total: number | null; since: number } {
  const [total, setTotal] = useState<number | null>(null);
  const [received, setReceived] = useState<number | null>(null);
  const first = useRef<number | null>(null);
  useEffect(() => {
    let live = true;
    const tick = async () => {
      try {
        const [acts, counts] = await Promise.all([data.activities(), data.sourceCounts()]);
        const n = acts.reduce((s, a) => s + a.events, 0);
        const got = counts.reduce((s, c) => s + c.accepted, 0);
        if (!live) return;
        if (first.current === null) first.current = got;
        setTotal(n);
        setReceived(got);
      } catch {
        // A missed poll is retried at the next tick.
      }
    };
    void tick();
    const h = setInterval(() => void tick(), everyMs);
    return () => {
      live = false;
      clearInterval(h);
    };
  }, [data, everyMs]);
  const since = received === null || first.current === null ? 0 : received - first.current;
  // The index may not show the new events yet; the total never counts
  // fewer than have arrived since the page opened.
  return { total: total === null ? null : Math.max(total, since), since };
}

function SourceRow({ s, onChange, data }: { s: Source; onChange: (s: Source) => void; data: DataApi }) {
  const { t } = useTranslation(["data", "translation"]);
  const [shown, setShown] = useState(false);
  const [copied, setCopied] = useState(false);
  const [platform, setPlatform] = useState<Platform>("curl");
  const [error, setError] = useState("");
  const pid = useId();
  const [rotating, setRotating] = useState(false);
  const act = async (f: () => Promise<Source>) => {
    setError("");
    try {
      onChange(await f());
    } catch (e) {
      setError(errorText(t, e));
    }
  };
  const code = snippet(platform, s.writeKey, window.location.origin);
  return (
    <li className="card source-card" aria-label={s.name}>
      <div className="row between">
        <h3 className="card-title">
          <ChannelIcon channel={s.channel} /> {s.name}
        </h3>
        <span className={`badge${s.disabled ? " off" : ""}`}>{s.disabled ? t("sources.disabled") : t("sources.enabled")}</span>
      </div>
      <p className="small muted">
        {t(`channels.${s.channel}`)} · {s.id}
      </p>
      <div className="row key-row">
        <span className="small">{t("sources.writeKey")}</span>
        <code data-testid="write-key">{shown ? s.writeKey : `${s.writeKey.slice(0, 8)}${"•".repeat(12)}`}</code>
        <button type="button" className="button" onClick={() => setShown((x) => !x)} aria-label={shown ? t("sources.hideKey", { name: s.name }) : t("sources.showKey", { name: s.name })}>
          {shown ? t("sources.hide") : t("sources.show")}
        </button>
        <button
          type="button"
          className="button"
          aria-label={t("sources.copyKey", { name: s.name })}
          onClick={() => void copy(s.writeKey).then((ok) => setCopied(ok))}
        >
          {copied ? t("sources.copied") : t("sources.copy")}
        </button>
      </div>
      <div className="row">
        <button type="button" className="button" onClick={() => setRotating(true)} aria-label={t("sources.rotateNamed", { name: s.name })}>
          {t("sources.rotate")}
        </button>
        <button type="button" className="button" onClick={() => void act(() => data.updateSource(s.id, { disabled: !s.disabled }))}>
          {s.disabled ? t("sources.enable") : t("sources.disable")}
        </button>
      </div>
      <details>
        <summary>{t("sources.snippets")}</summary>
        <div className="field">
          <label htmlFor={pid}>{t("sources.platform")}</label>
          <select id={pid} value={platform} onChange={(e) => setPlatform(e.target.value as Platform)}>
            {PLATFORMS.map((p) => (
              <option key={p} value={p}>
                {t(`sources.platforms.${p.replace(".", "_")}`)}
              </option>
            ))}
          </select>
        </div>
        <pre className="snippet">
          <code>{code}</code>
        </pre>
        <button type="button" className="button" onClick={() => void copy(code)}>
          {t("sources.copySnippet")}
        </button>
      </details>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {rotating && (
        <ConfirmDialog
          title={t("sources.rotateTitle", { name: s.name })}
          body={t("sources.rotateBody")}
          confirmLabel={t("sources.rotate")}
          busyLabel={t("sources.rotating")}
          onClose={() => setRotating(false)}
          onConfirm={async () => {
            onChange(await data.rotateSource(s.id));
            setShown(true);
            setRotating(false);
          }}
        />
      )}
    </li>
  );
}

function QuarantineRow({ q, sourceName, onDone, data }: { q: QuarantineItem; sourceName: string; onDone: () => void; data: DataApi }) {
  const { t, i18n } = useTranslation(["data", "translation"]);
  const [text, setText] = useState(() => JSON.stringify(q.raw, null, 2));
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const id = useId();
  const run = async (f: () => Promise<unknown>) => {
    setBusy(true);
    setError("");
    try {
      await f();
      onDone();
    } catch (e) {
      setError(errorText(t, e));
      setBusy(false);
    }
  };
  const replay = () =>
    run(async () => {
      let ev: unknown;
      try {
        ev = JSON.parse(text);
      } catch {
        throw new Error(t("quarantine.notJson"));
      }
      // Unchanged JSON replays the stored payload as it is.
      await data.replay(q.id, JSON.stringify(ev) === JSON.stringify(q.raw) ? undefined : ev);
    });
  return (
    <li className="card quarantine-item">
      <p className="reason">
        <strong>{q.reason}</strong>
      </p>
      <p className="small muted">
        {sourceName} · {formatTime(q.receivedAt, i18n.language)} · {q.id}
      </p>
      <div className="field">
        <label htmlFor={id}>{t("quarantine.payload")}</label>
        <textarea id={id} rows={Math.min(10, text.split("\n").length)} value={text} onChange={(e) => setText(e.target.value)} className="mono" />
      </div>
      <div className="row">
        <button type="button" className="button primary" disabled={busy} onClick={() => void replay()}>
          {t("quarantine.replay")}
        </button>
        <button type="button" className="button danger-outline" disabled={busy} onClick={() => void run(() => data.discard(q.id))}>
          {t("quarantine.discard")}
        </button>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </li>
  );
}

// SourcesPage is the admins' view of collection: sources and their write
// keys, snippets for sending events, a live count of arriving events, and
// the quarantine of events that failed validation.
export default function SourcesPage({ pollMs = 5000 }: { pollMs?: number }) {
  const { t, i18n } = useTranslation(["data", "translation"]);
  const lang = i18n.language;
  const { api, current } = useSession();
  const data = useMemo(() => new DataApi(api), [api]);
  const admin = current.role === "admin";
  const [sources, setSources] = useState<Source[] | null>(null);
  const [quarantine, setQuarantine] = useState<QuarantineItem[]>([]);
  const [name, setName] = useState("");
  const [channel, setChannel] = useState<Channel>("web");
  const [error, setError] = useState("");
  const ids = { n: useId(), c: useId() };
  const live = useLiveCount(data, pollMs);

  const loadQuarantine = () =>
    data.quarantine("open").then(
      (q) => setQuarantine(q),
      (e) => setError(errorText(t, e)),
    );

  useEffect(() => {
    document.title = `${t("sources.title")} · trek`;
    if (!admin) return;
    data.sources().then(
      (s) => setSources(s),
      (e) => setError(errorText(t, e)),
    );
    void loadQuarantine();
  }, [data, admin, t]);

  if (!admin) {
    return (
      <div className="page">
        <h1>{t("sources.title")}</h1>
        <p className="notice">{t("sources.adminsOnly")}</p>
      </div>
    );
  }

  const create = async () => {
    setError("");
    try {
      const s = await data.createSource({ name: name.trim(), channel });
      setSources((l) => [s, ...(l ?? [])]);
      setName("");
    } catch (e) {
      setError(errorText(t, e));
    }
  };

  const names = new Map((sources ?? []).map((s) => [s.id, s.name]));
  return (
    <div className="page">
      <div className="page-head">
        <h1>{t("sources.title")}</h1>
      </div>
      <p className="live-count" aria-live="polite">
        {live.total === null
          ? t("common.loading")
          : t("sources.live", { total: formatCount(live.total, lang), count: live.since, n: formatCount(live.since, lang) })}
      </p>
      <form
        className="row create-source"
        onSubmit={(e) => {
          e.preventDefault();
          void create();
        }}
      >
        <div className="field grow">
          <label htmlFor={ids.n}>{t("sources.name")}</label>
          <input id={ids.n} value={name} onChange={(e) => setName(e.target.value)} maxLength={200} />
        </div>
        <div className="field">
          <label htmlFor={ids.c}>{t("sources.channel")}</label>
          <select id={ids.c} value={channel} onChange={(e) => setChannel(e.target.value as Channel)}>
            {CHANNELS.map((c) => (
              <option key={c} value={c}>
                {t(`channels.${c}`)}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" className="button primary align-end" disabled={!name.trim()}>
          {t("sources.create")}
        </button>
      </form>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {sources === null && !error && <p aria-busy="true">{t("common.loading")}</p>}
      <ul className="cards sources">
        {sources?.map((s) => (
          <SourceRow key={s.id} s={s} data={data} onChange={(n) => setSources((l) => (l ?? []).map((x) => (x.id === n.id ? n : x)))} />
        ))}
      </ul>
      <section className="stack">
        <h2>{t("quarantine.title", { count: quarantine.length })}</h2>
        {quarantine.length === 0 ? (
          <p className="muted">{t("quarantine.empty")}</p>
        ) : (
          <ul className="stack plain">
            {quarantine.map((q) => (
              <QuarantineRow key={q.id} q={q} data={data} sourceName={names.get(q.sourceId) ?? q.sourceId} onDone={() => void loadQuarantine()} />
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
