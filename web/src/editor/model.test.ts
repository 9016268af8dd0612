import { describe, expect, it } from "vitest";
import type { JourneyMap } from "../api";
import small from "./testdata/small.json";
import { apply, flatSteps, historyReducer, HISTORY_LIMIT, initHistory, newId, stepMoveTarget, type Action, type History } from "./model";

const base = small as unknown as JourneyMap;
const stageIds = (m: JourneyMap) => m.stages.map((s) => s.id);
const stepIds = (m: JourneyMap) => m.stages.map((s) => s.steps.map((x) => x.id));
const step = (m: JourneyMap, id: string) => flatSteps(m).find((r) => r.step.id === id)!.step;

describe("apply", () => {
  it.each<{ name: string; action: Action; check: (m: JourneyMap) => void }>([
    { name: "renames the map", action: { type: "renameMap", name: "Buying online" }, check: (m) => expect(m.name).toBe("Buying online") },
    { name: "sets the description", action: { type: "setMapText", field: "description", value: "From ad to parcel" }, check: (m) => expect(m.description).toBe("From ad to parcel") },
    { name: "sets the goal", action: { type: "setMapText", field: "goal", value: "Fewer abandoned carts" }, check: (m) => expect(m.goal).toBe("Fewer abandoned carts") },
    { name: "changes the locale, trimmed", action: { type: "setMapText", field: "locale", value: " vi " }, check: (m) => expect(m.locale).toBe("vi") },
    { name: "leaves the locale out when it is cleared", action: { type: "setMapText", field: "locale", value: "" }, check: (m) => expect("locale" in m).toBe(false) },
    { name: "changes the kind", action: { type: "setKind", kind: "future_state" }, check: (m) => expect(m.kind).toBe("future_state") },
    { name: "adds a tag, its spaces tidied", action: { type: "addTag", tag: "  black   friday " }, check: (m) => expect(m.tags).toEqual(["retail", "black friday"]) },
    { name: "leaves the tags out when the last is removed", action: { type: "removeTag", tag: "retail" }, check: (m) => expect("tags" in m).toBe(false) },
    {
      name: "adds a stage at a position with a fresh id",
      action: { type: "addStage", at: 1, name: "Compare" },
      check: (m) => {
        expect(m.stages.map((s) => s.name)).toEqual(["Discover", "Compare", "Buy", "After"]);
        expect(m.stages[1].id).toMatch(/^stage_[0-9a-z]{6}$/);
        expect(m.stages[1].steps).toEqual([]);
      },
    },
    { name: "renames a stage", action: { type: "renameStage", stageId: "buy", name: "Purchase" }, check: (m) => expect(m.stages[1].name).toBe("Purchase") },
    { name: "moves a stage left", action: { type: "moveStage", stageId: "buy", to: 0 }, check: (m) => expect(stageIds(m)).toEqual(["buy", "discover", "after"]) },
    { name: "moves a stage to the end", action: { type: "moveStage", stageId: "discover", to: 9 }, check: (m) => expect(stageIds(m)).toEqual(["buy", "after", "discover"]) },
    { name: "deletes a stage with its steps", action: { type: "deleteStage", stageId: "buy" }, check: (m) => expect(stepIds(m)).toEqual([["see-ad", "visit"], []]) },
    {
      name: "adds a step into an empty stage",
      action: { type: "addStep", stageId: "after", name: "Unboxes", id: "unbox" },
      check: (m) => expect(stepIds(m)[2]).toEqual(["unbox"]),
    },
    { name: "renames a step", action: { type: "renameStep", stepId: "pay", name: "Pays by card" }, check: (m) => expect(step(m, "pay").name).toBe("Pays by card") },
    {
      name: "moves a step within its stage",
      action: { type: "moveStep", stepId: "visit", toStage: "discover", to: 0 },
      check: (m) => expect(stepIds(m)[0]).toEqual(["visit", "see-ad"]),
    },
    {
      name: "moves a step into another stage at a position",
      action: { type: "moveStep", stepId: "see-ad", toStage: "buy", to: 1 },
      check: (m) => expect(stepIds(m)).toEqual([["visit"], ["cart", "see-ad", "pay"], []]),
    },
    { name: "deletes a step", action: { type: "deleteStep", stepId: "cart" }, check: (m) => expect(stepIds(m)[1]).toEqual(["pay"]) },
    {
      name: "adds a custom lane with a name",
      action: { type: "addLane", kind: "custom", name: "Channels used", id: "chan" },
      check: (m) => expect(m.lanes!.at(-1)).toEqual({ id: "chan", kind: "custom", name: "Channels used" }),
    },
    {
      name: "adds a built-in lane under its kind's id",
      action: { type: "addLane", kind: "thoughts", at: 1 },
      check: (m) => expect(m.lanes![1]).toEqual({ id: "thoughts", kind: "thoughts" }),
    },
    { name: "renames a lane", action: { type: "renameLane", laneId: "actions", name: "Doing" }, check: (m) => expect(m.lanes![0].name).toBe("Doing") },
    { name: "clears a lane's own name", action: { type: "renameLane", laneId: "pain_points", name: "" }, check: (m) => expect(m.lanes![3]).toEqual({ id: "pain_points", kind: "pain_points" }) },
    {
      name: "moves a lane down",
      action: { type: "moveLane", laneId: "actions", to: 2 },
      check: (m) => expect(m.lanes!.map((l) => l.id)).toEqual(["touchpoints", "emotions", "actions", "pain_points", "kpi"]),
    },
    {
      name: "deletes a custom lane and its content",
      action: { type: "deleteLane", laneId: "kpi" },
      check: (m) => {
        expect(m.lanes!.map((l) => l.id)).not.toContain("kpi");
        expect(step(m, "visit").custom).toBeUndefined();
      },
    },
    { name: "edits an item", action: { type: "setItem", stepId: "cart", laneId: "pain_points", index: 0, text: "Fee late" }, check: (m) => expect(step(m, "cart").painPoints).toEqual(["Fee late"]) },
    { name: "adds an item to an empty lane", action: { type: "addItem", stepId: "pay", laneId: "actions", text: "Types card" }, check: (m) => expect(step(m, "pay").actions).toEqual(["Types card"]) },
    { name: "adds an item to a custom lane", action: { type: "addItem", stepId: "pay", laneId: "kpi", text: "Conversion" }, check: (m) => expect(step(m, "pay").custom).toEqual({ kpi: ["Conversion"] }) },
    {
      name: "leaves the field out when its last item is deleted",
      action: { type: "deleteItem", stepId: "cart", laneId: "pain_points", index: 0 },
      check: (m) => expect("painPoints" in step(m, "cart")).toBe(false),
    },
    {
      name: "changes a touchpoint's channel",
      action: { type: "setTouchpoint", stepId: "see-ad", index: 0, touchpoint: { channel: "ads", name: "Facebook" } },
      check: (m) => expect(step(m, "see-ad").touchpoints).toEqual([{ channel: "ads", name: "Facebook" }]),
    },
    { name: "sets an emotion, clamped to the scale", action: { type: "setEmotion", stepId: "pay", score: 7 }, check: (m) => expect(step(m, "pay").emotion).toEqual({ score: 2 }) },
    { name: "keeps the note when the score changes", action: { type: "setEmotion", stepId: "visit", score: -1 }, check: (m) => expect(step(m, "visit").emotion).toEqual({ score: -1, note: "Curious" }) },
    { name: "clears an emotion", action: { type: "setEmotion", stepId: "cart", score: null }, check: (m) => expect(step(m, "cart").emotion).toBeUndefined() },
    { name: "links personas", action: { type: "setPersonas", personaIds: ["per_anna", "per_ben"] }, check: (m) => expect(m.personaIds).toEqual(["per_anna", "per_ben"]) },
    { name: "unlinks the last persona", action: { type: "setPersonas", personaIds: [] }, check: (m) => expect(m.personaIds).toBeUndefined() },
    {
      name: "binds a step to events",
      action: { type: "setBinding", stepId: "pay", binding: { events: ["Order Completed"], channel: "web" } },
      check: (m) => expect((step(m, "pay") as { binding?: unknown }).binding).toEqual({ events: ["Order Completed"], channel: "web" }),
    },
  ])("$name", ({ action, check }) => {
    const before = structuredClone(base);
    const after = apply(base, action);
    expect(after).not.toBe(base);
    check(after);
    expect(base).toEqual(before); // the old state is never changed in place
  });

  it.each<[string, Action]>([
    ["a rename to the same name", { type: "renameStep", stepId: "pay", name: "Pays" }],
    ["a stage rename to the same name", { type: "renameStage", stageId: "buy", name: "Buy" }],
    ["a move to where it is", { type: "moveStage", stageId: "buy", to: 1 }],
    ["an unknown step", { type: "renameStep", stepId: "nope", name: "x" }],
    ["deleting the only stage left", { type: "deleteStage", stageId: "only" }],
    ["an item index out of range", { type: "setItem", stepId: "cart", laneId: "pain_points", index: 5, text: "x" }],
    ["the same emotion again", { type: "setEmotion", stepId: "cart", score: -2 }],
    ["moving a step to a stage that does not exist", { type: "moveStep", stepId: "pay", toStage: "nope", to: 0 }],
    ["the same locale again", { type: "setMapText", field: "locale", value: "en" }],
    ["clearing a goal the map does not have", { type: "setMapText", field: "goal", value: "" }],
    ["the same kind again", { type: "setKind", kind: "current_state" }],
    ["a tag the map has", { type: "addTag", tag: "retail" }],
    ["a blank tag", { type: "addTag", tag: "   " }],
    ["removing a tag the map does not have", { type: "removeTag", tag: "travel" }],
  ])("returns the same map for %s", (_name, action) => {
    const m = action.type === "deleteStage" ? { ...base, stages: [{ id: "only", name: "Only", steps: [] }] } : base;
    expect(apply(m, action)).toBe(m);
  });

  it("makes lanes explicit before changing them when the map relies on its kind's defaults", () => {
    const bare: JourneyMap = { id: "m", name: "m", kind: "service_blueprint", version: 1, stages: [{ id: "s", name: "S", steps: [] }] };
    const m = apply(bare, { type: "moveLane", laneId: "technology", to: 0 });
    expect(m.lanes!.map((l) => l.id)).toEqual([
      "technology",
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
    ]);
  });
});

