// DataServer answers the data endpoints from fixtures recorded from a real
// trek server (src/analysis/testdata, `trek gen --customers 2000 --effects
// checkout-fails-on=android`), records what the UI sent, and passes every
// other request to the app's FakeServer.
import { FakeServer } from "../testing/fakeServer";
import activities from "../analysis/testdata/activities.json";
import funnel from "../analysis/testdata/funnel.json";
import funnelPreview from "../analysis/testdata/funnel-preview.json";
import metrics from "../analysis/testdata/metrics.json";
import paths from "../analysis/testdata/paths.json";
import dfg from "../analysis/testdata/dfg.json";
import variants from "../analysis/testdata/variants.json";
import retention from "../analysis/testdata/retention.json";
import trends from "../analysis/testdata/trends.json";
import personas from "../analysis/testdata/personas.json";
import customer from "../analysis/testdata/customer.json";
import customerEvents from "../analysis/testdata/customer-events.json";
import sources from "../analysis/testdata/sources.json";
import quarantine from "../analysis/testdata/quarantine.json";

export const fixtures = {
  activities,
  funnel,
  funnelPreview,
  metrics,
  paths,
  dfg,
  variants,
  retention,
  trends,
  personas,
  customer,
  customerEvents,
  sources,
  quarantine,
};

type Handler = (method: string, url: URL, body: unknown) => unknown | Response | undefined;

export class DataServer extends FakeServer {
  handlers: Handler[] = [];
  personaList = structuredClone(personas.personas) as Record<string, unknown>[];
  sourceList = structuredClone(sources.sources) as Record<string, unknown>[];
  quarantineList = structuredClone(quarantine.items) as Record<string, unknown>[];
  // received is what each source has sent since the server started.
  received: Record<string, number> = {};
  private next = 0;
  // The app's FakeServer answers everything else; its fetch is an instance
  // field, captured here before this class replaces it.
  private readonly base = (this as FakeServer).fetch;

  // on adds a handler tried before the defaults; it answers by returning
  // a value (sent as 200 JSON) or a Response.
  on(h: Handler): this {
    this.handlers.unshift(h);
    return this;
  }

  fetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input), "http://trek.test");
    const method = (init.method ?? "GET").toUpperCase();
    const body = typeof init.body === "string" ? JSON.parse(init.body) : undefined;
    const headers = Object.fromEntries(Object.entries((init.headers ?? {}) as Record<string, string>));
    for (const h of [...this.handlers, this.defaults]) {
      const out = h(method, url, body);
      if (out === undefined) continue;
      this.requests.push({ method, path: url.pathname, query: url.searchParams, headers, body });
      if (out instanceof Response) return out;
      return new Response(out === null ? null : JSON.stringify(out), {
        status: out === null ? 204 : 200,
        headers: { "Content-Type": "application/json" },
      });
    }
    return this.base(input, init);
  };

  private defaults: Handler = (method, url, body) => {
    const p = url.pathname;
    const b = body as Record<string, unknown> | undefined;
    if (method === "GET" && p === "/api/v1/activities") return activities;
    if (method === "POST" && p === "/api/v1/query/funnel") {
      if (b?.customers) return funnelPreview;
      return funnel;
    }
    if (method === "POST" && p === "/api/v1/query/paths") return paths;
    if (method === "POST" && p === "/api/v1/query/dfg") return dfg;
    if (method === "POST" && p === "/api/v1/query/variants") return variants;
    if (method === "POST" && p === "/api/v1/query/retention") return retention;
    if (method === "POST" && p === "/api/v1/query/trends") return trends;
    if (/^\/api\/v1\/maps\/[^/]+\/metrics$/.test(p)) return metrics;
    if (p === "/api/v1/personas" && method === "GET") return { personas: this.personaList };
    if (p === "/api/v1/personas" && method === "POST") {
      const created = { ...(b as object), id: `per_new${++this.next}`, createdAt: "2026-01-01T00:00:00Z", updatedAt: "2026-01-01T00:00:00Z" };
      this.personaList.push(created);
      return new Response(JSON.stringify(created), { status: 201, headers: { "Content-Type": "application/json" } });
    }
    const pm = /^\/api\/v1\/personas\/([^/]+)$/.exec(p);
    if (pm && method === "PUT") {
      const i = this.personaList.findIndex((x) => x.id === pm[1]);
      this.personaList[i] = { ...(b as object), id: pm[1] };
      return this.personaList[i];
    }
    if (pm && method === "DELETE") {
      this.personaList = this.personaList.filter((x) => x.id !== pm[1]);
      return null;
    }
    const cm = /^\/api\/v1\/customers\/([^/]+)(\/events)?$/.exec(p);
    if (cm && method === "GET") {
      const id = decodeURIComponent(cm[1]);
      const known = [customer.id, ...customer.identifiers.map((x) => x.value)];
      if (!known.includes(id)) {
        return new Response(JSON.stringify({ error: { code: "not_found", message: "no such customer" } }), { status: 404 });
      }
      return cm[2] ? customerEvents : customer;
    }
    if (p === "/api/v1/sources/counts" && method === "GET") {
      return {
        since: "2026-01-01T00:00:00Z",
        sources: this.sourceList.map((s) => ({ sourceId: s.id, accepted: this.received[s.id as string] ?? 0, deduplicated: 0, quarantined: 0, suppressed: 0, lastEventAt: null })),
      };
    }
    if (p === "/api/v1/sources" && method === "GET") return { sources: this.sourceList };
    if (p === "/api/v1/sources" && method === "POST") {
      const s = { ...(b as object), id: `src_new${++this.next}`, workspaceId: "ws_1", writeKey: `trek_wk_${"n".repeat(31)}${this.next}`, disabled: false, createdAt: "2026-01-01T00:00:00Z" };
      this.sourceList.push(s);
      return new Response(JSON.stringify(s), { status: 201, headers: { "Content-Type": "application/json" } });
    }
    if (p === "/api/v1/quarantine" && method === "GET") return { items: this.quarantineList.filter((q) => q.status === "open") };
    const qm = /^\/api\/v1\/quarantine\/([^/]+)\/(replay|discard)$/.exec(p);
    if (qm && method === "POST") {
      const q = this.quarantineList.find((x) => x.id === qm[1]);
      if (q) q.status = qm[2] === "replay" ? "replayed" : "discarded";
      return qm[2] === "replay" ? { replayed: qm[1], messageId: "msg_1", result: { accepted: 1, duplicates: 0, quarantined: 0, suppressed: 0 } } : q;
    }
    return undefined;
  };
}
