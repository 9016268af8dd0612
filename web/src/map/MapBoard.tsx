import { useCallback, useId, useLayoutEffect, useRef, useState, type DragEvent, type KeyboardEvent, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import type { JourneyMap, Lane, Stage, Step } from "../api";
import { lanesOf } from "./lanes";
import { ChannelIcon } from "./channelIcons";
import { EditableText } from "../editor/EditableText";
import { EmotionCurve, type CurvePoint } from "../editor/EmotionCurve";
import { StepMenu, type MenuItem } from "../editor/StepMenu";
import { CHANNELS, itemsOf, laneField, stepMoveTarget, type Action } from "../editor/model";

// A step action another part of the app adds to each step's menu, such as
// binding the step to data or opening an analysis from it.
export interface StepAction {
  action: string;
  label: string;
}

export type Mark = "added" | "changed" | "moved";

export interface MapBoardProps {
  map: JourneyMap;
  // dispatch makes the board an editor; without it the board is read-only.
  dispatch?: (a: Action) => void;
  // stepDecoration is drawn inside each step's header card: live numbers,
  // badges. It is the board's extension point for overlays.
  stepDecoration?: (stepId: string) => ReactNode;
  // stepActions are added to every step's menu; picking one calls
  // onStepAction with the step's id and the action's name.
  stepActions?: StepAction[];
  onStepAction?: (stepId: string, action: string) => void;
  // marks highlight what changed, keyed "stage:<id>", "step:<id>", "lane:<id>".
  marks?: Record<string, Mark>;
  // fieldErrors are the server's complaints keyed by JSON path
  // ("stages[0].steps[1].name"), shown beside the field they are about.
  fieldErrors?: Record<string, string>;
  label?: string;
}

type DragKind = "stage" | "step" | "lane";

interface Column {
  stepId: string | null;
  left: number;
  width: number;
}

// The width a column gets where there is no layout to measure (tests).
const FALLBACK_COLUMN = 200;

// MapBoard draws a map as a grid: stages and their steps as columns, lanes
// as rows, the emotion curve across the steps. Given dispatch, every part
// can be renamed, added, moved (drag and drop, buttons, Alt+arrow keys) and
// deleted in place.
export function MapBoard({ map, dispatch, stepDecoration, stepActions, onStepAction, marks, fieldErrors, label }: MapBoardProps) {
  const { t } = useTranslation();
  const { t: te } = useTranslation("editor");
  const lanes = lanesOf(map);
  const editing = Boolean(dispatch);
  const cols = map.stages.flatMap((st, si) =>
    st.steps.length ? st.steps.map((s, j) => ({ stage: st, si, step: s as Step | null, j })) : [{ stage: st, si, step: null, j: -1 }],
  );
  const laneName = (l: Lane) => l.name || t(`lanes.${l.kind}`, { defaultValue: l.kind });
  const errs = fieldErrors ?? {};
  const mark = (k: string) => (marks?.[k] ? ` mark-${marks[k]}` : "");
  const uid = useId();

  // Drag and drop: what is being dragged lives here, because a drag-over
  // handler cannot read the data it carries.
  const dragging = useRef<{ kind: DragKind; id: string } | null>(null);
  const [over, setOver] = useState<string>("");
  const dragProps = (kind: DragKind, id: string) =>
    editing
      ? {
          draggable: true,
          onDragStart: (e: DragEvent) => {
            if ((e.target as HTMLElement).closest("input, textarea, select")) {
              e.preventDefault();
              return;
            }
            dragging.current = { kind, id };
            e.dataTransfer.effectAllowed = "move";
            e.dataTransfer.setData("text/plain", `${kind}:${id}`);
          },
          onDragEnd: () => {
            dragging.current = null;
            setOver("");
          },
        }
      : {};
  const dropProps = (accepts: DragKind[], key: string, drop: (d: { kind: DragKind; id: string }) => void) =>
    editing
      ? {
          onDragOver: (e: DragEvent) => {
            const d = dragging.current;
            if (!d || !accepts.includes(d.kind)) return;
            e.preventDefault();
            e.dataTransfer.dropEffect = "move";
            if (over !== key) setOver(key);
          },
          onDragLeave: () => setOver((o) => (o === key ? "" : o)),
          onDrop: (e: DragEvent) => {
            const d = dragging.current;
            dragging.current = null;
            setOver("");
            if (!d || !accepts.includes(d.kind)) return;
            e.preventDefault();
            drop(d);
          },
        }
      : {};
  const dropClass = (key: string) => (over === key ? " drop-target" : "");

  // Alt+arrow keys move the focused stage, step or lane, the keyboard's way
  // of dragging it.
  const altMove = (e: KeyboardEvent, horiz: (dir: -1 | 1) => void, vert?: (dir: -1 | 1) => void) => {
    if (!editing || !e.altKey || e.ctrlKey || e.metaKey) return;
    const dir = e.key === "ArrowLeft" || e.key === "ArrowUp" ? -1 : e.key === "ArrowRight" || e.key === "ArrowDown" ? 1 : 0;
    if (!dir) return;
    const h = e.key === "ArrowLeft" || e.key === "ArrowRight";
    if (h && horiz) horiz(dir);
    else if (!h && vert) vert(dir);
    else return;
    e.preventDefault();
  };

  const moveStep = (stepId: string, dir: -1 | 1) => {
    const tgt = stepMoveTarget(map, stepId, dir);
    if (tgt) dispatch!({ type: "moveStep", stepId, ...tgt });
  };

  const stepMenu = (stage: Stage, step: Step, j: number): { items: MenuItem[]; onPick: (a: string) => void } => {
    const own: MenuItem[] = editing
      ? [
          { action: "editor:addBefore", label: te("step.addBefore") },
          { action: "editor:addAfter", label: te("step.addAfter") },
          { action: "editor:left", label: te("step.moveLeft", { name: step.name }), disabled: !stepMoveTarget(map, step.id, -1) },
          { action: "editor:right", label: te("step.moveRight", { name: step.name }), disabled: !stepMoveTarget(map, step.id, 1) },
          { action: "editor:delete", label: te("step.delete", { name: step.name }) },
        ]
      : [];
    const onPick = (a: string) => {
      switch (a) {
        case "editor:addBefore":
        case "editor:addAfter":
          dispatch!({ type: "addStep", stageId: stage.id, at: a === "editor:addBefore" ? j : j + 1, name: te("step.newName") });
          return;
        case "editor:left":
          moveStep(step.id, -1);
          return;
        case "editor:right":
          moveStep(step.id, 1);
          return;
        case "editor:delete":
          dispatch!({ type: "deleteStep", stepId: step.id });
          return;
      }
      onStepAction?.(step.id, a);
    };
    return { items: [...own, ...(stepActions ?? [])], onPick };
  };

  // Column positions for the emotion curve, measured from the step headers
  // after layout, so the curve's points sit over their steps at any width.
  const table = useRef<HTMLTableElement>(null);
  const curveCell = useRef<HTMLTableCellElement>(null);
  const [columns, setColumns] = useState<Column[]>([]);
  const measure = useCallback(() => {
    const heads = Array.from(table.current?.querySelectorAll<HTMLElement>("thead tr.step-row > [data-col]") ?? []);
    const origin = curveCell.current?.offsetLeft ?? 0;
    const next: Column[] = heads.map((h, i) => {
      const w = h.offsetWidth;
      return w > 0
        ? { stepId: h.dataset.step ?? null, left: h.offsetLeft - origin, width: w }
        : { stepId: h.dataset.step ?? null, left: i * FALLBACK_COLUMN, width: FALLBACK_COLUMN };
    });
    // Sub-pixel differences are ignored, so that measuring can never feed
    // back into layout and loop.
    const same = (a: Column[], b: Column[]) =>
      a.length === b.length && a.every((c, i) => c.stepId === b[i].stepId && Math.abs(c.left - b[i].left) < 1.5 && Math.abs(c.width - b[i].width) < 1.5);
    setColumns((prev) => (same(prev, next) ? prev : next));
  }, []);
  useLayoutEffect(measure);
  useLayoutEffect(() => {
    if (typeof ResizeObserver === "undefined" || !table.current) return;
    const ro = new ResizeObserver(() => measure());
    ro.observe(table.current);
    return () => ro.disconnect();
  }, [measure]);

  const stepPath = new Map<string, string>();
  map.stages.forEach((st, i) => st.steps.forEach((s, j) => stepPath.set(s.id, `stages[${i}].steps[${j}]`)));

  return (
    <div className={`board-scroll${editing ? " editing" : ""}`} tabIndex={0} role="region" aria-label={label ?? t("map.board")}>
      <table className="board" lang={map.locale || undefined} ref={table}>
        <thead>
          <tr className="stage-row">
            <td className="corner" />
            {map.stages.map((st, si) => {
              const nameId = `${uid}-stage-${st.id}`;
              const path = `stages[${si}]`;
              return (
                <th
                  key={st.id}
                  scope="colgroup"
                  colSpan={Math.max(1, st.steps.length)}
                  className={`stage-head${mark(`stage:${st.id}`)}${dropClass(`stage:${st.id}`)}`}
                  aria-labelledby={nameId}
                  data-stage={st.id}
                  {...dragProps("stage", st.id)}
                  {...dropProps(["stage", "step"], `stage:${st.id}`, (d) =>
                    d.kind === "stage"
                      ? dispatch!({ type: "moveStage", stageId: d.id, to: si })
                      : dispatch!({ type: "moveStep", stepId: d.id, toStage: st.id, to: st.steps.length }),
                  )}
                  onKeyDown={(e) =>
                    altMove(e, (dir) => dispatch!({ type: "moveStage", stageId: st.id, to: si + dir }))
                  }
                >
                  <div className="head-line">
                    {editing ? (
                      <EditableText
                        id={nameId}
                        value={st.name}
                        label={te("stage.name")}
                        onCommit={(name) => dispatch!({ type: "renameStage", stageId: st.id, name })}
                        error={errs[`${path}.name`]}
                        lang={map.locale || undefined}
                      />
                    ) : (
                      <span id={nameId}>{st.name}</span>
                    )}
                    {marks?.[`stage:${st.id}`] && <span className="visually-hidden"> ({te(`diff.op.${marks[`stage:${st.id}`]}`)})</span>}
                  </div>
                  {editing && (
                    <div className="head-tools">
                      <button
                        type="button"
                        className="icon-button small"
                        aria-label={te("stage.moveLeft", { name: st.name })}
                        disabled={si === 0}
                        onClick={() => dispatch!({ type: "moveStage", stageId: st.id, to: si - 1 })}
                      >
                        <span aria-hidden="true">◀</span>
                      </button>
                      <button
                        type="button"
                        className="icon-button small"
                        aria-label={te("stage.moveRight", { name: st.name })}
                        disabled={si === map.stages.length - 1}
                        onClick={() => dispatch!({ type: "moveStage", stageId: st.id, to: si + 1 })}
                      >
                        <span aria-hidden="true">▶</span>
                      </button>
                      <button
                        type="button"
                        className="icon-button small"
                        aria-label={te("stage.addStep", { name: st.name })}
                        onClick={() => dispatch!({ type: "addStep", stageId: st.id, name: te("step.newName") })}
                      >
                        <span aria-hidden="true">+</span>
                      </button>
                      <button
                        type="button"
                        className="icon-button small danger-text"
                        aria-label={te("stage.delete", { name: st.name })}
                        disabled={map.stages.length <= 1}
                        onClick={() => dispatch!({ type: "deleteStage", stageId: st.id })}
                      >
                        <span aria-hidden="true">✕</span>
                      </button>
                    </div>
                  )}
                </th>
              );
            })}
          </tr>
          <tr className="step-row">
            <td className="corner" />
            {cols.map(({ stage, si, step, j }) => {
              if (!step) {
                return (
                  <td
                    key={`${stage.id}-empty`}
                    className={`step-head muted${dropClass(`empty:${stage.id}`)}`}
                    data-col
                    {...dropProps(["step"], `empty:${stage.id}`, (d) => dispatch!({ type: "moveStep", stepId: d.id, toStage: stage.id, to: 0 }))}
                  >
                    {t("map.noSteps")}
                    {editing && (
                      <button
                        type="button"
                        className="button small"
                        onClick={() => dispatch!({ type: "addStep", stageId: stage.id, name: te("step.newName") })}
                      >
                        {te("stage.addStep", { name: stage.name })}
                      </button>
                    )}
                  </td>
                );
              }
              const nameId = `${uid}-step-${step.id}`;
              const path = `stages[${si}].steps[${j}]`;
              const menu = stepMenu(stage, step, j);
              return (
                <th
                  key={step.id}
                  scope="col"
                  className={`step-head${mark(`step:${step.id}`)}${dropClass(`step:${step.id}`)}`}
                  aria-labelledby={nameId}
                  data-col
                  data-step={step.id}
                  {...dragProps("step", step.id)}
                  {...dropProps(["step"], `step:${step.id}`, (d) => dispatch!({ type: "moveStep", stepId: d.id, toStage: stage.id, to: j }))}
                  onKeyDown={(e) => altMove(e, (dir) => moveStep(step.id, dir))}
                >
                  <div className="head-line">
                    {editing ? (
                      <EditableText
                        id={nameId}
                        value={step.name}
                        label={te("step.name")}
                        onCommit={(name) => dispatch!({ type: "renameStep", stepId: step.id, name })}
                        error={errs[`${path}.name`]}
                        lang={map.locale || undefined}
                      />
                    ) : (
                      <span id={nameId}>{step.name}</span>
                    )}
                    {marks?.[`step:${step.id}`] && <span className="visually-hidden"> ({te(`diff.op.${marks[`step:${step.id}`]}`)})</span>}
                    {menu.items.length > 0 && <StepMenu stepName={step.name} items={menu.items} onPick={menu.onPick} />}
                  </div>
                  {stepDecoration && <div className="step-decoration">{stepDecoration(step.id)}</div>}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {lanes.map((lane, li) => {
            const nameId = `${uid}-lane-${lane.id}`;
            const lanePath = map.lanes?.length ? `lanes[${li}]` : "";
            return (
              <tr key={lane.id} className={`lane lane-${lane.kind}`}>
                <th
                  scope="row"
                  className={`lane-head${mark(`lane:${lane.id}`)}${dropClass(`lane:${lane.id}`)}`}
                  aria-labelledby={nameId}
                  {...dragProps("lane", lane.id)}
                  {...dropProps(["lane"], `lane:${lane.id}`, (d) => dispatch!({ type: "moveLane", laneId: d.id, to: li }))}
                  onKeyDown={(e) => altMove(e, () => {}, (dir) => dispatch!({ type: "moveLane", laneId: lane.id, to: li + dir }))}
                >
                  {editing ? (
                    <EditableText
                      id={nameId}
                      value={lane.name ?? ""}
                      placeholder={laneName(lane)}
                      label={te("lane.name")}
                      onCommit={(name) => dispatch!({ type: "renameLane", laneId: lane.id, name })}
                      error={lanePath ? errs[`${lanePath}.name`] : undefined}
                    />
                  ) : (
                    <span id={nameId}>{laneName(lane)}</span>
                  )}
                  {marks?.[`lane:${lane.id}`] && <span className="visually-hidden"> ({te(`diff.op.${marks[`lane:${lane.id}`]}`)})</span>}
                  {editing && (
                    <div className="head-tools">
                      <button
                        type="button"
                        className="icon-button small"
                        aria-label={te("lane.moveUp", { name: laneName(lane) })}
                        disabled={li === 0}
                        onClick={() => dispatch!({ type: "moveLane", laneId: lane.id, to: li - 1 })}
                      >
                        <span aria-hidden="true">▲</span>
                      </button>
                      <button
                        type="button"
                        className="icon-button small"
                        aria-label={te("lane.moveDown", { name: laneName(lane) })}
                        disabled={li === lanes.length - 1}
                        onClick={() => dispatch!({ type: "moveLane", laneId: lane.id, to: li + 1 })}
                      >
                        <span aria-hidden="true">▼</span>
                      </button>
                      <button
                        type="button"
                        className="icon-button small danger-text"
                        aria-label={te("lane.delete", { name: laneName(lane) })}
                        disabled={lanes.length <= 1}
                        onClick={() => dispatch!({ type: "deleteLane", laneId: lane.id })}
                      >
                        <span aria-hidden="true">✕</span>
                      </button>
                    </div>
                  )}
                </th>
                {lane.kind === "emotions" ? (
                  <td ref={curveCell} className="emotion-cell" colSpan={Math.max(1, cols.length)}>
                    <EmotionRow map={map} columns={columns} dispatch={dispatch} errs={errs} stepPath={stepPath} />
                  </td>
                ) : (
                  cols.map(({ stage, step }) => (
                    <td key={step ? step.id : `${stage.id}-empty`}>
                      {step && (
                        <Cell step={step} lane={lane} laneName={laneName(lane)} dispatch={dispatch} errs={errs} path={stepPath.get(step.id)!} locale={map.locale} />
                      )}
                    </td>
                  ))
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function EmotionRow({
  map,
  columns,
  dispatch,
  errs,
  stepPath,
}: {
  map: JourneyMap;
  columns: Column[];
  dispatch?: (a: Action) => void;
  errs: Record<string, string>;
  stepPath: Map<string, string>;
}) {
  const { t: te } = useTranslation("editor");
  const steps = new Map(map.stages.flatMap((st) => st.steps.map((s) => [s.id, s] as const)));
  const points: CurvePoint[] = columns
    .filter((c) => c.stepId && steps.has(c.stepId))
    .map((c) => {
      const s = steps.get(c.stepId!)!;
      return { stepId: s.id, stepName: s.name, score: s.emotion ? s.emotion.score : null, x: c.left + c.width / 2 };
    });
  const width = columns.reduce((w, c) => Math.max(w, c.left + c.width), 0);
  return (
    <div className="emotion-row">
      <EmotionCurve
        points={points}
        width={Math.max(width, 1)}
        onChange={dispatch ? (stepId, score) => dispatch({ type: "setEmotion", stepId, score }) : undefined}
      />
      <div className="emotion-notes">
        {columns.map((c, i) => {
          const s = c.stepId ? steps.get(c.stepId) : undefined;
          const path = s ? stepPath.get(s.id) : "";
          const err = s ? errs[`${path}.emotion.score`] ?? errs[`${path}.emotion.note`] ?? errs[`${path}.emotion`] : undefined;
          return (
            <div key={c.stepId ?? `empty-${i}`} className="emotion-note" ref={(el) => {
                // A style attribute would break the page's Content-Security-Policy; the CSSOM does not.
                if (el) el.style.width = `${c.width}px`;
              }}>
              {s && dispatch && s.emotion ? (
                <EditableText
                  value={s.emotion.note ?? ""}
                  placeholder={te("emotion.addNote")}
                  label={te("emotion.note", { step: s.name })}
                  multiline
                  onCommit={(note) => dispatch({ type: "setEmotion", stepId: s.id, score: s.emotion!.score, note })}
                  error={err}
                  lang={map.locale || undefined}
                />
              ) : (
                s?.emotion?.note && <span lang={map.locale || undefined}>{s.emotion.note}</span>
              )}
              {err && !dispatch && <span className="field-error">{err}</span>}
            </div>
          );
        })}
      </div>
    </div>
  );
}

interface CellProps {
  step: Step;
  lane: Lane;
  laneName: string;
  dispatch?: (a: Action) => void;
  errs: Record<string, string>;
  path: string;
  locale?: string;
}

// shorten keeps labels of long items readable when they name a button.
function shorten(s: string, n = 40): string {
  const cps = Array.from(s);
  return cps.length > n ? `${cps.slice(0, n - 1).join("")}…` : s;
}

function Cell({ step, lane, laneName, dispatch, errs, path, locale }: CellProps) {
  const { t } = useTranslation();
  const { t: te } = useTranslation("editor");
  const [adding, setAdding] = useState(false);
  const field = `${path}.${laneField(lane)}`;
  const cellErrors = Object.entries(errs)
    .filter(([p]) => p === field)
    .map(([, m]) => m);
  const lang = locale || undefined;

  if (lane.kind === "touchpoints") {
    const tps = step.touchpoints ?? [];
    return (
      <>
        <ul className="items">
          {tps.map((tp, i) => (
            <li key={i} className="touchpoint">
              {dispatch ? (
                <>
                  <span className={`channel channel-${tp.channel}`}>
                    <ChannelIcon channel={tp.channel} />
                    <select
                      aria-label={te("touchpoint.channel", { name: tp.name })}
                      value={tp.channel}
                      onChange={(e) => dispatch({ type: "setTouchpoint", stepId: step.id, index: i, touchpoint: { ...tp, channel: e.target.value } })}
                    >
                      {CHANNELS.map((c) => (
                        <option key={c} value={c}>
                          {t(`channels.${c}`)}
                        </option>
                      ))}
                    </select>
                  </span>
                  <EditableText
                    value={tp.name}
                    label={te("touchpoint.name")}
                    onCommit={(name) =>
                      dispatch(
                        name.trim()
                          ? { type: "setTouchpoint", stepId: step.id, index: i, touchpoint: { ...tp, name } }
                          : { type: "deleteTouchpoint", stepId: step.id, index: i },
                      )
                    }
                    error={errs[`${field}[${i}].name`] ?? errs[`${field}[${i}].channel`]}
                    lang={lang}
                  />
                  <button
                    type="button"
                    className="icon-button small item-delete"
                    aria-label={te("item.delete", { text: shorten(tp.name) })}
                    onClick={() => dispatch({ type: "deleteTouchpoint", stepId: step.id, index: i })}
                  >
                    <span aria-hidden="true">✕</span>
                  </button>
                </>
              ) : (
                <>
                  <span className={`channel channel-${tp.channel}`}>
                    <ChannelIcon channel={tp.channel} />
                    {t(`channels.${tp.channel}`, { defaultValue: tp.channel })}
                  </span>{" "}
                  <span lang={lang}>{tp.name}</span>
                </>
              )}
            </li>
          ))}
          {adding && dispatch && (
            <li className="touchpoint">
              <EditableText
                value=""
                editing
                label={te("touchpoint.name")}
                onCommit={(name) => {
                  setAdding(false);
                  if (name.trim()) dispatch({ type: "addTouchpoint", stepId: step.id, touchpoint: { channel: "web", name } });
                }}
                onCancel={() => setAdding(false)}
                lang={lang}
              />
            </li>
          )}
        </ul>
        {cellErrors.map((m, i) => (
          <span key={i} className="field-error" role="alert">
            {m}
          </span>
        ))}
        {dispatch && !adding && <AddButton label={te("item.add", { lane: laneName, step: step.name })} onClick={() => setAdding(true)} />}
      </>
    );
  }

  const items = itemsOf(step, lane);
  return (
    <>
      {(items.length > 0 || adding) && (
        <ul className="items">
          {items.map((x, i) => (
            <li key={i}>
              {dispatch ? (
                <span className="item-line">
                  <EditableText
                    value={x}
                    label={te("item.text", { lane: laneName })}
                    multiline
                    onCommit={(text) =>
                      dispatch(
                        text.trim()
                          ? { type: "setItem", stepId: step.id, laneId: lane.id, index: i, text }
                          : { type: "deleteItem", stepId: step.id, laneId: lane.id, index: i },
                      )
                    }
                    error={errs[`${field}[${i}]`]}
                    lang={lang}
                  />
                  <button
                    type="button"
                    className="icon-button small item-delete"
                    aria-label={te("item.delete", { text: shorten(x) })}
                    onClick={() => dispatch({ type: "deleteItem", stepId: step.id, laneId: lane.id, index: i })}
                  >
                    <span aria-hidden="true">✕</span>
                  </button>
                </span>
              ) : (
                <span lang={lang}>{x}</span>
              )}
            </li>
          ))}
          {adding && dispatch && (
            <li>
              <EditableText
                value=""
                editing
                multiline
                label={te("item.text", { lane: laneName })}
                onCommit={(text) => {
                  setAdding(false);
                  if (text.trim()) dispatch({ type: "addItem", stepId: step.id, laneId: lane.id, text });
                }}
                onCancel={() => setAdding(false)}
                lang={lang}
              />
            </li>
          )}
        </ul>
      )}
      {cellErrors.map((m, i) => (
        <span key={i} className="field-error" role="alert">
          {m}
        </span>
      ))}
      {dispatch && !adding && <AddButton label={te("item.add", { lane: laneName, step: step.name })} onClick={() => setAdding(true)} />}
    </>
  );
}

function AddButton({ label, onClick }: { label: string; onClick: () => void }) {
  return (
    <button type="button" className="add-item" aria-label={label} onClick={onClick}>
      <span aria-hidden="true">+</span>
    </button>
  );
}
