// The data side of trek's API as the web app uses it: analytics queries,
// the live map, activities, personas, customers, sources and the
// quarantine. The shapes follow the OpenAPI document
// (GET /api/v1/openapi.json); fields the app does not read are left out.
import type { Api, JourneyMap, Persona as PersonaSummary } from "../api";

export const CHANNELS = ["web", "mobile", "call_centre", "store", "email", "social", "ads", "chat", "partner", "crm", "other"] as const;
export type Channel = (typeof CHANNELS)[number];

export const OPS = ["eq", "neq", "contains", "not_contains", "gt", "gte", "lt", "lte", "in", "not_in", "exists", "not_exists"] as const;
export type Op = (typeof OPS)[number];

export interface Filter {
  property: string;
  op: Op;
  value?: string | number | boolean | (string | number | boolean)[];
}

// Binding is a map step's link to the data (the map schema's Binding).
export interface Binding {
  events: string[];
  channel?: Channel;
  where?: Filter[];
}

// Matcher is a binding in query form.
export interface Matcher {
  event?: string;
  events?: string[];
  channel?: Channel;
  where?: Filter[];
}

export interface Segment {
  name?: string;
  where?: Filter[];
  performed?: Matcher;
}

export interface Activity {
  event: string;
  events: number;
  customers: number;
  channels: Record<string, number>;
}

export interface Bin {
  fromSeconds: number;
  toSeconds: number | null;
  count: number;
}
export interface TimeStats {
  count: number;
  median: number | null;
  p25?: number | null;
  p75?: number | null;
  p90?: number | null;
  histogram: Bin[];
}
export interface FunnelStep {
  event: string;
  customers: number;
  conversionFromPrevious: number;
  conversionFromFirst: number;
  dropOff: number;
  medianSecondsFromPrevious: number | null;
  fromPrevious?: TimeStats;
  fromFirst?: TimeStats;
}
export interface FunnelQuery {
  steps: Matcher[];
  window?: string;
  order?: "ordered" | "strict" | "any";
  from?: string;
  to?: string;
  exclusions?: Matcher[];
  breakdown?: { property: string; limit?: number };
  segments?: Segment[];
  customers?: { step: number; outcome: "reached" | "dropped" | "converted"; limit?: number };
}
export interface FunnelResult {
  steps: FunnelStep[];
  breakdowns: { value: string; steps: FunnelStep[] }[];
  segments?: { name: string; steps: FunnelStep[]; breakdowns: { value: string; steps: FunnelStep[] }[] }[];
  windowSeconds: number;
  order: string;
  customers?: { total: number; ids: string[] };
}

export interface TrendPoint {
  start: string;
  end: string;
  customers: number;
  converted?: number;
  events?: number;
  value: number;
}
export interface TrendsQuery {
  measure: "conversion" | "volume";
  steps?: Matcher[];
  event?: Matcher;
  interval: "day" | "week" | "month";
  from: string;
  to: string;
  window?: string;
}
export interface TrendsResult {
  measure: string;
  interval: string;
  series: TrendPoint[];
  previous: TrendPoint[];
  total: TrendPoint;
  previousTotal: TrendPoint;
}

export interface PathNode {
  id: string;
  step: number;
  event: string;
  kind?: "other" | "end" | "start";
  customers: number;
}
export interface PathsResult {
  customers: number;
  nodes: PathNode[];
  links: { source: string; target: string; customers: number }[];
}
export interface PathsQuery {
  anchor?: Matcher;
  direction?: "forward" | "backward";
  steps?: number;
  topN?: number;
  collapseRepeats?: boolean;
  from?: string;
  to?: string;
}

export interface DFGNode {
  event: string;
  count: number;
  customers: number;
  start: number;
  end: number;
}
export interface DFGEdge {
  from: string;
  to: string;
  count: number;
  customers?: number;
  medianSeconds: number | null;
  p90Seconds: number | null;
}
export interface DFGResult {
  customers: number;
  events: number;
  transitions: number;
  nodes: DFGNode[];
  edges: DFGEdge[];
}

export interface Variant {
  events: string[];
  customers: number;
  share: number;
  medianSeconds: number | null;
  p90Seconds: number | null;
}
export interface VariantsResult {
  total: number;
  customers: number;
  variants: Variant[];
}

