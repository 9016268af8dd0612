import type { Api, JourneyMap } from "../api";

// The map history and saving calls the editor makes (docs/api.md, "Maps,
// versions and optimistic concurrency").

export interface VersionInfo {
  version: number;
  author: string;
  message?: string;
  createdAt: string;
  name: string;
}

export type ChangeOp = "added" | "removed" | "changed" | "moved";
export type ChangeKind = "map" | "lane" | "stage" | "step";

// Change is one difference between two versions, as GET …/diff answers:
// for "added" from is null and to the element; for "removed" the reverse;
// for "changed" the old and new value of field; for "moved" positions.
export interface Change {
  op: ChangeOp;
  kind: ChangeKind;
  id: string;
  stageId?: string;
  name?: string;
  field?: string;
  path: string;
  from: unknown;
  to: unknown;
}

export interface DiffAnswer {
  from: number;
  to: number;
  changes: Change[];
}

const enc = encodeURIComponent;

// saveMap sends the document as the version after base. The body's own
// version must agree with If-Match, so it is set to base too.
export function saveMap(api: Api, map: JourneyMap, base: number, message = ""): Promise<JourneyMap> {
  const q = message ? `?message=${enc(message)}` : "";
  const body = { ...map, version: base };
  delete (body as Partial<JourneyMap>).updatedAt;
  delete (body as Partial<JourneyMap>).updatedBy;
  return api.request("PUT", `/api/v1/maps/${enc(map.id)}${q}`, body, { "If-Match": `"${base}"` });
}

export async function listVersions(api: Api, id: string): Promise<VersionInfo[]> {
  return (await api.request<{ versions: VersionInfo[] }>("GET", `/api/v1/maps/${enc(id)}/versions`)).versions;
}

export function getVersion(api: Api, id: string, version: number): Promise<JourneyMap> {
  return api.request("GET", `/api/v1/maps/${enc(id)}/versions/${version}`);
}

export function restoreVersion(api: Api, id: string, version: number, base: number): Promise<JourneyMap> {
  return api.request("POST", `/api/v1/maps/${enc(id)}/versions/${version}/restore`, undefined, { "If-Match": `"${base}"` });
}

export function diffVersions(api: Api, id: string, from: number, to: number): Promise<DiffAnswer> {
  return api.request("GET", `/api/v1/maps/${enc(id)}/diff?from=${from}&to=${to}`);
}
