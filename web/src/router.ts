import { useEffect, useState } from "react";

// The app has two places: the gallery at "/" and a map at "/maps/{id}".
// trek serves index.html for every path outside the API, so these URLs can
// be bookmarked and reloaded.
export type Route =
  | { page: "gallery" }
  | { page: "map"; id: string }
  // The data pages; analysis keeps its query in the search string.
  | { page: "analysis"; kind: string; search?: string }
  | { page: "personas" }
  | { page: "customers"; id?: string }
  | { page: "sources" };

export function parseRoute(pathname: string): Route {
  const m = /^\/maps\/([^/]+)\/?$/.exec(pathname);
  if (m) return { page: "map", id: decodeURIComponent(m[1]) };
  const a = /^\/analysis(?:\/([a-z]+))?\/?$/.exec(pathname);
  if (a) return { page: "analysis", kind: a[1] ?? "funnel", search: typeof window === "undefined" ? "" : window.location.search };
  const c = /^\/customers(?:\/([^/]+))?\/?$/.exec(pathname);
  if (c) return c[1] ? { page: "customers", id: decodeURIComponent(c[1]) } : { page: "customers" };
  if (/^\/personas\/?$/.test(pathname)) return { page: "personas" };
  if (/^\/sources\/?$/.test(pathname)) return { page: "sources" };
  return { page: "gallery" };
}

export function routePath(r: Route): string {
  switch (r.page) {
    case "map":
      return `/maps/${encodeURIComponent(r.id)}`;
    case "analysis":
      return `/analysis/${r.kind}${r.search ?? ""}`;
    case "customers":
      return r.id ? `/customers/${encodeURIComponent(r.id)}` : "/customers";
    case "personas":
    case "sources":
      return `/${r.page}`;
  }
  return "/";
}

export function navigate(r: Route): void {
  const path = routePath(r);
  if (window.location.pathname + window.location.search !== path) window.history.pushState(null, "", path);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.pathname));
  useEffect(() => {
    const on = () => setRoute(parseRoute(window.location.pathname));
    window.addEventListener("popstate", on);
    return () => window.removeEventListener("popstate", on);
  }, []);
  return route;
}