export interface RetentionPeriod {
  period: number;
  customers: number;
  share: number;
  complete: boolean;
}
export interface RetentionResult {
  period: string;
  asOf: string;
  cohorts: { start: string; customers: number; periods: RetentionPeriod[] }[];
  summary?: { customers?: number; periods: RetentionPeriod[] };
}
export interface RetentionQuery {
  start?: Matcher;
  return?: Matcher;
  period?: "day" | "week" | "month";
  periods?: number;
  from?: string;
  to?: string;
}

export interface ConformanceStep {
  stageId: string;
  stepId: string;
  name: string;
  journeys: number;
  skipped: number;
  repeated: number;
  wrongOrder: number;
}
export interface Deviation {
  kind: "skipped" | "repeated" | "wrong_order" | "outside";
  step?: string;
  event?: string;
  journeys: number;
  examples: string[];
}
export interface ConformanceResult {
  boundSteps: number;
  journeys: number;
  meanFitness: number;
  endToEnd: number;
  endToEndShare: number;
  exact: number;
  exactShare: number;
  steps: ConformanceStep[];
  deviations: Deviation[];
}

export interface StepMetrics {
  stageId: string;
  stepId: string;
  name: string;
  bound: boolean;
  customers: number;
  fromPrevious: number;
  conversionFromPrevious: number;
  fromStart: number;
  conversionFromStart: number;
  dropOff: number;
  dropOffShare: number;
  medianSecondsFromPrevious: number | null;
  inOrder: number;
  measuredEmotion: { responses: number; mean: number } | null;
}
export interface SourceCount {
  sourceId: string;
  accepted: number;
  deduplicated: number;
  quarantined: number;
  suppressed: number;
  lastEventAt: string | null;
}
export interface StageMetrics {
  stageId: string;
  name: string;
  bound: boolean;
  entered: number;
  completed: number;
  conversion: number;
  dropOff: number;
}
export interface MapMetrics {
  mapId: string;
  version: number;
  windowSeconds: number;
  customers: number;
  steps: StepMetrics[];
  stages: StageMetrics[];
  boundSteps: number;
  worstDropOffs: string[];
  conformance: ConformanceResult | null;
}
export interface MetricsParams {
  from?: string;
  to?: string;
  window?: string;
  segment?: Segment;
}

export interface Persona extends PersonaSummary {
  photoUrl?: string;
  demographics?: Record<string, string>;
  goals?: string[];
  needs?: string[];
  frustrations?: string[];
  motivations?: string[];
  quote?: string;
  channels?: Channel[];
  locale?: string;
  createdAt?: string;
  updatedAt?: string;
}

export interface Customer {
  id: string;
  identifiers: { kind: string; value: string }[];
  traits: Record<string, unknown>;
  firstSeen: string | null;
  lastSeen: string | null;
  eventCount: number;
}
export interface StoredEvent {
  messageId: string;
  type: string;
  event?: string;
  name?: string;
  userId?: string;
  anonymousId?: string;
  channel: string;
  properties?: Record<string, unknown>;
  traits?: Record<string, unknown>;
  context?: Record<string, unknown>;
  timestamp: string;
  receivedAt?: string;
  sourceId?: string;
}

export interface Source {
  id: string;
  name: string;
  channel: Channel;
  writeKey: string;
  disabled: boolean;
  createdAt: string;
  rotatedAt?: string;
}
export interface QuarantineItem {
  id: string;
  sourceId: string;
  reason: string;
  receivedAt: string;
  status: "open" | "replayed" | "discarded";
  resolvedAt?: string;
  resolvedBy?: string;
  raw: unknown;
}

const enc = encodeURIComponent;

// DataApi adds the data endpoints to the app's Api, sharing its session,
// workspace header and error handling.
export class DataApi {
  constructor(readonly api: Api) {}

