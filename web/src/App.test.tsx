import { describe, expect, it } from "vitest";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { I18nextProvider } from "react-i18next";
import { App, pickMembership, WORKSPACE_KEY } from "./App";
import { Api } from "./api";
import { createI18n, LANGUAGE_KEY } from "./i18n";
import { FakeServer } from "./testing/fakeServer";

function renderApp(server: FakeServer, lang: "en" | "vi" | "el" | "pl" = "en") {
  const api = new Api(server.fetch as typeof fetch);
  const i18n = createI18n(lang);
  render(
    <I18nextProvider i18n={i18n}>
      <App api={api} />
    </I18nextProvider>,
  );
  return { api, i18n };
}

describe("App", () => {
  it("asks to log in when there is no session, and shows the gallery after", async () => {
    const server = new FakeServer();
    server.loggedIn = false;
    renderApp(server);
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText("User name"), "admin");
    await user.type(screen.getByLabelText("Password"), "correct horse");
    await user.click(screen.getByRole("button", { name: "Log in" }));
    expect(await screen.findByRole("heading", { name: "Journey maps" })).toBeTruthy();
    expect(server.last("POST", "/api/v1/auth/login")?.body).toEqual({ name: "admin", password: "correct horse" });
    expect(screen.getByText("Signed in as admin (admin)")).toBeTruthy();
  });

  it("says so, in the chosen language, when the password is wrong", async () => {
    const server = new FakeServer();
    server.loggedIn = false;
    renderApp(server, "vi");
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText("Tên người dùng"), "admin");
    await user.type(screen.getByLabelText("Mật khẩu"), "wrong");
    await user.click(screen.getByRole("button", { name: "Đăng nhập" }));
    expect((await screen.findByRole("alert")).textContent).toBe("Tên người dùng hoặc mật khẩu không đúng.");
  });

  it("switches language from the login page and remembers it", async () => {
    const server = new FakeServer();
    server.loggedIn = false;
    renderApp(server);
    const user = userEvent.setup();
    await user.selectOptions(await screen.findByLabelText("Language"), "el");
    expect(screen.getByRole("heading", { level: 1 }).textContent).toBe("Σύνδεση");
    expect(localStorage.getItem(LANGUAGE_KEY)).toBe("el");
    expect(document.documentElement.lang).toBe("el");
  });

  it("pins the theme when chosen and follows the system again on System", async () => {
    const server = new FakeServer();
    server.loggedIn = false;
    renderApp(server);
    const user = userEvent.setup();
    const theme = await screen.findByLabelText("Theme");
    await user.selectOptions(theme, "dark");
    expect(document.documentElement.dataset.theme).toBe("dark");
    expect(localStorage.getItem("trek.theme")).toBe("dark");
    await user.selectOptions(theme, "system");
    expect(document.documentElement.hasAttribute("data-theme")).toBe(false);
    expect(localStorage.getItem("trek.theme")).toBeNull();
  });

  it("sends the chosen workspace with every request and remembers it", async () => {
    const server = new FakeServer();
    renderApp(server);
    const user = userEvent.setup();
    await screen.findByRole("heading", { name: "Journey maps" });
    expect(server.last("GET", "/api/v1/maps")?.headers["X-Trek-Workspace"]).toBe("default");
    await user.selectOptions(screen.getByLabelText("Workspace"), "acme");
    await waitFor(() => expect(server.last("GET", "/api/v1/maps")?.headers["X-Trek-Workspace"]).toBe("acme"));
    expect(localStorage.getItem(WORKSPACE_KEY)).toBe("acme");
    // A viewer there: no buttons that would only be refused.
    expect(await screen.findByText(/changing them needs the editor role/)).toBeTruthy();
    expect(screen.queryByRole("button", { name: "New map" })).toBeNull();
  });

  it("logs out and returns to the login page", async () => {
    const server = new FakeServer();
    renderApp(server);
    const user = userEvent.setup();
    const header = await screen.findByRole("banner");
    await user.click(within(header).getByRole("button", { name: "Log out" }));
    expect(await screen.findByRole("heading", { name: "Log in" })).toBeTruthy();
    expect(server.last("POST", "/api/v1/auth/logout")).toBeTruthy();
  });
});

describe("pickMembership", () => {
  const ms = new FakeServer().memberships;
  it.each([
    ["acme", "acme"],
    ["gone", "default"],
    [null, "default"],
  ])("saved %s gives %s", (saved, want) => {
    expect(pickMembership(ms, saved)?.workspace.slug).toBe(want);
  });
  it("gives nothing without memberships", () => {
    expect(pickMembership([], "acme")).toBeUndefined();
  });
});
