import type { JourneyMap, Lane, MapKind, Stage, Step, Touchpoint } from "../api";
import { lanesOf } from "../map/lanes";

// The editor changes a map only through these pure operations, so that
// every state the user passes through is a whole document that undo can
// return to and autosave can send as it is.

export type TextLaneKind =
  | "actions"
  | "thoughts"
  | "pain_points"
  | "opportunities"
  | "frontstage"
  | "backstage"
  | "support"
  | "policies"
  | "technology";

const TEXT_FIELDS: Record<TextLaneKind, keyof Step> = {
  actions: "actions",
  thoughts: "thoughts",
  pain_points: "painPoints",
  opportunities: "opportunities",
  frontstage: "frontstage",
  backstage: "backstage",
  support: "support",
  policies: "policies",
  technology: "technology",
};

export const LANE_KINDS = [
  "actions",
  "touchpoints",
  "thoughts",
  "emotions",
  "pain_points",
  "opportunities",
  "frontstage",
  "backstage",
  "support",
  "policies",
  "technology",
  "custom",
] as const;

export const CHANNELS = ["web", "mobile", "call_centre", "store", "email", "social", "ads", "chat", "partner", "crm", "other"] as const;

// Binding is a step's matcher on events (journey.Binding); the data
// features edit it, the editor carries it through saves and undo.
export interface Binding {
  events: string[];
  where?: { property: string; op: string; value?: unknown }[];
  channel?: string;
}

export const EMOTION_MIN = -2;
export const EMOTION_MAX = 2;

// The JSON field a lane's items live in, as the server names it in error
// paths ("stages[0].steps[1].painPoints[2]").
export function laneField(lane: Lane): string {
  if (lane.kind === "custom") return `custom.${lane.id}`;
  if (lane.kind === "touchpoints") return "touchpoints";
  if (lane.kind === "emotions") return "emotion";
  return (TEXT_FIELDS as Record<string, string>)[lane.kind] ?? lane.kind;
}

// The map's own text fields besides its name; an empty value removes the
// field, as the server leaves empty fields out.
export type MapTextField = "description" | "goal" | "locale";

// The server's bounds on tags (journey.Validate): at most MAX_TAGS, each
// of 1 to MAX_TAG_LEN characters.
export const MAX_TAGS = 30;
export const MAX_TAG_LEN = 60;

export type Action =
  | { type: "renameMap"; name: string }
  | { type: "setMapText"; field: MapTextField; value: string }
  | { type: "setKind"; kind: MapKind }
  | { type: "addTag"; tag: string }
  | { type: "removeTag"; tag: string }
  | { type: "addStage"; at?: number; id?: string; name: string }
  | { type: "renameStage"; stageId: string; name: string }
  | { type: "moveStage"; stageId: string; to: number }
  | { type: "deleteStage"; stageId: string }
  | { type: "addStep"; stageId: string; at?: number; id?: string; name: string }
  | { type: "renameStep"; stepId: string; name: string }
  | { type: "moveStep"; stepId: string; toStage: string; to: number }
  | { type: "deleteStep"; stepId: string }
  | { type: "addLane"; kind: string; name?: string; id?: string; at?: number }
  | { type: "renameLane"; laneId: string; name: string }
  | { type: "moveLane"; laneId: string; to: number }
  | { type: "deleteLane"; laneId: string }
  | { type: "setItem"; stepId: string; laneId: string; index: number; text: string }
  | { type: "addItem"; stepId: string; laneId: string; text: string }
  | { type: "deleteItem"; stepId: string; laneId: string; index: number }
  | { type: "setTouchpoint"; stepId: string; index: number; touchpoint: Touchpoint }
  | { type: "addTouchpoint"; stepId: string; touchpoint: Touchpoint }
  | { type: "deleteTouchpoint"; stepId: string; index: number }
  | { type: "setEmotion"; stepId: string; score: number | null; note?: string }
  | { type: "setPersonas"; personaIds: string[] }
  | { type: "setBinding"; stepId: string; binding: Binding | null }
  | { type: "replace"; map: JourneyMap };

// newId makes an id the server accepts (letters, digits, _ - .; starting
// with a letter) and that no stage, step or lane of the map uses yet.
export function newId(map: JourneyMap, prefix: string, rand: () => number = Math.random): string {
  const used = new Set<string>([
    ...map.stages.map((s) => s.id),
    ...map.stages.flatMap((s) => s.steps.map((x) => x.id)),
    ...(map.lanes ?? []).map((l) => l.id),
  ]);
  for (;;) {
    const id = `${prefix}_${Math.floor(rand() * 36 ** 6)
      .toString(36)
      .padStart(6, "0")}`;
    if (!used.has(id)) return id;
  }
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, n));
}

