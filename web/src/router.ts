import { useEffect, useState } from "react";

// The app has two places: the gallery at "/" and a map at "/maps/{id}".
// trek serves index.html for every path outside the API, so these URLs can
// be bookmarked and reloaded.
export type Route = { page: "gallery" } | { page: "map"; id: string };

export function parseRoute(pathname: string): Route {
  const m = /^\/maps\/([^/]+)\/?$/.exec(pathname);
  if (m) return { page: "map", id: decodeURIComponent(m[1]) };
  return { page: "gallery" };
}

export function routePath(r: Route): string {
  return r.page === "map" ? `/maps/${encodeURIComponent(r.id)}` : "/";
}

export function navigate(r: Route): void {
  const path = routePath(r);
  if (window.location.pathname !== path) window.history.pushState(null, "", path);
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