it("keeps a blueprint's default lanes and their content when its kind changes", () => {
  const bare: JourneyMap = {
    id: "m",
    name: "m",
    kind: "service_blueprint",
    version: 1,
    stages: [{ id: "s", name: "S", steps: [{ id: "x", name: "X", backstage: ["Checks stock"] }] }],
  };
  const m = apply(bare, { type: "setKind", kind: "current_state" });
  expect(m.lanes!.map((l) => l.kind)).toContain("backstage");
  expect(m.lanes).toHaveLength(11);
  expect(m.stages[0].steps[0].backstage).toEqual(["Checks stock"]);
});

describe("newId", () => {
  it("never returns an id the map uses", () => {
    const seq = [0, 0, 0.5];
    let i = 0;
    const m = apply(base, { type: "addStage", name: "x", id: "stage_000000" });
    expect(newId(m, "stage", () => seq[i++])).toBe(`stage_${Math.floor(0.5 * 36 ** 6).toString(36)}`);
  });
});

describe("stepMoveTarget", () => {
  it.each([
    ["see-ad", 1, { toStage: "discover", to: 1 }],
    ["visit", 1, { toStage: "buy", to: 0 }],
    ["cart", -1, { toStage: "discover", to: 2 }],
    ["pay", 1, { toStage: "after", to: 0 }],
    ["see-ad", -1, undefined],
  ] as const)("moves %s by %d to %o", (id, dir, want) => {
    expect(stepMoveTarget(base, id, dir)).toEqual(want);
  });
});

