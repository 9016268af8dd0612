import type { MapSummary, Membership, Persona, TemplateSummary, JourneyMap } from "../api";

// FakeServer answers the app's API calls from memory, with the shapes and
// status codes of trek's API (docs/api.md), and records every request so
// tests can check what the UI sent. The end-to-end tests run the real server.
export interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: unknown;
}

export class FakeServer {
  requests: Recorded[] = [];
  loggedIn = true;
  password = "correct horse";
  memberships: Membership[] = [
    { workspace: { id: "ws_1", slug: "default", name: "Default" }, role: "admin" },
    { workspace: { id: "ws_2", slug: "acme", name: "Acme CX" }, role: "viewer" },
  ];
  maps: MapSummary[] = [];
  personas: Persona[] = [];
  templates: Record<string, TemplateSummary[]> = {};
  docs: Record<string, JourneyMap> = {};
  private seq = 0;

  fetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input), "http://trek.test");
    const method = (init.method ?? "GET").toUpperCase();
    const headers = Object.fromEntries(Object.entries((init.headers ?? {}) as Record<string, string>));
    const body = typeof init.body === "string" ? JSON.parse(init.body) : undefined;
    this.requests.push({ method, path: url.pathname, query: url.searchParams, headers, body });
    return this.answer(method, url, body as Record<string, unknown>);
  };

  last(method: string, path: string): Recorded | undefined {
    return this.requests.filter((r) => r.method === method && r.path === path).at(-1);
  }

  private answer(method: string, url: URL, body: Record<string, unknown>): Response {
    const p = url.pathname;
    if (method === "POST" && p === "/api/v1/auth/login") {
      if (body.name === "admin" && body.password === this.password) {
        this.loggedIn = true;
        return json(200, this.me());
      }
      return error(401, "unauthenticated", "wrong user name or password");
    }
    if (!this.loggedIn) return error(401, "unauthenticated", "log in or send a bearer token");
    if (method === "POST" && p === "/api/v1/auth/logout") {
      this.loggedIn = false;
      return new Response(null, { status: 204 });
    }
    if (method === "GET" && p === "/api/v1/me") return json(200, this.me());
    if (method === "GET" && p === "/api/v1/personas") return json(200, { personas: this.personas });
    if (method === "GET" && p === "/api/v1/templates") {
      const locale = url.searchParams.get("locale") ?? "en";
      return json(200, { locale, templates: this.templates[locale] ?? [] });
    }
    if (method === "GET" && p === "/api/v1/maps") {
      const q = url.searchParams;
      const out = this.maps.filter(
        (m) =>
          (!q.get("kind") || m.kind === q.get("kind")) &&
          (!q.get("persona") || m.personaIds.includes(q.get("persona")!)) &&
          (!q.get("tag") || m.tags.includes(q.get("tag")!)) &&
          (!q.get("q") || m.name.toLowerCase().includes(q.get("q")!.toLowerCase())),
      );
      return json(200, { maps: out });
    }
    if (method === "POST" && p === "/api/v1/maps") {
      const created = this.add({
        name: String(body.name ?? "Template map"),
        kind: (body.kind as MapSummary["kind"]) ?? "current_state",
      });
      return json(201, this.doc(created));
    }
    let m = /^\/api\/v1\/maps\/([^/]+)\/duplicate$/.exec(p);
    if (method === "POST" && m) {
      const src = this.maps.find((x) => x.id === m![1]);
      if (!src) return error(404, "not_found", "no such map");
      return json(201, this.doc(this.add({ ...src, name: String(body?.name ?? `${src.name} (2)`) })));
    }
    m = /^\/api\/v1\/maps\/([^/]+)$/.exec(p);
    if (m) {
      const i = this.maps.findIndex((x) => x.id === m![1]);
      if (i < 0) return error(404, "not_found", "no such map");
      if (method === "DELETE") {
        this.maps.splice(i, 1);
        return new Response(null, { status: 204 });
      }
      if (method === "GET") return json(200, this.docs[this.maps[i].id] ?? this.doc(this.maps[i]));
    }
    return error(404, "not_found", `no such endpoint: ${method} ${p}`);
  }

  add(m: Partial<MapSummary> & Pick<MapSummary, "name" | "kind">): MapSummary {
    const s: MapSummary = {
      id: `map_${++this.seq}`,
      personaIds: [],
      tags: [],
      version: 1,
      stages: 1,
      steps: 0,
      createdAt: "2026-01-01T00:00:00Z",
      updatedAt: "2026-01-01T00:00:00Z",
      updatedBy: "admin",
      ...m,
    };
    s.id = `map_${this.seq}`;
    this.maps.unshift(s);
    return s;
  }

  private doc(s: MapSummary): JourneyMap {
    return { id: s.id, name: s.name, kind: s.kind, version: s.version, stages: [{ id: "s1", name: "Stage 1", steps: [] }] };
  }

  private me() {
    return { user: { id: "usr_1", name: "admin" }, memberships: this.memberships };
  }
}

function json(status: number, v: unknown): Response {
  return new Response(JSON.stringify(v), { status, headers: { "Content-Type": "application/json" } });
}

function error(status: number, code: string, message: string): Response {
  return json(status, { error: { code, message } });
}
