import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import type { Api, JourneyMap } from "../api";
import { Modal } from "../components/Modal";
import { absoluteTime, errorText, relativeTime } from "../format";
import { MapBoard, type Mark } from "../map/MapBoard";
import { diffVersions, getVersion, listVersions, restoreVersion, type Change, type DiffAnswer, type VersionInfo } from "./mapApi";

interface Props {
  api: Api;
  mapId: string;
  current: number; // the version the editor is based on
  canEdit: boolean;
  onRestored: (m: JourneyMap) => void;
  onClose: () => void;
}

type Detail = { kind: "view"; version: number; map: JourneyMap } | { kind: "diff"; diff: DiffAnswer; map: JourneyMap } | null;

// HistoryPanel lists a map's versions, shows any of them, restores one (as
// a new version), and compares two: the newer one drawn with what changed
// highlighted, and every change in words.
export function HistoryPanel({ api, mapId, current, canEdit, onRestored, onClose }: Props) {
  const { t, i18n } = useTranslation("editor");
  const { t: tc } = useTranslation();
  const [versions, setVersions] = useState<VersionInfo[] | null>(null);
  const [from, setFrom] = useState(0);
  const [to, setTo] = useState(0);
  const [detail, setDetail] = useState<Detail>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");

  useEffect(() => {
    let live = true;
    listVersions(api, mapId).then(
      (vs) => {
        if (!live) return;
        setVersions(vs);
        setTo(vs[0]?.version ?? 0);
        setFrom(vs[1]?.version ?? vs[0]?.version ?? 0);
      },
      (e) => live && setError(errorText(tc, e)),
    );
    return () => {
      live = false;
    };
  }, [api, mapId, current, tc]);

  const run = async (f: () => Promise<void>) => {
    setBusy(true);
    setError("");
    try {
      await f();
    } catch (e) {
      setError(errorText(tc, e));
    } finally {
      setBusy(false);
    }
  };
  const view = (v: number) => run(async () => setDetail({ kind: "view", version: v, map: await getVersion(api, mapId, v) }));
  const compare = () =>
    run(async () => {
      const [diff, map] = await Promise.all([diffVersions(api, mapId, from, to), getVersion(api, mapId, to)]);
      setDetail({ kind: "diff", diff, map });
    });
  const restore = (v: number) =>
    run(async () => {
      const m = await restoreVersion(api, mapId, v, current);
      onRestored(m);
    });

  return (
    <Modal title={t("history.title")} onClose={onClose} wide>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {!versions ? (
        <p aria-busy="true">{tc("app.loading")}</p>
      ) : (
        <>
          <div className="compare-bar" role="group" aria-label={t("history.compare")}>
            <label>
              {t("history.from")}{" "}
              <select value={from} onChange={(e) => setFrom(Number(e.target.value))}>
                {versions.map((v) => (
                  <option key={v.version} value={v.version}>
                    {t("history.version", { version: v.version })}
                  </option>
                ))}
              </select>
            </label>
            <label>
              {t("history.to")}{" "}
              <select value={to} onChange={(e) => setTo(Number(e.target.value))}>
                {versions.map((v) => (
                  <option key={v.version} value={v.version}>
                    {t("history.version", { version: v.version })}
                  </option>
                ))}
              </select>
            </label>
            <button type="button" className="button" onClick={() => void compare()} disabled={busy || from === to}>
              {t("history.compareButton")}
            </button>
          </div>
          <ol className="versions">
            {versions.map((v) => (
              <li key={v.version} className={v.version === current ? "current" : undefined}>
                <div>
                  <strong>{t("history.version", { version: v.version })}</strong>
                  {v.version === current && <span className="badge">{t("history.current")}</span>}{" "}
                  <span className="muted">
                    {t("history.by", { who: v.author })} ·{" "}
                    <time dateTime={v.createdAt} title={absoluteTime(v.createdAt, i18n.language)}>
                      {relativeTime(v.createdAt, i18n.language)}
                    </time>
                  </span>
                  {v.message && <div className="muted version-message">{v.message}</div>}
                </div>
                <div className="version-actions">
                  <button type="button" className="button small" onClick={() => void view(v.version)} disabled={busy}>
                    {t("history.view", { version: v.version })}
                  </button>
                  {canEdit && v.version !== current && (
                    <button type="button" className="button small" onClick={() => void restore(v.version)} disabled={busy}>
                      {t("history.restore", { version: v.version })}
                    </button>
                  )}
                </div>
              </li>
            ))}
          </ol>
        </>
      )}
      {detail?.kind === "view" && (
        <section className="history-detail" aria-label={t("history.version", { version: detail.version })}>
          <h3>{t("history.version", { version: detail.version })}</h3>
          <MapBoard map={detail.map} label={t("history.boardOf", { version: detail.version })} />
        </section>
      )}
      {detail?.kind === "diff" && <DiffView diff={detail.diff} map={detail.map} />}
    </Modal>
  );
}

