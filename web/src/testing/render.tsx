import type { ReactElement } from "react";
import { render } from "@testing-library/react";
import { I18nextProvider } from "react-i18next";
import { Api } from "../api";
import { SessionContext } from "../context";
import { createI18n, type Language } from "../i18n";
import { FakeServer } from "./fakeServer";

// renderWith renders ui inside the app's providers, logged in to the fake
// server's first workspace with the given role.
export function renderWith(ui: ReactElement, opts: { lang?: Language; server?: FakeServer; role?: "viewer" | "editor" | "admin" } = {}) {
  const server = opts.server ?? new FakeServer();
  const api = new Api(server.fetch as typeof fetch);
  const i18n = createI18n(opts.lang ?? "en");
  const current = { ...server.memberships[0], role: opts.role ?? server.memberships[0].role };
  const session = {
    api,
    me: { user: { id: "usr_1", name: "admin" }, memberships: server.memberships },
    current,
    canEdit: current.role !== "viewer",
  };
  const result = render(
    <I18nextProvider i18n={i18n}>
      <SessionContext.Provider value={session}>{ui}</SessionContext.Provider>
    </I18nextProvider>,
  );
  return { ...result, server, api, i18n };
}