function move<T>(xs: T[], from: number, to: number): T[] {
  const out = xs.slice();
  const [x] = out.splice(from, 1);
  out.splice(clamp(to, 0, out.length), 0, x);
  return out;
}

function mapSteps(m: JourneyMap, stepId: string, f: (s: Step) => Step): JourneyMap {
  let changed = false;
  const stages = m.stages.map((st) => {
    const i = st.steps.findIndex((s) => s.id === stepId);
    if (i < 0) return st;
    const next = f(st.steps[i]);
    if (next === st.steps[i]) return st;
    changed = true;
    const steps = st.steps.slice();
    steps[i] = next;
    return { ...st, steps };
  });
  return changed ? { ...m, stages } : m;
}

function mapStage(m: JourneyMap, stageId: string, f: (s: Stage) => Stage): JourneyMap {
  const i = m.stages.findIndex((s) => s.id === stageId);
  if (i < 0) return m;
  const next = f(m.stages[i]);
  if (next === m.stages[i]) return m;
  const stages = m.stages.slice();
  stages[i] = next;
  return { ...m, stages };
}

// withLanes makes the map's lanes explicit before a lane is changed, so
// that a map relying on its kind's default lanes keeps all the others.
function withLanes(m: JourneyMap): Lane[] {
  return lanesOf(m).map((l) => ({ ...l }));
}

export function itemsOf(step: Step, lane: Lane): string[] {
  if (lane.kind === "custom") return step.custom?.[lane.id] ?? [];
  const f = (TEXT_FIELDS as Record<string, keyof Step>)[lane.kind];
  return f ? ((step[f] as string[] | undefined) ?? []) : [];
}

// setItems stores a lane's items, leaving the field out when it is empty,
// as the server does, so that a round trip does not show as a change.
function setItems(step: Step, lane: Lane, items: string[]): Step {
  if (lane.kind === "custom") {
    const custom = { ...(step.custom ?? {}) };
    if (items.length) custom[lane.id] = items;
    else delete custom[lane.id];
    const out: Step = { ...step, custom };
    if (Object.keys(custom).length === 0) delete out.custom;
    return out;
  }
  const f = (TEXT_FIELDS as Record<string, keyof Step>)[lane.kind];
  if (!f) return step;
  const out = { ...step } as Record<string, unknown>;
  if (items.length) out[f] = items;
  else delete out[f];
  return out as unknown as Step;
}

function laneById(m: JourneyMap, laneId: string): Lane | undefined {
  return lanesOf(m).find((l) => l.id === laneId);
}

function findStep(m: JourneyMap, stepId: string): { stage: Stage; index: number } | undefined {
  for (const stage of m.stages) {
    const index = stage.steps.findIndex((s) => s.id === stepId);
    if (index >= 0) return { stage, index };
  }
  return undefined;
}

