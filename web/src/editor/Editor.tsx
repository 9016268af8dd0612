import { useCallback, useEffect, useReducer, useRef, useState, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import type { Api, FieldError, JourneyMap, Persona } from "../api";
import { absoluteTime, errorText, relativeTime } from "../format";
import { lanesOf } from "../map/lanes";
import { MapBoard, type StepAction } from "../map/MapBoard";
import { ConflictDialog } from "./ConflictDialog";
import { EditableText } from "./EditableText";
import { download, exportPdf, exportPng, exportSvg, fileName } from "./exporter";
import type { SvgLabels } from "./exportSvg";
import { HistoryPanel } from "./HistoryPanel";
import { MapDetails } from "./MapDetails";
import { MenuButton } from "./MenuButton";
import { historyReducer, initHistory, LANE_KINDS, type Action } from "./model";
import { PersonaPanel } from "./PersonaPanel";
import { Presentation } from "./Presentation";
import "./editor.css";
import { useAutosave, type SaveState } from "./useAutosave";

export interface EditorContext {
  map: JourneyMap;
  // dispatch changes the map (undoably, autosaved); absent for viewers.
  dispatch?: (a: Action) => void;
}

export interface EditorProps {
  api: Api;
  initial: JourneyMap;
  personas: Persona[];
  canEdit: boolean;
  // The board's extension points, passed through (see MapBoard).
  stepDecoration?: (stepId: string) => ReactNode;
  stepActions?: StepAction[];
  onStepAction?: (stepId: string, action: string) => void;
  // extras is drawn between the toolbar and the board: panels and toggles
  // of other features that read or change the map.
  extras?: (ctx: EditorContext) => ReactNode;
  autosaveDelay?: number;
}

type Panel = "none" | "history" | "personas" | "present";

function isTyping(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  return Boolean(el?.closest?.("input, textarea, select, [contenteditable=true]"));
}

// Editor is the map page's working area: the title, the toolbar (undo and
// redo, adding stages and lanes, personas, history, export, presentation),
// the save status, and the board. Every change is a new whole document in
// the undo history and is saved shortly after it is made.
export function Editor({ api, initial, personas, canEdit, stepDecoration, stepActions, onStepAction, extras, autosaveDelay }: EditorProps) {
  const { t, i18n } = useTranslation("editor");
  const { t: tc } = useTranslation();
  const [h, send] = useReducer(historyReducer, initial, initHistory);
  const map = h.present;
  const save = useAutosave(api, map, initial, autosaveDelay);
  const [panel, setPanel] = useState<Panel>("none");
  const [conflictOpen, setConflictOpen] = useState(true);
  const [exporting, setExporting] = useState("");
  const [exportError, setExportError] = useState("");
  const [namingLane, setNamingLane] = useState(false);
  const laneButton = useRef<HTMLButtonElement>(null);
  const dispatch = useCallback((a: Action) => send(a), []);
  const edit = canEdit ? dispatch : undefined;
  const status = save.state.status;

  useEffect(() => {
    document.title = `${map.name} · ${tc("app.name")}`;
  }, [map.name, tc]);

  // Undo and redo from the keyboard, except where text fields have their
  // own, and while a dialog has the focus.
  useEffect(() => {
    if (!canEdit) return;
    const onKey = (e: KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey) || e.altKey || isTyping(e.target)) return;
      if ((e.target as HTMLElement | null)?.closest?.("[role=dialog], [role=alertdialog]")) return;
      const k = e.key.toLowerCase();
      if (k === "z" && !e.shiftKey) send({ type: "undo" });
      else if ((k === "z" && e.shiftKey) || k === "y") send({ type: "redo" });
      else return;
      e.preventDefault();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [canEdit]);

  // Warn before leaving with changes the server does not have yet.
  useEffect(() => {
    if (status === "saved") return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [status]);

  useEffect(() => {
    if (status === "conflict") setConflictOpen(true);
  }, [status]);

  const replaceWith = (m: JourneyMap, undoable: boolean) => {
    save.rebase(m);
    send(undoable ? { type: "replace", map: m } : { type: "reset", map: m });
  };

  const labels: SvgLabels = {
    lane: (l) => l.name || tc(`lanes.${l.kind}`, { defaultValue: l.kind }),
    channel: (c) => tc(`channels.${c}`, { defaultValue: c }),
    emotion: (s) => tc(`emotion.${s}`),
    noSteps: tc("map.noSteps"),
  };
  const runExport = async (kind: "png" | "svg" | "pdf") => {
    setExporting(kind);
    setExportError("");
    try {
      if (kind === "svg") {
        const doc = exportSvg(map, labels);
        download(new Blob([doc.svg], { type: "image/svg+xml" }), fileName(map.name, "svg"));
      } else if (kind === "png") {
        download(await exportPng(map, labels), fileName(map.name, "png"));
      } else {
        download(await exportPdf(map, labels), fileName(map.name, "pdf"));
      }
    } catch (e) {
      setExportError(t("export.failed", { message: e instanceof Error ? e.message : String(e) }));
    } finally {
      setExporting("");
    }
  };

  const fieldErrors = Object.fromEntries(save.state.fields.map((f) => [f.path, f.message]));
  const existing = new Set(lanesOf(map).map((l) => l.kind));
  // Built-in lanes a map has at most once; custom lanes as many as wanted.
  const addable = LANE_KINDS.filter((k) => k !== "custom" && !existing.has(k));
  const names = (map.personaIds ?? []).map((id) => personas.find((p) => p.id === id)?.name ?? id);

  return (
    <>
      <div className="page-head">
        <h1 lang={map.locale || undefined}>
          {edit ? (
            <EditableText
              value={map.name}
              label={t("map.name")}
              onCommit={(name) => dispatch({ type: "renameMap", name })}
              error={fieldErrors.name}
              lang={map.locale || undefined}
            />
          ) : (
            map.name
          )}
        </h1>
        <span className="badge">{tc(`kinds.${map.kind}`)}</span>
        <span className="muted">{tc("map.version", { version: save.state.version })}</span>
        {canEdit ? <SaveStatus state={save.state} onRetry={save.retry} onResolve={() => setConflictOpen(true)} /> : <span className="muted">{tc("map.readOnly")}</span>}
      </div>
      {save.state.savedAt && (
        <p className="muted">
          <time dateTime={save.state.savedAt} title={absoluteTime(save.state.savedAt, i18n.language)}>
            {tc("map.updated", { when: relativeTime(save.state.savedAt, i18n.language), who: save.state.savedBy ?? "" })}
          </time>
        </p>
      )}
      <MapDetails map={map} personaNames={names} dispatch={edit} fieldErrors={fieldErrors} />

      <div className="toolbar" role="toolbar" aria-label={t("toolbar.label")}>
        {edit && (
          <div className="tool-group">
            <button type="button" className="button small" onClick={() => send({ type: "undo" })} disabled={h.past.length === 0} aria-keyshortcuts="Control+Z">
              <span aria-hidden="true">↶</span> {t("toolbar.undo")}
            </button>
            <button
              type="button"
              className="button small"
              onClick={() => send({ type: "redo" })}
              disabled={h.future.length === 0}
              aria-keyshortcuts="Control+Shift+Z Control+Y"
            >
              <span aria-hidden="true">↷</span> {t("toolbar.redo")}
            </button>
          </div>
        )}
        {edit && (
          <div className="tool-group">
            <button type="button" className="button small" onClick={() => dispatch({ type: "addStage", name: t("stage.newName") })}>
              {t("toolbar.addStage")}
            </button>
            <MenuButton
              label={t("toolbar.addLane")}
              face={
                <>
                  {t("toolbar.addLane")} <span aria-hidden="true">▾</span>
                </>
              }
              className="button small"
              align="left"
              buttonRef={laneButton}
              items={[
                ...addable.map((k) => ({ action: k, label: tc(`lanes.${k}`) })),
                { action: "custom", label: t("toolbar.customLane"), separated: addable.length > 0 },
              ]}
              onPick={(kind) => (kind === "custom" ? setNamingLane(true) : dispatch({ type: "addLane", kind }))}
            />
            {namingLane && (
              <span className="new-lane">
                <EditableText
                  value=""
                  editing
                  label={t("toolbar.customLaneName")}
                  placeholder={t("lane.newCustom")}
                  onCommit={(name) => {
                    setNamingLane(false);
                    requestAnimationFrame(() => laneButton.current?.focus());
                    if (name.trim()) dispatch({ type: "addLane", kind: "custom", name: name.trim() });
                  }}
                  onCancel={() => {
                    setNamingLane(false);
                    requestAnimationFrame(() => laneButton.current?.focus());
                  }}
                  lang={map.locale || undefined}
                />
              </span>
            )}
          </div>
        )}
        <div className="tool-group">
          <button type="button" className="button small" onClick={() => setPanel("personas")}>
            {t("toolbar.personas", { count: map.personaIds?.length ?? 0 })}
          </button>
          <button type="button" className="button small" onClick={() => setPanel("history")}>
            {t("toolbar.history")}
          </button>
        </div>
        <div className="tool-group" role="group" aria-label={t("export.label")}>
          {(["png", "svg", "pdf"] as const).map((k) => (
            <button key={k} type="button" className="button small" onClick={() => void runExport(k)} disabled={Boolean(exporting)} aria-label={t("export.as", { format: k.toUpperCase() })}>
              {exporting === k ? t("export.working") : k.toUpperCase()}
            </button>
          ))}
        </div>
        <div className="tool-group">
          <button type="button" className="button small primary" onClick={() => setPanel("present")}>
            {t("toolbar.present")}
          </button>
        </div>
      </div>
      {exportError && (
        <p className="error" role="alert">
          {exportError}
        </p>
      )}
      {status === "invalid" && <FieldErrors fields={save.state.fields} map={map} />}
      {extras?.({ map, dispatch: edit })}
      <MapBoard map={map} dispatch={edit} stepDecoration={stepDecoration} stepActions={stepActions} onStepAction={onStepAction} fieldErrors={fieldErrors} />
      {edit && <p className="muted hint">{t("hint")}</p>}

      {panel === "history" && (
        <HistoryPanel
          api={api}
          mapId={map.id}
          current={save.state.version}
          canEdit={canEdit && status !== "conflict"}
          onRestored={(m) => {
            replaceWith(m, true);
            setPanel("none");
          }}
          onClose={() => setPanel("none")}
        />
      )}
      {panel === "personas" && (
        <PersonaPanel
          linked={map.personaIds ?? []}
          personas={personas}
          canEdit={canEdit}
          onChange={(ids) => dispatch({ type: "setPersonas", personaIds: ids })}
          onClose={() => setPanel("none")}
        />
      )}
      {panel === "present" && <Presentation map={map} onClose={() => setPanel("none")} />}
      {status === "conflict" && conflictOpen && (
        <ConflictDialog
          current={save.state.conflict}
          base={save.state.version}
          onClose={() => setConflictOpen(false)}
          onKeepMine={() => save.keepMine(save.state.conflict?.version ?? save.state.version)}
          onDiscardMine={async () => replaceWith(await api.map(map.id), false)}
        />
      )}
    </>
  );
}

function SaveStatus({ state, onRetry, onResolve }: { state: SaveState; onRetry: () => void; onResolve: () => void }) {
  const { t } = useTranslation("editor");
  const { t: tc } = useTranslation();
  return (
    <span className={`save-status save-${state.status}`}>
      <span role="status">
        {state.status === "error" ? t("save.error", { message: errorText(tc, state.error) }) : t(`save.${state.status}`)}
      </span>
      {state.status === "error" && (
        <button type="button" className="button small" onClick={onRetry}>
          {tc("common.retry")}
        </button>
      )}
      {state.status === "conflict" && (
        <button type="button" className="button small" onClick={onResolve}>
          {t("conflict.resolve")}
        </button>
      )}
    </span>
  );
}

// placeOf says in words where a field the server complained about is:
// "Stage “Buy” › Step “Pay” › painPoints[2]".
export function placeOf(path: string, map: JourneyMap): string {
  const m = /^stages\[(\d+)\](?:\.steps\[(\d+)\])?\.?(.*)$/.exec(path);
  if (!m) {
    const l = /^lanes\[(\d+)\]\.?(.*)$/.exec(path);
    if (l) {
      const lane = map.lanes?.[Number(l[1])];
      return [lane ? `“${lane.name || lane.kind}”` : `lanes[${l[1]}]`, l[2]].filter(Boolean).join(" › ");
    }
    return path;
  }
  const stage = map.stages[Number(m[1])];
  const step = m[2] !== undefined ? stage?.steps[Number(m[2])] : undefined;
  return [stage ? `“${stage.name}”` : `stages[${m[1]}]`, m[2] !== undefined ? (step ? `“${step.name}”` : `steps[${m[2]}]`) : "", m[3]]
    .filter(Boolean)
    .join(" › ");
}

function FieldErrors({ fields, map }: { fields: FieldError[]; map: JourneyMap }) {
  const { t } = useTranslation("editor");
  return (
    <div className="error field-errors" role="alert">
      <p>{t("save.invalidDetail")}</p>
      <ul>
        {fields.map((f, i) => (
          <li key={i}>
            <span className="field-path">{placeOf(f.path, map)}</span>: {f.message}
          </li>
        ))}
      </ul>
    </div>
  );
}