const LANE_FIELDS: Record<string, string> = {
  actions: "actions",
  thoughts: "thoughts",
  painPoints: "pain_points",
  opportunities: "opportunities",
  frontstage: "frontstage",
  backstage: "backstage",
  support: "support",
  policies: "policies",
  technology: "technology",
  touchpoints: "touchpoints",
  emotion: "emotions",
};

// marksOf turns changes into highlights on the newer version's board.
export function marksOf(changes: Change[]): Record<string, Mark> {
  const out: Record<string, Mark> = {};
  for (const c of changes) {
    if (c.kind === "map" || c.op === "removed") continue;
    const k = `${c.kind}:${c.id}`;
    // An element both added and changed shows as added; moved and changed as changed.
    if (out[k] === "added") continue;
    out[k] = c.op === "added" ? "added" : c.op === "changed" || out[k] === "changed" ? "changed" : "moved";
  }
  return out;
}

export function DiffView({ diff, map }: { diff: DiffAnswer; map: JourneyMap }) {
  const { t } = useTranslation("editor");
  const { t: tc } = useTranslation();
  const stageName = (id?: string) => map.stages.find((s) => s.id === id)?.name ?? id ?? "";
  const fieldLabel = (f?: string) => {
    if (!f) return "";
    if (LANE_FIELDS[f]) return tc(`lanes.${LANE_FIELDS[f]}`);
    if (f.startsWith("custom.")) {
      const lane = map.lanes?.find((l) => l.id === f.slice(7));
      return lane?.name ?? tc("lanes.custom");
    }
    return t(`diff.field.${f}`, { defaultValue: f });
  };
  const value = (v: unknown): string => {
    if (v === null || v === undefined || v === "") return "—";
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return String(v);
    if (Array.isArray(v)) return v.map((x) => (typeof x === "object" && x && "name" in x ? String((x as { name: unknown }).name) : value(x))).join("; ");
    const o = v as Record<string, unknown>;
    if ("score" in o) return tc(`emotion.${o.score}`) + (o.note ? ` (${o.note})` : "");
    if ("index" in o) return t("diff.position", { position: Number(o.index) + 1, stage: o.stageId ? stageName(String(o.stageId)) : "" }).trim();
    if ("name" in o) return String(o.name);
    return JSON.stringify(v);
  };
  return (
    <section className="history-detail" aria-label={t("diff.title", { from: diff.from, to: diff.to })}>
      <h3>{t("diff.title", { from: diff.from, to: diff.to })}</h3>
      {diff.changes.length === 0 ? (
        <p className="muted">{t("diff.none")}</p>
      ) : (
        <ul className="changes">
          {diff.changes.map((c, i) => (
            <li key={i} className={`change change-${c.op}`}>
              <span className={`change-op op-${c.op}`}>{t(`diff.op.${c.op}`)}</span>{" "}
              <span>
                {t(`diff.kind.${c.kind}`)}
                {c.name ? ` “${c.name}”` : ""}
                {c.kind === "step" && c.stageId ? ` · ${stageName(c.stageId)}` : ""}
              </span>
              {c.op === "changed" && (
                <span className="change-detail">
                  {" "}
                  {fieldLabel(c.field)}: <del>{value(c.from)}</del> → <ins>{value(c.to)}</ins>
                </span>
              )}
              {c.op === "moved" && (
                <span className="change-detail">
                  {" "}
                  {value(c.from)} → {value(c.to)}
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
      <div className="diff-legend" aria-hidden="true">
        <span className="mark-added">{t("diff.op.added")}</span>
        <span className="mark-changed">{t("diff.op.changed")}</span>
        <span className="mark-moved">{t("diff.op.moved")}</span>
      </div>
      <MapBoard map={map} marks={marksOf(diff.changes)} label={t("history.boardOf", { version: diff.to })} />
    </section>
  );
}