// apply returns the map after the action, or the same object when the
// action changes nothing (an unknown id, a move to where it already is), so
// that history does not fill with no-ops.
export function apply(m: JourneyMap, a: Action): JourneyMap {
  switch (a.type) {
    case "replace":
      return a.map;
    case "renameMap":
      return a.name === m.name ? m : { ...m, name: a.name };
    case "setMapText": {
      const value = a.field === "locale" ? a.value.trim() : a.value;
      if ((m[a.field] ?? "") === value) return m;
      const out: JourneyMap = { ...m, [a.field]: value };
      if (!value) delete out[a.field];
      return out;
    }
    case "setKind":
      if (a.kind === m.kind) return m;
      // The lanes are made explicit first: a map showing its kind's
      // default lanes would otherwise gain or lose the blueprint lanes,
      // and their content with them.
      return { ...m, kind: a.kind, lanes: withLanes(m) };
    case "addTag": {
      // Tags are a set: the same tag twice, or in different spacing, is
      // one tag.
      const tag = a.tag.trim().replace(/\s+/g, " ");
      const tags = m.tags ?? [];
      if (!tag || tags.includes(tag)) return m;
      return { ...m, tags: [...tags, tag] };
    }
    case "removeTag": {
      const tags = (m.tags ?? []).filter((t) => t !== a.tag);
      if (tags.length === (m.tags ?? []).length) return m;
      const out: JourneyMap = { ...m, tags };
      if (tags.length === 0) delete out.tags;
      return out;
    }
    case "addStage": {
      const stage: Stage = { id: a.id ?? newId(m, "stage"), name: a.name, steps: [] };
      const stages = m.stages.slice();
      stages.splice(clamp(a.at ?? stages.length, 0, stages.length), 0, stage);
      return { ...m, stages };
    }
    case "renameStage":
      return mapStage(m, a.stageId, (s) => (s.name === a.name ? s : { ...s, name: a.name }));
    case "moveStage": {
      const from = m.stages.findIndex((s) => s.id === a.stageId);
      const to = clamp(a.to, 0, m.stages.length - 1);
      if (from < 0 || from === to) return m;
      return { ...m, stages: move(m.stages, from, to) };
    }
    case "deleteStage":
      // A map keeps at least one stage: the server requires it.
      if (m.stages.length <= 1 || !m.stages.some((s) => s.id === a.stageId)) return m;
      return { ...m, stages: m.stages.filter((s) => s.id !== a.stageId) };
    case "addStep": {
      const step: Step = { id: a.id ?? newId(m, "step"), name: a.name };
      return mapStage(m, a.stageId, (s) => {
        const steps = s.steps.slice();
        steps.splice(clamp(a.at ?? steps.length, 0, steps.length), 0, step);
        return { ...s, steps };
      });
    }
    case "renameStep":
      return mapSteps(m, a.stepId, (s) => (s.name === a.name ? s : { ...s, name: a.name }));
    case "moveStep": {
      const where = findStep(m, a.stepId);
      const target = m.stages.find((s) => s.id === a.toStage);
      if (!where || !target) return m;
      const step = where.stage.steps[where.index];
      if (where.stage.id === target.id) {
        const to = clamp(a.to, 0, target.steps.length - 1);
        if (to === where.index) return m;
        return mapStage(m, target.id, (s) => ({ ...s, steps: move(s.steps, where.index, to) }));
      }
      const removed = mapStage(m, where.stage.id, (s) => ({ ...s, steps: s.steps.filter((x) => x.id !== a.stepId) }));
      return mapStage(removed, target.id, (s) => {
        const steps = s.steps.slice();
        steps.splice(clamp(a.to, 0, steps.length), 0, step);
        return { ...s, steps };
      });
    }
    case "deleteStep": {
      if (!findStep(m, a.stepId)) return m;
      return { ...m, stages: m.stages.map((st) => ({ ...st, steps: st.steps.filter((s) => s.id !== a.stepId) })) };
    }
    case "addLane": {
      const lanes = withLanes(m);
      const lane: Lane = { id: a.id ?? (a.kind === "custom" ? newId(m, "lane") : a.kind), kind: a.kind };
      if (lanes.some((l) => l.id === lane.id)) lane.id = newId(m, "lane");
      if (a.name) lane.name = a.name;
      lanes.splice(clamp(a.at ?? lanes.length, 0, lanes.length), 0, lane);
      return { ...m, lanes };
    }
    case "renameLane": {
      const lanes = withLanes(m);
      const lane = lanes.find((l) => l.id === a.laneId);
      if (!lane || (lane.name ?? "") === a.name) return m;
      if (a.name) lane.name = a.name;
      else delete lane.name;
      return { ...m, lanes };
    }
    case "moveLane": {
      const lanes = withLanes(m);
      const from = lanes.findIndex((l) => l.id === a.laneId);
      const to = clamp(a.to, 0, lanes.length - 1);
      if (from < 0 || from === to) return m;
      return { ...m, lanes: move(lanes, from, to) };
    }
    case "deleteLane": {
      const lanes = withLanes(m);
      const lane = lanes.find((l) => l.id === a.laneId);
      if (!lane || lanes.length <= 1) return m;
      const out: JourneyMap = { ...m, lanes: lanes.filter((l) => l.id !== a.laneId) };
      // A custom lane's content goes with it: the server refuses content
      // for a lane the map does not have.
      if (lane.kind === "custom") {
        out.stages = out.stages.map((st) => ({ ...st, steps: st.steps.map((s) => (s.custom?.[lane.id] ? setItems(s, lane, []) : s)) }));
      }
      return out;
    }
    case "setItem":
    case "addItem":
    case "deleteItem": {
      const lane = laneById(m, a.laneId);
      if (!lane) return m;
      return mapSteps(m, a.stepId, (s) => {
        const items = itemsOf(s, lane).slice();
        if (a.type === "addItem") items.push(a.text);
        else if (a.index < 0 || a.index >= items.length) return s;
        else if (a.type === "deleteItem") items.splice(a.index, 1);
        else if (items[a.index] === a.text) return s;
        else items[a.index] = a.text;
        return setItems(s, lane, items);
      });
    }
    case "setTouchpoint":
    case "addTouchpoint":
    case "deleteTouchpoint":
      return mapSteps(m, a.stepId, (s) => {
        const tps = (s.touchpoints ?? []).slice();
        if (a.type === "addTouchpoint") tps.push(a.touchpoint);
        else if (a.index < 0 || a.index >= tps.length) return s;
        else if (a.type === "deleteTouchpoint") tps.splice(a.index, 1);
        else if (tps[a.index].name === a.touchpoint.name && tps[a.index].channel === a.touchpoint.channel) return s;
        else tps[a.index] = a.touchpoint;
        const out: Step = { ...s, touchpoints: tps };
        if (tps.length === 0) delete out.touchpoints;
        return out;
      });
    case "setEmotion":
      return mapSteps(m, a.stepId, (s) => {
        if (a.score === null) {
          if (!s.emotion) return s;
          const out = { ...s };
          delete out.emotion;
          return out;
        }
        const score = clamp(Math.round(a.score), EMOTION_MIN, EMOTION_MAX);
        const note = a.note ?? s.emotion?.note;
        if (s.emotion?.score === score && (s.emotion?.note ?? "") === (note ?? "")) return s;
        return { ...s, emotion: note ? { score, note } : { score } };
      });
    case "setPersonas": {
      const same = (m.personaIds ?? []).join("\n") === a.personaIds.join("\n");
      if (same) return m;
      const out: JourneyMap = { ...m, personaIds: a.personaIds };
      if (a.personaIds.length === 0) delete out.personaIds;
      return out;
    }
    case "setBinding":
      return mapSteps(m, a.stepId, (s: Step & { binding?: Binding }) => {
        const out = { ...s };
        if (a.binding) out.binding = a.binding;
        else if (!s.binding) return s;
        else delete out.binding;
        return out;
      });
  }
}

