import type { JourneyMap, Lane, Step } from "../api";

// The lanes a map shows when its document names none: the server fills
// them in the same way (journey.DefaultLanes).
export function lanesOf(m: JourneyMap): Lane[] {
  if (m.lanes && m.lanes.length > 0) return m.lanes;
  const kinds = ["actions", "touchpoints", "thoughts", "emotions", "pain_points", "opportunities"];
  if (m.kind === "service_blueprint") kinds.push("frontstage", "backstage", "support", "policies", "technology");
  return kinds.map((k) => ({ id: k, kind: k }));
}

const TEXT_LANES: Record<string, keyof Step> = {
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

// laneItems is the text a step has in a lane; touchpoints and emotions have
// their own shapes and are drawn separately.
export function laneItems(step: Step, lane: Lane): string[] {
  if (lane.kind === "custom") return step.custom?.[lane.id] ?? [];
  const field = TEXT_LANES[lane.kind];
  return field ? ((step[field] as string[] | undefined) ?? []) : [];
}