  async activities(): Promise<Activity[]> {
    return (await this.api.request<{ activities: Activity[] }>("GET", "/api/v1/activities")).activities;
  }
  funnel(q: FunnelQuery): Promise<FunnelResult> {
    return this.api.request("POST", "/api/v1/query/funnel", q);
  }
  trends(q: TrendsQuery): Promise<TrendsResult> {
    return this.api.request("POST", "/api/v1/query/trends", q);
  }
  paths(q: PathsQuery): Promise<PathsResult> {
    return this.api.request("POST", "/api/v1/query/paths", q);
  }
  dfg(q: { from?: string; to?: string; minCount?: number; minShare?: number; activities?: string[] }): Promise<DFGResult> {
    return this.api.request("POST", "/api/v1/query/dfg", q);
  }
  variants(q: { from?: string; to?: string; limit?: number; activities?: string[] }): Promise<VariantsResult> {
    return this.api.request("POST", "/api/v1/query/variants", q);
  }
  retention(q: RetentionQuery): Promise<RetentionResult> {
    return this.api.request("POST", "/api/v1/query/retention", q);
  }
  metrics(mapId: string, p: MetricsParams = {}): Promise<MapMetrics> {
    const q = new URLSearchParams();
    if (p.from) q.set("from", p.from);
    if (p.to) q.set("to", p.to);
    if (p.window) q.set("window", p.window);
    if (p.segment) q.set("segment", JSON.stringify(p.segment));
    const qs = q.toString();
    return this.api.request("GET", `/api/v1/maps/${enc(mapId)}/metrics${qs ? `?${qs}` : ""}`);
  }
  // saveMap stores a new version based on doc.version; a 409 means someone
  // else saved first.
  saveMap(doc: JourneyMap): Promise<JourneyMap> {
    return this.api.request("PUT", `/api/v1/maps/${enc(doc.id)}`, doc);
  }

  async personas(): Promise<Persona[]> {
    return (await this.api.request<{ personas: Persona[] }>("GET", "/api/v1/personas")).personas;
  }
  createPersona(p: Persona): Promise<Persona> {
    return this.api.request("POST", "/api/v1/personas", p);
  }
  updatePersona(p: Persona): Promise<Persona> {
    return this.api.request("PUT", `/api/v1/personas/${enc(p.id)}`, p);
  }
  deletePersona(id: string): Promise<void> {
    return this.api.request("DELETE", `/api/v1/personas/${enc(id)}`);
  }

  customer(idOrIdentifier: string): Promise<Customer> {
    return this.api.request("GET", `/api/v1/customers/${enc(idOrIdentifier)}`);
  }
  customerEvents(id: string, cursor = "", limit = 100): Promise<{ events: StoredEvent[]; nextCursor: string }> {
    const q = new URLSearchParams({ limit: String(limit) });
    if (cursor) q.set("cursor", cursor);
    return this.api.request("GET", `/api/v1/customers/${enc(id)}/events?${q}`);
  }

  // sourceCounts is what each source sent since the server started:
  // exact and immediate, unlike the analytics index.
  async sourceCounts(): Promise<SourceCount[]> {
    const r = await this.api.request<{ sources: SourceCount[] }>("GET", "/api/v1/sources/counts");
    return r.sources;
  }

  async sources(): Promise<Source[]> {
    return (await this.api.request<{ sources: Source[] }>("GET", "/api/v1/sources")).sources;
  }
  createSource(s: { name: string; channel: Channel }): Promise<Source> {
    return this.api.request("POST", "/api/v1/sources", s);
  }
  updateSource(id: string, patch: { name?: string; channel?: Channel; disabled?: boolean }): Promise<Source> {
    return this.api.request("PATCH", `/api/v1/sources/${enc(id)}`, patch);
  }
  rotateSource(id: string): Promise<Source> {
    return this.api.request("POST", `/api/v1/sources/${enc(id)}/rotate`);
  }
  async quarantine(status = "open"): Promise<QuarantineItem[]> {
    return (await this.api.request<{ items: QuarantineItem[] }>("GET", `/api/v1/quarantine?status=${enc(status)}&limit=200`)).items;
  }
  replay(id: string, event?: unknown): Promise<unknown> {
    return this.api.request("POST", `/api/v1/quarantine/${enc(id)}/replay`, event === undefined ? {} : { event });
  }
  discard(id: string): Promise<unknown> {
    return this.api.request("POST", `/api/v1/quarantine/${enc(id)}/discard`);
  }
}

// bindingMatcher turns a step's binding into the matcher queries take.
export function bindingMatcher(b: Binding): Matcher {
  const m: Matcher = { events: [...b.events] };
  if (b.channel) m.channel = b.channel;
  if (b.where?.length) m.where = b.where.map((f) => ({ ...f }));
  return m;
}

// stepBinding reads the binding of a map step; the shared map types do not
// name it, as only the data views use it.
export function stepBinding(step: object): Binding | undefined {
  const b = (step as { binding?: Binding }).binding;
  return b && Array.isArray(b.events) && b.events.length > 0 ? b : undefined;
}
