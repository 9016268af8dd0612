import { useCallback, useEffect, useRef, useState, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import type { JourneyMap } from "../api";
import type { StepAction } from "../map/MapBoard";
import { stepBinding, type Binding } from "../data/api";
import { BindingPanel } from "./BindingPanel";
import { NO_FILTER, OverlayControls, OverlaySummary, overlayDecoration, useOverlay, whyHref, type OverlayFilter } from "./Overlay";
import { analysisHref, go } from "./links";
import "../data/data.css";

// What the editor hands to its extras: the map as edited and, for editors,
// the way to change it (undoably, autosaved).
interface Ctx {
  map: JourneyMap;
  dispatch?: (a: { type: "setBinding"; stepId: string; binding: Binding | null }) => void;
}

export const BIND_ACTION = "data:bind";
export const WHY_ACTION = "data:why";
// Views that start from a step's first bound event.
const FROM_STEP: Record<string, { kind: "paths" | "trends" | "retention"; param: string }> = {
  "data:paths": { kind: "paths", param: "event" },
  "data:trends": { kind: "trends", param: "event" },
  "data:retention": { kind: "retention", param: "start" },
};

function findStep(map: JourneyMap, stepId: string) {
  return map.stages.flatMap((s) => s.steps).find((s) => s.id === stepId);
}

// useMapData adds the data features to the map editor: a step action to
// bind a step to data, one to ask why people leave there, and the live
// overlay (a toggle, its range and segment, the numbers on every bound
// step and the map-level summary). It returns the editor's extension
// props.
export function useMapData(initial: JourneyMap | null, canEdit: boolean) {
  const { t } = useTranslation(["data", "translation"]);
  const [on, setOn] = useState(false);
  const [filter, setFilter] = useState<OverlayFilter>(NO_FILTER);
  const [binding, setBinding] = useState<string | null>(null);
  // The editor owns the document; the latest one it showed is kept here so
  // decorations and actions read the map as edited.
  const [latest, setLatest] = useState<JourneyMap | null>(initial);
  const ctxRef = useRef<Ctx | null>(null);
  const map = latest ?? initial;
  const overlay = useOverlay(map, on, filter);

  const stepActions: StepAction[] = [
    { action: BIND_ACTION, label: canEdit ? t("binding.action") : t("binding.view") },
    { action: WHY_ACTION, label: t("overlay.why") },
    { action: "data:paths", label: t("overlay.pathsFrom") },
    { action: "data:trends", label: t("overlay.trendsOf") },
    { action: "data:retention", label: t("overlay.retentionFrom") },
  ];

  const onStepAction = useCallback(
    (stepId: string, action: string) => {
      const m = ctxRef.current?.map ?? map;
      if (!m) return;
      if (action === BIND_ACTION) setBinding(stepId);
      if (action === WHY_ACTION) go(whyHref(m, stepId, filter) ?? analysisHref("funnel", { map: m.id, step: stepId }));
      const view = FROM_STEP[action];
      if (view) {
        const step = findStep(m, stepId);
        const b = step && stepBinding(step);
        go(analysisHref(view.kind, { map: m.id, [view.param]: b?.events[0], from: filter.from, to: filter.to }));
      }
    },
    [map, filter],
  );

  const decorate = map && on && overlay.metrics ? overlayDecoration(map, overlay, filter) : null;
  const stepDecoration = (stepId: string): ReactNode => {
    if (decorate) return decorate(stepId);
    const step = map && findStep(map, stepId);
    const b = step && stepBinding(step);
    return b ? <p className="binding-chip small muted">{t("binding.bound", { events: b.events.join(", ") })}</p> : null;
  };

  const extras = (ctx: Ctx) => {
    ctxRef.current = ctx;
    return (
    <MapDataBar
      ctx={ctx}
      on={on}
      setOn={setOn}
      filter={filter}
      setFilter={setFilter}
      overlay={overlay}
      bindingStep={binding}
      closeBinding={() => setBinding(null)}
      onMap={(m) => {
        if (m !== latest) setLatest(m);
      }}
    />
    );
  };

  return { stepDecoration, stepActions, onStepAction, extras };
}

interface BarProps {
  ctx: Ctx;
  on: boolean;
  setOn: (on: boolean) => void;
  filter: OverlayFilter;
  setFilter: (f: OverlayFilter) => void;
  overlay: ReturnType<typeof useOverlay>;
  bindingStep: string | null;
  closeBinding: () => void;
  onMap: (m: JourneyMap) => void;
}

// MapDataBar sits between the editor's toolbar and the board: the overlay
// toggle, its controls and summary, and the binding panel when open.
function MapDataBar({ ctx, on, setOn, filter, setFilter, overlay, bindingStep, closeBinding, onMap }: BarProps) {
  const { t } = useTranslation(["data", "translation"]);
  useEffect(() => onMap(ctx.map), [ctx.map]);
  const step = bindingStep ? findStep(ctx.map, bindingStep) : undefined;
  return (
    <section className="map-data" aria-label={t("overlay.title")}>
      <label className="check overlay-toggle">
        <input type="checkbox" role="switch" checked={on} onChange={(e) => setOn(e.target.checked)} />
        {t("overlay.toggle")}
      </label>
      {on && (
        <>
          <OverlayControls filter={filter} onChange={setFilter} />
          <OverlaySummary map={ctx.map} o={overlay} />
        </>
      )}
      {step && (
        <BindingPanel
          stepName={step.name}
          binding={stepBinding(step)}
          readOnly={!ctx.dispatch}
          onClose={closeBinding}
          onSave={(b) => ctx.dispatch?.({ type: "setBinding", stepId: step.id, binding: b })}
        />
      )}
    </section>
  );
}
