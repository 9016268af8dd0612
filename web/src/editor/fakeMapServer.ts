import type { JourneyMap } from "../api";
import { FakeServer } from "../testing/fakeServer";
import { apply } from "./model";
import type { Change, VersionInfo } from "./mapApi";

// MapServer adds to the fake server what the editor calls: saving with
// If-Match, versions, restore and diff, with trek's status codes and
// answer shapes (docs/api.md). Its diff is coarse (stage and step names,
// added and removed steps): enough to test how the editor shows one; the
// end-to-end tests read the real server's.
export class MapServer extends FakeServer {
  history: Record<string, { doc: JourneyMap; info: VersionInfo }[]> = {};
  // invalid, when set, is the fields a save is refused with.
  invalid: { path: string; message: string }[] | null = null;
  private readonly parentFetch: FakeServer["fetch"];
  private clock = Date.parse("2026-03-01T09:00:00Z");

  // seed stores doc as the map's versions 1..doc.version, all alike.
  seed(doc: JourneyMap, author = "admin"): JourneyMap {
    const sum = this.add({ name: doc.name, kind: doc.kind, personaIds: doc.personaIds ?? [] });
    sum.id = doc.id;
    this.history[doc.id] = [];
    for (let v = 1; v <= doc.version; v++) this.push(doc.id, { ...doc, version: v }, author, v === 1 ? "Created" : "");
    return this.latest(doc.id);
  }

  latest(id: string): JourneyMap {
    return this.history[id].at(-1)!.doc;
  }

  // saveAs saves a change as another user would, moving the map on.
  saveAs(id: string, author: string, change: Parameters<typeof apply>[1]): JourneyMap {
    const doc = apply(this.latest(id), change);
    this.push(id, { ...doc, version: this.latest(id).version + 1 }, author, "");
    return this.latest(id);
  }

  private push(id: string, doc: JourneyMap, author: string, message: string) {
    this.clock += 60_000;
    const at = new Date(this.clock).toISOString();
    const saved = { ...structuredClone(doc), updatedAt: at, updatedBy: author };
    this.history[id].push({ doc: saved, info: { version: doc.version, author, message, createdAt: at, name: doc.name } });
    const sum = this.maps.find((m) => m.id === id);
    if (sum) Object.assign(sum, { version: doc.version, updatedAt: at, updatedBy: author, name: doc.name });
  }

  constructor() {
    super();
    this.parentFetch = this.fetch;
    this.fetch = this.mapFetch;
  }

  private mapFetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input), "http://trek.test");
    const method = (init.method ?? "GET").toUpperCase();
    const m = /^\/api\/v1\/maps\/([^/]+)(\/.*)?$/.exec(url.pathname);
    const h = m ? this.history[m[1]] : undefined;
    if (!m || !h) return this.parentFetch(input, init);
    const headers = Object.fromEntries(Object.entries((init.headers ?? {}) as Record<string, string>));
    const body = typeof init.body === "string" ? JSON.parse(init.body) : undefined;
    this.requests.push({ method, path: url.pathname, query: url.searchParams, headers, body });
    const id = m[1];
    const rest = m[2] ?? "";
    const cur = this.latest(id);
    if (method === "GET" && rest === "") return json(200, cur);
    if (method === "PUT" && rest === "") {
      const base = Number(/"(\d+)"/.exec(headers["If-Match"] ?? "")?.[1] ?? body.version);
      if (base !== cur.version) {
        const sum = this.maps.find((x) => x.id === id);
        return json(409, { error: { code: "conflict", message: `map changed since version ${base}`, current: sum } });
      }
      if (this.invalid) return json(400, { error: { code: "invalid", message: "the map is not valid", fields: this.invalid } });
      this.push(id, { ...body, version: base + 1 }, "admin", url.searchParams.get("message") ?? "");
      return json(200, this.latest(id));
    }
    if (method === "GET" && rest === "/versions") return json(200, { versions: h.map((x) => x.info).reverse() });
    const v = /^\/versions\/(\d+)(\/restore)?$/.exec(rest);
    if (v) {
      const old = h.find((x) => x.info.version === Number(v![1]));
      if (!old) return json(404, { error: { code: "not_found", message: "no such version" } });
      if (method === "GET" && !v[2]) return json(200, old.doc);
      if (method === "POST" && v[2]) {
        this.push(id, { ...old.doc, version: cur.version + 1 }, "admin", `Restored version ${v[1]}`);
        return json(200, this.latest(id));
      }
    }
    if (method === "GET" && rest === "/diff") {
      const from = h.find((x) => x.info.version === Number(url.searchParams.get("from")))!.doc;
      const to = h.find((x) => x.info.version === Number(url.searchParams.get("to")))!.doc;
      return json(200, { from: from.version, to: to.version, changes: coarseDiff(from, to) });
    }
    return json(404, { error: { code: "not_found", message: `no such endpoint: ${method} ${url.pathname}` } });
  };
}

function coarseDiff(a: JourneyMap, b: JourneyMap): Change[] {
  const out: Change[] = [];
  const steps = (m: JourneyMap) => new Map(m.stages.flatMap((st, i) => st.steps.map((s, j) => [s.id, { s, st, path: `stages[${i}].steps[${j}]` }] as const)));
  const sa = steps(a);
  const sb = steps(b);
  b.stages.forEach((st, i) => {
    const old = a.stages.find((x) => x.id === st.id);
    if (old && old.name !== st.name) out.push({ op: "changed", kind: "stage", id: st.id, name: st.name, field: "name", path: `stages[${i}].name`, from: old.name, to: st.name });
  });
  for (const [id, { s, st, path }] of sb) {
    const old = sa.get(id);
    if (!old) out.push({ op: "added", kind: "step", id, stageId: st.id, name: s.name, path, from: null, to: s });
    else if (old.s.name !== s.name) out.push({ op: "changed", kind: "step", id, stageId: st.id, name: s.name, field: "name", path: `${path}.name`, from: old.s.name, to: s.name });
  }
  for (const [id, { s, st, path }] of sa) if (!sb.has(id)) out.push({ op: "removed", kind: "step", id, stageId: st.id, name: s.name, path, from: s, to: null });
  return out;
}

function json(status: number, v: unknown): Response {
  return new Response(JSON.stringify(v), { status, headers: { "Content-Type": "application/json" } });
}
