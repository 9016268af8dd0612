import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { GalleryPage } from "./GalleryPage";
import { FakeServer } from "../testing/fakeServer";
import { renderWith } from "../testing/render";

function seeded() {
  const s = new FakeServer();
  s.personas = [
    { id: "per_lan", name: "Nguyễn Thị Lan" },
    { id: "per_sarah", name: "Sarah Mitchell" },
  ];
  s.add({ name: "Online purchase", kind: "current_state", personaIds: ["per_sarah"], tags: ["retail"], stages: 6, steps: 17, version: 3, updatedBy: "token:ci", updatedAt: new Date(Date.now() - 2 * 86400e3).toISOString() });
  s.add({ name: "Mua hàng online", kind: "future_state", personaIds: ["per_lan"], tags: ["retail", "vi"], stages: 1, steps: 1 });
  s.add({ name: "Support call", kind: "service_blueprint", tags: ["support"] });
  return s;
}

const card = (name: string) => screen.getByRole("link", { name }).closest("li") as HTMLElement;

describe("GalleryPage", () => {
  it("lists maps with kind, persona, counts and last change", async () => {
    renderWith(<GalleryPage />, { server: seeded() });
    await screen.findByRole("link", { name: "Online purchase" });
    expect(screen.getByText("3 maps")).toBeTruthy();
    expect(document.title).toBe("Journey maps · trek");
    const c = within(card("Online purchase"));
    expect(c.getByText("Current state")).toBeTruthy();
    expect(c.getByText("Sarah Mitchell")).toBeTruthy();
    expect(c.getByText("6 stages · 17 steps")).toBeTruthy();
    expect(c.getByText("2 days ago by token:ci")).toBeTruthy();
    expect(within(card("Mua hàng online")).getByText("1 stage · 1 step")).toBeTruthy();
    expect(within(card("Support call")).getByText("No persona")).toBeTruthy();
  });

  it("shows everything in Polish with Polish plurals", async () => {
    renderWith(<GalleryPage />, { server: seeded(), lang: "pl" });
    await screen.findByRole("link", { name: "Online purchase" });
    expect(screen.getByText("3 mapy")).toBeTruthy();
    expect(within(card("Online purchase")).getByText("6 etapów · 17 kroków")).toBeTruthy();
    expect(within(card("Online purchase")).getByText("Stan obecny")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Usuń Online purchase" })).toBeTruthy();
  });

  it.each([
    ["Kind", "service_blueprint", "kind", ["Support call"]],
    ["Persona", "per_lan", "persona", ["Mua hàng online"]],
    ["Tag", "retail", "tag", ["Mua hàng online", "Online purchase"]],
  ])("filters by %s", async (label, value, param, names) => {
    const { server } = renderWith(<GalleryPage />, { server: seeded() });
    await screen.findByRole("link", { name: "Online purchase" });
    await userEvent.setup().selectOptions(screen.getByLabelText(label), value);
    await waitFor(() => expect(server.last("GET", "/api/v1/maps")?.query.get(param)).toBe(value));
    await waitFor(() => expect(screen.getAllByRole("heading", { level: 2 }).map((h) => h.textContent)).toEqual(names));
    await userEvent.setup().click(screen.getByRole("button", { name: "Clear filters" }));
    await waitFor(() => expect(screen.getAllByRole("heading", { level: 2 })).toHaveLength(3));
  });

  it("searches as the user types, and says when nothing matches", async () => {
    const { server } = renderWith(<GalleryPage />, { server: seeded() });
    await screen.findByRole("link", { name: "Online purchase" });
    const user = userEvent.setup();
    await user.type(screen.getByLabelText("Search maps"), "mua");
    await waitFor(() => expect(server.last("GET", "/api/v1/maps")?.query.get("q")).toBe("mua"));
    await waitFor(() => expect(screen.queryByRole("link", { name: "Online purchase" })).toBeNull());
    await user.clear(screen.getByLabelText("Search maps"));
    await user.type(screen.getByLabelText("Search maps"), "nothing like this");
    expect(await screen.findByText("No map matches the search and filters.")).toBeTruthy();
  });

  it("deletes only after confirmation", async () => {
    const { server } = renderWith(<GalleryPage />, { server: seeded() });
    await screen.findByRole("link", { name: "Online purchase" });
    const user = userEvent.setup();

    await user.click(screen.getByRole("button", { name: "Delete Online purchase" }));
    const dialog = screen.getByRole("alertdialog", { name: "Delete this map?" });
    expect(dialog.textContent).toContain("“Online purchase” and all of its 3 versions will be deleted.");
    expect(document.activeElement?.textContent).toBe("Cancel");
    await user.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("alertdialog")).toBeNull();
    expect(server.last("DELETE", "/api/v1/maps/map_1")).toBeUndefined();

    await user.click(screen.getByRole("button", { name: "Delete Online purchase" }));
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("alertdialog")).toBeNull();
    expect(server.last("DELETE", "/api/v1/maps/map_1")).toBeUndefined();

    await user.click(screen.getByRole("button", { name: "Delete Online purchase" }));
    await user.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "Delete map" }));
    await waitFor(() => expect(screen.queryByRole("link", { name: "Online purchase" })).toBeNull());
    expect(server.last("DELETE", "/api/v1/maps/map_1")).toBeTruthy();
    expect(screen.getByRole("status").textContent).toContain("Deleted “Online purchase”.");
    expect(screen.getByText("2 maps")).toBeTruthy();
  });

  it("duplicates with a translated name", async () => {
    const { server } = renderWith(<GalleryPage />, { server: seeded(), lang: "vi" });
    await screen.findByRole("link", { name: "Support call" });
    await userEvent.setup().click(screen.getByRole("button", { name: "Nhân bản Support call" }));
    expect(await screen.findByRole("link", { name: "Support call (bản sao)" })).toBeTruthy();
    expect(server.last("POST", "/api/v1/maps/map_3/duplicate")?.body).toEqual({ name: "Support call (bản sao)" });
  });

  it("offers no changes to a viewer", async () => {
    renderWith(<GalleryPage />, { server: seeded(), role: "viewer" });
    await screen.findByRole("link", { name: "Online purchase" });
    expect(screen.queryByRole("button", { name: /Delete|Duplicate|New map/ })).toBeNull();
  });

  it("says there are no maps yet in an empty workspace", async () => {
    renderWith(<GalleryPage />);
    expect(await screen.findByText("No maps yet. Start from a template or a blank map.")).toBeTruthy();
  });
});
