import { Suspense, lazy, useCallback, useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { Api, ApiError, type Me, type Membership } from "./api";
import { SessionContext, type Session } from "./context";
import { errorText } from "./format";
import { safeStorage } from "./i18n";
import { LoginPage } from "./pages/LoginPage";
import { GalleryPage } from "./pages/GalleryPage";
import { MapPage } from "./pages/MapPage";
import { Header } from "./components/Header";
import { navigate, useRoute, type Route } from "./router";
import { isAnalysisKind } from "./analysis/links";

// The data pages load on first use, so the gallery and maps stay light.
const AnalysisPage = lazy(() => import("./pages/AnalysisPage"));
const PersonasPage = lazy(() => import("./pages/PersonasPage"));
const CustomersPage = lazy(() => import("./pages/CustomersPage"));
const SourcesPage = lazy(() => import("./pages/SourcesPage"));

function dataPage(route: Route) {
  switch (route.page) {
    case "analysis":
      return isAnalysisKind(route.kind) ? <AnalysisPage kind={route.kind} search={route.search ?? ""} /> : null;
    case "personas":
      return <PersonasPage />;
    case "customers":
      return <CustomersPage key={route.id ?? ""} id={route.id} />;
    case "sources":
      return <SourcesPage />;
  }
  return null;
}

export const WORKSPACE_KEY = "trek.workspace";

// pickMembership keeps the workspace chosen last time while the user still
// belongs to it, and otherwise falls back to the first, as the API does.
export function pickMembership(ms: Membership[], saved: string | null | undefined): Membership | undefined {
  return ms.find((m) => m.workspace.slug === saved) ?? ms[0];
}

export function App({ api }: { api: Api }) {
  const { t } = useTranslation();
  const route = useRoute();
  // undefined while asking the server, null when logged out
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [loadError, setLoadError] = useState("");
  const [slug, setSlug] = useState<string | null>(() => safeStorage()?.getItem(WORKSPACE_KEY) ?? null);

  const load = useCallback(async () => {
    setLoadError("");
    try {
      setMe(await api.me());
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) setMe(null);
      else setLoadError(errorText(t, e));
    }
  }, [api, t]);

  useEffect(() => {
    api.onUnauthenticated = () => setMe(null);
    void load();
  }, [api]);

  const current = me ? pickMembership(me.memberships, slug) : undefined;
  api.workspace = current?.workspace.slug ?? "";

  const session = useMemo<Session | null>(
    () =>
      me && current
        ? { api, me, current, canEdit: current.role === "editor" || current.role === "admin" }
        : null,
    [api, me, current],
  );

  const chooseWorkspace = (s: string) => {
    try {
      safeStorage()?.setItem(WORKSPACE_KEY, s);
    } catch {
      // The choice still holds for this visit.
    }
    setSlug(s);
    navigate({ page: "gallery" });
  };

  const logout = async () => {
    try {
      await api.logout();
    } finally {
      setMe(null);
      navigate({ page: "gallery" });
    }
  };

  if (loadError) {
    return (
      <main id="main" className="center-note">
        <p role="alert" className="error">
          {loadError}
        </p>
        <button type="button" className="button" onClick={() => void load()}>
          {t("common.retry")}
        </button>
      </main>
    );
  }
  if (me === undefined) {
    return (
      <main id="main" className="center-note" aria-busy="true">
        <p>{t("app.loading")}</p>
      </main>
    );
  }
  if (me === null) return <LoginPage api={api} onLogin={(m) => setMe(m)} />;
  if (!session || !current) {
    return (
      <main id="main" className="center-note">
        <p role="alert">{t("app.noWorkspace")}</p>
        <button type="button" className="button" onClick={() => void logout()}>
          {t("header.logout")}
        </button>
      </main>
    );
  }
  return (
    <SessionContext.Provider value={session}>
      <a className="skip-link" href="#main">
        {t("app.skipToContent")}
      </a>
      <Header
        userName={me.user?.name ?? me.token?.name ?? ""}
        memberships={me.memberships}
        current={current}
        onWorkspace={chooseWorkspace}
        onLogout={() => void logout()}
      />
      <main id="main" tabIndex={-1}>
        {route.page === "map" ? (
          <MapPage key={`${current.workspace.slug}/${route.id}`} id={route.id} />
        ) : dataPage(route) ? (
          <Suspense fallback={<p aria-busy="true">{t("app.loading")}</p>}>
            <div key={current.workspace.slug}>{dataPage(route)}</div>
          </Suspense>
        ) : (
          <GalleryPage key={current.workspace.slug} />
        )}
      </main>
    </SessionContext.Provider>
  );
}
