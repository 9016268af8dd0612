// The trek API as the web app uses it. Requests are same-origin, so the
// session cookie rides along and the server's cross-origin check passes.

export type Role = "viewer" | "editor" | "admin";
export type MapKind = "current_state" | "future_state" | "day_in_the_life" | "service_blueprint";
export const MAP_KINDS: MapKind[] = ["current_state", "future_state", "day_in_the_life", "service_blueprint"];

export interface Workspace {
  id: string;
  slug: string;
  name: string;
}
export interface Membership {
  workspace: Workspace;
  role: Role;
}
export interface Me {
  user?: { id: string; name: string };
  token?: { id: string; name: string };
  memberships: Membership[];
}
export interface MapSummary {
  id: string;
  name: string;
  kind: MapKind;
  description?: string;
  personaIds: string[];
  tags: string[];
  locale?: string;
  version: number;
  stages: number;
  steps: number;
  createdAt: string;
  updatedAt: string;
  updatedBy: string;
}
export interface Persona {
  id: string;
  name: string;
  role?: string;
}
export interface TemplateSummary {
  id: string;
  kind: MapKind;
  industry: string;
  locale: string;
  name: string;
  description: string;
  persona: string;
  stages: { id: string; name: string; steps: string[] }[];
}
export interface Touchpoint {
  channel: string;
  name: string;
}
export interface Step {
  id: string;
  name: string;
  description?: string;
  touchpoints?: Touchpoint[];
  actions?: string[];
  thoughts?: string[];
  emotion?: { score: number; note?: string };
  painPoints?: string[];
  opportunities?: string[];
  frontstage?: string[];
  backstage?: string[];
  support?: string[];
  policies?: string[];
  technology?: string[];
  custom?: Record<string, string[]>;
}
export interface Stage {
  id: string;
  name: string;
  description?: string;
  steps: Step[];
}
export interface Lane {
  id: string;
  kind: string;
  name?: string;
}
export interface JourneyMap {
  id: string;
  name: string;
  kind: MapKind;
  description?: string;
  goal?: string;
  personaIds?: string[];
  locale?: string;
  tags?: string[];
  lanes?: Lane[];
  stages: Stage[];
  version: number;
  updatedAt?: string;
  updatedBy?: string;
}

export interface FieldError {
  path: string;
  message: string;
}

// ApiError carries the server's stable error code, which the UI maps to a
// translated message; the server's own message is English detail.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: FieldError[] = [],
    // current is the map's summary on a 409 from a map update: who saved
    // first, and which version the map is at now.
    readonly current?: MapSummary,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export interface MapFilter {
  q?: string;
  kind?: string;
  persona?: string;
  tag?: string;
}

export class Api {
  // workspace is the slug sent as X-Trek-Workspace; empty means the
  // server's choice (the user's first workspace).
  workspace = "";
  onUnauthenticated: () => void = () => {};

  constructor(private readonly fetcher: typeof fetch = (...a) => fetch(...a)) {}

  async request<T>(method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json", ...extra };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (this.workspace) headers["X-Trek-Workspace"] = this.workspace;
    let res: Response;
    try {
      res = await this.fetcher(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "same-origin",
      });
    } catch (e) {
      throw new ApiError(0, "network", e instanceof Error ? e.message : String(e));
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let data: unknown = undefined;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        throw new ApiError(res.status, "internal", `${method} ${path}: the answer is not JSON`);
      }
    }
    if (!res.ok) {
      const err = (data as { error?: { code?: string; message?: string; fields?: FieldError[]; current?: MapSummary } })?.error;
      const apiErr = new ApiError(res.status, err?.code ?? "internal", err?.message ?? res.statusText, err?.fields ?? [], err?.current);
      if (res.status === 401 && path !== "/api/v1/auth/login") this.onUnauthenticated();
      throw apiErr;
    }
    return data as T;
  }

  login(name: string, password: string): Promise<Me> {
    return this.request("POST", "/api/v1/auth/login", { name, password });
  }
  logout(): Promise<void> {
    return this.request("POST", "/api/v1/auth/logout");
  }
  me(): Promise<Me> {
    return this.request("GET", "/api/v1/me");
  }
  async workspaces(): Promise<Membership[]> {
    return (await this.request<{ workspaces: Membership[] }>("GET", "/api/v1/workspaces")).workspaces;
  }
  async maps(f: MapFilter = {}): Promise<MapSummary[]> {
    const q = new URLSearchParams({ limit: "1000" });
    for (const [k, v] of Object.entries(f)) if (v) q.set(k, v);
    return (await this.request<{ maps: MapSummary[] }>("GET", `/api/v1/maps?${q}`)).maps;
  }
  map(id: string): Promise<JourneyMap> {
    return this.request("GET", `/api/v1/maps/${encodeURIComponent(id)}`);
  }
  createMap(doc: { name: string; kind: MapKind; stages: { name: string; steps: Step[] }[] }): Promise<JourneyMap> {
    return this.request("POST", "/api/v1/maps", doc);
  }
  createFromTemplate(req: { template: string; locale: string; name?: string; withPersona: boolean }): Promise<JourneyMap> {
    return this.request("POST", "/api/v1/maps", req);
  }
  duplicateMap(id: string, name: string): Promise<JourneyMap> {
    return this.request("POST", `/api/v1/maps/${encodeURIComponent(id)}/duplicate`, { name });
  }
  deleteMap(id: string): Promise<void> {
    return this.request("DELETE", `/api/v1/maps/${encodeURIComponent(id)}`);
  }
  async personas(): Promise<Persona[]> {
    return (await this.request<{ personas: Persona[] }>("GET", "/api/v1/personas")).personas;
  }
  async templates(locale: string): Promise<TemplateSummary[]> {
    return (await this.request<{ templates: TemplateSummary[] }>("GET", `/api/v1/templates?locale=${encodeURIComponent(locale)}`))
      .templates;
  }
}