// History keeps whole documents: undo and redo swap them, and autosave
// never has to reconstruct one from a list of changes.
export interface History {
  past: JourneyMap[];
  present: JourneyMap;
  future: JourneyMap[];
}

export type HistoryAction = Action | { type: "undo" } | { type: "redo" } | { type: "reset"; map: JourneyMap };

// The number of states undo can go back; a map is small, so this bounds
// memory at a few megabytes even for large maps.
export const HISTORY_LIMIT = 200;

export function initHistory(map: JourneyMap): History {
  return { past: [], present: map, future: [] };
}

export function historyReducer(h: History, a: HistoryAction): History {
  switch (a.type) {
    case "undo": {
      if (h.past.length === 0) return h;
      return { past: h.past.slice(0, -1), present: h.past[h.past.length - 1], future: [h.present, ...h.future] };
    }
    case "redo": {
      if (h.future.length === 0) return h;
      return { past: [...h.past, h.present], present: h.future[0], future: h.future.slice(1) };
    }
    case "reset":
      return initHistory(a.map);
    default: {
      const next = apply(h.present, a);
      if (next === h.present) return h;
      return { past: [...h.past, h.present].slice(-HISTORY_LIMIT), present: next, future: [] };
    }
  }
}

export interface StepRef {
  stage: Stage;
  stageIndex: number;
  step: Step;
  index: number; // within the stage
  flat: number; // across the map
}

// flatSteps lists the steps left to right with where they are, which the
// curve and keyboard moves need.
export function flatSteps(m: JourneyMap): StepRef[] {
  const out: StepRef[] = [];
  m.stages.forEach((stage, stageIndex) =>
    stage.steps.forEach((step, index) => out.push({ stage, stageIndex, step, index, flat: out.length })),
  );
  return out;
}

// stepMoveTarget is where a step goes when moved one place left or right:
// within its stage, or across into the neighbouring stage at its edge.
export function stepMoveTarget(m: JourneyMap, stepId: string, dir: -1 | 1): { toStage: string; to: number } | undefined {
  const si = m.stages.findIndex((s) => s.steps.some((x) => x.id === stepId));
  if (si < 0) return undefined;
  const stage = m.stages[si];
  const i = stage.steps.findIndex((x) => x.id === stepId);
  const j = i + dir;
  if (j >= 0 && j < stage.steps.length) return { toStage: stage.id, to: j };
  const next = m.stages[si + dir];
  if (!next) return undefined;
  return { toStage: next.id, to: dir < 0 ? next.steps.length : 0 };
}
