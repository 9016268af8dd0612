import { describe, expect, it } from "vitest";
import { screen, within, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import PersonasPage, { draftOf, personaOf } from "./PersonasPage";
import CustomersPage, { eventTitle } from "./CustomersPage";
import SourcesPage, { PLATFORMS, snippet } from "./SourcesPage";
import AnalysisPage from "./AnalysisPage";
import { DataServer, fixtures } from "../data/testServer";
import { renderWith } from "../testing/render";
import type { Persona, StoredEvent } from "../data/api";

describe("PersonasPage", () => {
  it("lists personas and creates one", async () => {
    const server = new DataServer();
    renderWith(<PersonasPage />, { server });
    expect(await screen.findByRole("heading", { name: "Sarah Mitchell" })).toBeTruthy();
    await userEvent.click(screen.getByRole("button", { name: "New persona" }));
    const dialog = screen.getByRole("dialog", { name: "New persona" });
    await userEvent.type(within(dialog).getByLabelText("Name"), "Nguyễn Thị Lan");
    await userEvent.type(within(dialog).getByLabelText("Role"), "Kế toán");
    await userEvent.type(within(dialog).getByLabelText("Goals"), "Pay bills fast{enter}Avoid fees");
    await userEvent.click(within(dialog).getByRole("checkbox", { name: "Mobile app" }));
    await userEvent.click(within(dialog).getByRole("button", { name: "Save persona" }));
    expect(await screen.findByRole("heading", { name: "Nguyễn Thị Lan" })).toBeTruthy();
    expect(server.last("POST", "/api/v1/personas")!.body).toEqual({
      name: "Nguyễn Thị Lan",
      role: "Kế toán",
      goals: ["Pay bills fast", "Avoid fees"],
      channels: ["mobile"],
    });
  });

  it("edits a persona keeping the fields the form does not show, and deletes one after confirming", async () => {
    const server = new DataServer();
    renderWith(<PersonasPage />, { server });
    await userEvent.click(await screen.findByRole("button", { name: "Edit Sarah Mitchell" }));
    const dialog = screen.getByRole("dialog", { name: "Edit Sarah Mitchell" });
    const role = within(dialog).getByLabelText("Role");
    await userEvent.clear(role);
    await userEvent.type(role, "Working parent of two");
    await userEvent.click(within(dialog).getByRole("button", { name: "Save persona" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    const put = server.last("PUT", `/api/v1/personas/${fixtures.personas.personas[0].id}`)!.body as Persona;
    expect(put.role).toBe("Working parent of two");
    expect(put.demographics).toEqual(fixtures.personas.personas[0].demographics);
    expect(put.frustrations).toEqual(fixtures.personas.personas[0].frustrations);
    expect(screen.getByText("Working parent of two")).toBeTruthy();

    await userEvent.click(screen.getByRole("button", { name: "Delete Sarah Mitchell" }));
    await userEvent.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "Delete" }));
    await waitFor(() => expect(screen.queryByRole("heading", { name: "Sarah Mitchell" })).toBeNull());
    expect(server.last("DELETE", `/api/v1/personas/${fixtures.personas.personas[0].id}`)).toBeTruthy();
  });

  it("offers no changes to viewers", async () => {
    renderWith(<PersonasPage />, { server: new DataServer(), role: "viewer" });
    await screen.findByRole("heading", { name: "Sarah Mitchell" });
    expect(screen.queryByRole("button", { name: "New persona" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Edit Sarah Mitchell" })).toBeNull();
  });

  it("round-trips a persona through the form", () => {
    const p = fixtures.personas.personas[0] as unknown as Persona;
    const back = personaOf(draftOf(p), p);
    const { createdAt: _c, updatedAt: _u, ...rest } = p;
    expect(back).toEqual(rest);
  });
});

describe("CustomersPage", () => {
  it("finds a customer by phone and shows identifiers, traits and the cross-channel timeline", async () => {
    renderWith(<CustomersPage id="+84940820144" />, { server: new DataServer(), lang: "vi" });
    expect(await screen.findByRole("heading", { name: "cus_5" })).toBeTruthy();
    expect(screen.getByText("minh.nguyen.5@example.com", { selector: "code" })).toBeTruthy();
    const traits = screen.getByRole("heading", { name: "Đặc điểm" }).parentElement!;
    expect(within(traits).getByText("Nguyễn")).toBeTruthy();
    const timeline = screen.getByRole("list", { name: "Dòng thời gian trên mọi kênh" });
    const items = within(timeline).getAllByRole("listitem");
    expect(items).toHaveLength(fixtures.customerEvents.events.length);
    const first = fixtures.customerEvents.events[0] as StoredEvent;
    expect(within(items[0]).getByRole("img", { name: "Trang web" })).toBeTruthy();
    expect(within(items[0]).getByText(eventTitle(first))).toBeTruthy();
    expect(items[0].querySelector("time")!.getAttribute("datetime")).toBe(first.timestamp);
    const channels = new Set(fixtures.customerEvents.events.map((e) => e.channel));
    expect(channels.size).toBeGreaterThan(1);
  });

  it("says when no customer has the identifier", async () => {
    renderWith(<CustomersPage id="nobody@example.com" />, { server: new DataServer() });
    expect((await screen.findByRole("alert")).textContent).toBe("No customer has the identifier “nobody@example.com”.");
  });

  it("names events as people read them", () => {
    expect(eventTitle({ messageId: "m", type: "track", event: "Order Completed", channel: "web", timestamp: "" })).toBe("Order Completed");
    expect(eventTitle({ messageId: "m", type: "page", name: "Pricing", channel: "web", timestamp: "" })).toBe("Page: Pricing");
    expect(eventTitle({ messageId: "m", type: "identify", channel: "web", timestamp: "" })).toBe("identify");
  });
});

describe("SourcesPage", () => {
  it("creates a source and shows its write key", async () => {
    const server = new DataServer();
    renderWith(<SourcesPage pollMs={60_000} />, { server });
    await screen.findByRole("listitem", { name: fixtures.sources.sources[0].name });
    await userEvent.type(screen.getByLabelText("Source name"), "Kiosk");
    await userEvent.selectOptions(screen.getByLabelText("Channel"), "store");
    await userEvent.click(screen.getByRole("button", { name: "Create source" }));
    const card = await screen.findByRole("listitem", { name: "Kiosk" });
    expect(server.last("POST", "/api/v1/sources")!.body).toEqual({ name: "Kiosk", channel: "store" });
    const key = (server.sourceList.at(-1) as { writeKey: string }).writeKey;
    expect(within(card).getByTestId("write-key").textContent).not.toBe(key);
    await userEvent.click(within(card).getByRole("button", { name: "Show the write key of Kiosk" }));
    expect(within(card).getByTestId("write-key").textContent).toBe(key);
  });

  it("asks before giving a source a new write key", async () => {
    const server = new DataServer().on((method, url) => {
      const m = /^\/api\/v1\/sources\/([^/]+)\/rotate$/.exec(url.pathname);
      if (method !== "POST" || !m) return undefined;
      return { ...server.sourceList.find((s) => s.id === m[1]), writeKey: "trek_wk_rotatedrotatedrotatedrotated1" };
    });
    renderWith(<SourcesPage pollMs={60_000} />, { server });
    const name = fixtures.sources.sources[0].name;
    const card = await screen.findByRole("listitem", { name });
    await userEvent.click(within(card).getByRole("button", { name: `New write key for ${name}` }));
    await userEvent.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "Cancel" }));
    expect(server.requests.some((r) => r.path.endsWith("/rotate"))).toBe(false);
    await userEvent.click(within(card).getByRole("button", { name: `New write key for ${name}` }));
    await userEvent.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "New write key" }));
    await waitFor(() => expect(within(card).getByTestId("write-key").textContent).toBe("trek_wk_rotatedrotatedrotatedrotated1"));
  });

  it("counts the events received, and those arriving at once", async () => {
    const server = new DataServer();
    const id = server.sourceList[0].id as string;
    server.received[id] = 40;
    renderWith(<SourcesPage pollMs={50} />, { server });
    const total = fixtures.activities.activities.reduce((s, a) => s + a.events, 0);
    expect(await screen.findByText(`${total.toLocaleString("en")} events received; 0 new since you opened this page`)).toBeTruthy();
    // Three events arrive; the analytics index has not caught up yet.
    server.received[id] = 43;
    expect(await screen.findByText(`${total.toLocaleString("en")} events received; 3 new since you opened this page`)).toBeTruthy();
  });

  it("shows the quarantine with reasons, replays a fixed event and discards", async () => {
    const server = new DataServer();
    server.quarantineList.push({ ...server.quarantineList[0], id: "qr_second", reason: "properties.a.b.c.d.e: nesting deeper than 5" });
    renderWith(<SourcesPage pollMs={60_000} />, { server });
    expect(await screen.findByText("track call without event name")).toBeTruthy();
    expect(screen.getByRole("heading", { name: "Quarantine: 2 events to look at" })).toBeTruthy();
    const payload = screen.getAllByLabelText("The event as sent (fix it here before replaying)")[0];
    await userEvent.clear(payload);
    await userEvent.click(payload);
    await userEvent.paste('{"type": "track", "userId": "u-1", "event": "Order Completed"}');
    await userEvent.click(screen.getAllByRole("button", { name: "Replay" })[0]);
    await waitFor(() => expect(screen.getByRole("heading", { name: "Quarantine: 1 event to look at" })).toBeTruthy());
    expect(server.last("POST", "/api/v1/quarantine/qr_82qlrg1zozbk/replay")!.body).toEqual({
      event: { type: "track", userId: "u-1", event: "Order Completed" },
    });
    await userEvent.click(screen.getByRole("button", { name: "Discard" }));
    expect(await screen.findByText("Nothing in quarantine: every event received was valid.")).toBeTruthy();
  });

  it("is for admins only", () => {
    renderWith(<SourcesPage />, { server: new DataServer(), role: "editor" });
    expect(screen.getByText("Only admins of this workspace manage sources.")).toBeTruthy();
  });

  it.each(PLATFORMS)("gives a %s snippet pointing at this host with the write key", (p) => {
    const s = snippet(p, "trek_wk_abc", "https://trek.example.com");
    expect(s).toContain("trek_wk_abc");
    expect(s).toMatch(/trek\.example\.com/);
  });
});

describe("AnalysisPage", () => {
  it("shows a tab per view and the current one", async () => {
    renderWith(<AnalysisPage kind="variants" search="" />, { server: new DataServer(), lang: "el" });
    const nav = screen.getByRole("navigation", { name: "Προβολές ανάλυσης" });
    expect(within(nav).getAllByRole("link").map((a) => a.textContent)).toEqual([
      "Χωνί",
      "Διαδρομές",
      "Χάρτης διαδικασίας",
      "Παραλλαγές",
      "Διατήρηση",
      "Τάσεις",
    ]);
    expect(within(nav).getByRole("link", { name: "Παραλλαγές" }).getAttribute("aria-current")).toBe("page");
    expect(await screen.findByRole("table", { name: "Παραλλαγές" })).toBeTruthy();
  });
});