describe("historyReducer", () => {
  const run = (h: History, ...as: Parameters<typeof historyReducer>[1][]) => as.reduce(historyReducer, h);

  it("undoes and redoes whole documents in order", () => {
    const h0 = initHistory(base);
    const h = run(h0, { type: "renameStage", stageId: "buy", name: "Purchase" }, { type: "moveStage", stageId: "buy", to: 0 });
    expect(stageIds(h.present)).toEqual(["buy", "discover", "after"]);
    const u1 = run(h, { type: "undo" });
    expect(stageIds(u1.present)).toEqual(["discover", "buy", "after"]);
    expect(u1.present.stages[1].name).toBe("Purchase");
    const u2 = run(u1, { type: "undo" });
    expect(u2.present).toBe(base);
    expect(run(u2, { type: "undo" })).toBe(u2); // nothing more to undo
    const r = run(u2, { type: "redo" }, { type: "redo" });
    expect(r.present).toBe(h.present);
    expect(run(r, { type: "redo" })).toBe(r);
  });

  it("drops the redo branch on a new change", () => {
    const h = run(initHistory(base), { type: "deleteStep", stepId: "pay" }, { type: "undo" }, { type: "renameMap", name: "Other" });
    expect(h.future).toEqual([]);
    expect(step(h.present, "pay")).toBeTruthy();
  });

  it("does not record changes that change nothing", () => {
    const h = run(initHistory(base), { type: "renameMap", name: base.name });
    expect(h.past).toHaveLength(0);
  });

  it("keeps at most HISTORY_LIMIT states to go back to", () => {
    let h = initHistory(base);
    for (let i = 0; i < HISTORY_LIMIT + 20; i++) h = historyReducer(h, { type: "renameMap", name: `n${i}` });
    expect(h.past).toHaveLength(HISTORY_LIMIT);
    expect(h.past[0].name).toBe("n19");
  });

  it("reset starts a new history; replace is undoable", () => {
    const other = { ...base, name: "Theirs" };
    const changed = run(initHistory(base), { type: "renameMap", name: "Mine" });
    expect(run(changed, { type: "reset", map: other })).toEqual({ past: [], present: other, future: [] });
    const replaced = run(changed, { type: "replace", map: other });
    expect(run(replaced, { type: "undo" }).present.name).toBe("Mine");
  });
});
