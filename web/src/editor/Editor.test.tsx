import { describe, expect, it } from "vitest";
import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { JourneyMap } from "../api";
import { renderWith } from "../testing/render";
import { Editor } from "./Editor";
import { MapServer } from "./fakeMapServer";
import small from "./testdata/small.json";

function setup(opts: { role?: "viewer" | "editor" | "admin"; lang?: "en" | "vi" | "el" | "pl" } = {}) {
  const server = new MapServer();
  server.personas = [
    { id: "per_anna", name: "Anna", role: "Shopper" },
    { id: "per_ben", name: "Ben", role: "Gift buyer" },
  ];
  const doc = server.seed(structuredClone(small) as unknown as JourneyMap);
  const r = renderWith(<Editor api={null!} initial={doc} personas={server.personas} canEdit={opts.role !== "viewer"} autosaveDelay={5} />, {
    server,
    role: opts.role ?? "editor",
    lang: opts.lang ?? "en",
  });
  // The editor talks to the API the render helper made for this server.
  r.rerender(<Editor api={r.api} initial={doc} personas={server.personas} canEdit={opts.role !== "viewer"} autosaveDelay={5} />);
  return { ...r, server, doc, user: userEvent.setup() };
}

const stageOrder = () =>
  Array.from(screen.getByRole("region", { name: "Journey map board" }).querySelectorAll("th.stage-head"), (th) => th.getAttribute("data-stage"));

const puts = (s: MapServer) => s.requests.filter((r) => r.method === "PUT");

describe("Editor", () => {
  it("renames a step in place and autosaves it based on the version it started from", async () => {
    const { server, user } = setup();
    await user.click(screen.getByRole("button", { name: "Visits the shop" }));
    const field = screen.getByRole("textbox", { name: "Step name" });
    await user.clear(field);
    await user.type(field, "Opens the shop{Enter}");
    expect(screen.getByRole("columnheader", { name: "Opens the shop" })).toBeTruthy();
    await waitFor(() => expect(screen.getByRole("status").textContent).toBe("Saved"));
    const put = puts(server).at(-1)!;
    expect(put.headers["If-Match"]).toBe('"3"');
    expect(put.body).toMatchObject({ version: 3, stages: [{ steps: [{}, { name: "Opens the shop" }] }, {}, {}] });
    expect(server.latest("map_small").version).toBe(4);
    expect(screen.getByText("Version 4")).toBeTruthy();
  });

  it("puts the old text back on Escape and saves nothing", async () => {
    const { server, user } = setup();
    await user.click(screen.getByRole("button", { name: "Buy" }));
    await user.type(screen.getByRole("textbox", { name: "Stage name" }), " now{Escape}");
    expect(screen.getByRole("columnheader", { name: "Buy" })).toBeTruthy();
    await new Promise((r) => setTimeout(r, 30));
    expect(puts(server)).toHaveLength(0);
  });

  it("undoes and redoes moves with the keyboard and the buttons", async () => {
    const { user } = setup();
    await user.click(screen.getByRole("button", { name: "Move stage “Buy” left" }));
    expect(stageOrder()).toEqual(["buy", "discover", "after"]);
    await user.click(screen.getByRole("button", { name: "Delete stage “After”" }));
    expect(stageOrder()).toEqual(["buy", "discover"]);

    await user.keyboard("{Control>}z{/Control}");
    expect(stageOrder()).toEqual(["buy", "discover", "after"]);
    await user.click(screen.getByRole("button", { name: /Undo/ }));
    expect(stageOrder()).toEqual(["discover", "buy", "after"]);
    expect((screen.getByRole("button", { name: /Undo/ }) as HTMLButtonElement).disabled).toBe(true);

    await user.keyboard("{Control>}{Shift>}z{/Shift}{/Control}");
    expect(stageOrder()).toEqual(["buy", "discover", "after"]);
    await user.keyboard("{Control>}y{/Control}");
    expect(stageOrder()).toEqual(["buy", "discover"]);
    expect((screen.getByRole("button", { name: /Redo/ }) as HTMLButtonElement).disabled).toBe(true);
  });

  it("moves a stage by drag and drop", () => {
    setup();
    const board = screen.getByRole("region", { name: "Journey map board" });
    const [discover, , after] = board.querySelectorAll("th.stage-head");
    fireEvent.dragStart(after, { dataTransfer: new DataTransfer() });
    fireEvent.dragOver(discover, { dataTransfer: new DataTransfer() });
    expect(discover.classList.contains("drop-target")).toBe(true);
    fireEvent.drop(discover, { dataTransfer: new DataTransfer() });
    expect(stageOrder()).toEqual(["after", "discover", "buy"]);
  });

  it("moves the focused step with Alt+arrow keys, across stages", async () => {
    const { user } = setup();
    screen.getByRole("button", { name: "Visits the shop" }).focus();
    await user.keyboard("{Alt>}{ArrowRight}{/Alt}");
    // The last step of "Discover" is now the first of "Buy".
    const span = (name: string) => screen.getByRole("columnheader", { name }).getAttribute("colspan");
    expect([span("Discover"), span("Buy")]).toEqual(["1", "3"]);
    await user.keyboard("{Alt>}{ArrowRight}{/Alt}");
    const steps = Array.from(document.querySelectorAll("th.step-head"), (h) => h.getAttribute("data-step"));
    expect(steps).toEqual(["see-ad", "cart", "visit", "pay"]);
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Visits the shop" }));
  });

  it("adds and deletes lane items, stages and lanes", async () => {
    const { user } = setup();
    await user.click(screen.getByRole("button", { name: "Add to Pains at “Pays”" }));
    await user.type(screen.getByRole("textbox", { name: "Text in Pains" }), "Card declined{Enter}");
    expect(screen.getByRole("button", { name: "Card declined" })).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "Delete “Card declined”" }));
    expect(screen.queryByRole("button", { name: "Card declined" })).toBeNull();

    await user.click(screen.getByRole("button", { name: "Add stage" }));
    expect(screen.getByRole("columnheader", { name: "New stage" })).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "Add lane" }));
    await user.click(within(screen.getByRole("menu", { name: "Add lane" })).getByRole("menuitem", { name: "Opportunities" }));
    expect(screen.getByRole("rowheader", { name: "Opportunities" })).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "Delete lane “KPI”" }));
    expect(screen.queryByRole("rowheader", { name: "KPI" })).toBeNull();
  });

  it("offers in the lane menu only the built-in lanes the map lacks, and custom lanes", async () => {
    const { user } = setup();
    const button = screen.getByRole("button", { name: "Add lane" });
    expect(button.getAttribute("aria-haspopup")).toBe("menu");
    expect(button.getAttribute("aria-expanded")).toBe("false");
    await user.click(button);
    expect(button.getAttribute("aria-expanded")).toBe("true");
    const items = within(screen.getByRole("menu", { name: "Add lane" }))
      .getAllByRole("menuitem")
      .map((b) => b.textContent);
    // The map has actions, touchpoints, emotions, pain points and a custom lane.
    expect(items).toEqual([
      "Thoughts",
      "Opportunities",
      "Frontstage",
      "Backstage",
      "Support processes",
      "Policies",
      "Technology",
      "Custom lane…",
    ]);
  });

  it("works the lane menu from the keyboard: arrows move, Escape closes, Enter picks", async () => {
    const { user } = setup();
    const button = screen.getByRole("button", { name: "Add lane" });
    button.focus();
    await user.keyboard("{Enter}");
    const menu = screen.getByRole("menu", { name: "Add lane" });
    expect(document.activeElement?.textContent).toBe("Thoughts");
    await user.keyboard("{ArrowDown}");
    expect(document.activeElement?.textContent).toBe("Opportunities");
    await user.keyboard("{ArrowUp}{ArrowUp}");
    expect(document.activeElement?.textContent).toBe("Custom lane…");
    await user.keyboard("{Home}");
    expect(document.activeElement?.textContent).toBe("Thoughts");
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("menu")).toBeNull();
    expect(menu.isConnected).toBe(false);
    expect(document.activeElement).toBe(button);
    expect(screen.queryByRole("rowheader", { name: "Thoughts" })).toBeNull();

    // ArrowDown on the button opens the menu too; Enter picks.
    await user.keyboard("{ArrowDown}{ArrowDown}{Enter}");
    expect(screen.getByRole("rowheader", { name: "Opportunities" })).toBeTruthy();
    expect(document.activeElement).toBe(button);
    await user.keyboard("{Control>}z{/Control}");
    expect(screen.queryByRole("rowheader", { name: "Opportunities" })).toBeNull();
  });

  it("adds a custom lane under the name typed after “Custom lane…”", async () => {
    const { server, user } = setup();
    await user.click(screen.getByRole("button", { name: "Add lane" }));
    await user.click(screen.getByRole("menuitem", { name: "Custom lane…" }));
    await user.type(screen.getByRole("textbox", { name: "Name of the new lane" }), "Staff involved{Enter}");
    expect(screen.getByRole("rowheader", { name: "Staff involved" })).toBeTruthy();
    await waitFor(() => expect(server.latest("map_small").lanes!.at(-1)).toMatchObject({ kind: "custom", name: "Staff involved" }));
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Add lane" }));

    // Escape, or nothing typed, adds no lane.
    await user.click(screen.getByRole("button", { name: "Add lane" }));
    await user.click(screen.getByRole("menuitem", { name: "Custom lane…" }));
    await user.type(screen.getByRole("textbox", { name: "Name of the new lane" }), "Oops{Escape}");
    expect(screen.queryByRole("textbox", { name: "Name of the new lane" })).toBeNull();
    expect(screen.getAllByRole("rowheader")).toHaveLength(6);
  });

  it("edits the map's description, goal, kind and language in place, undoably and autosaved", async () => {
    const { server, user } = setup();
    await user.click(screen.getByRole("button", { name: "Add a description" }));
    await user.type(screen.getByRole("textbox", { name: "Description" }), "From the first ad to the parcel{Enter}");
    await user.click(screen.getByRole("button", { name: "Add a goal" }));
    await user.type(screen.getByRole("textbox", { name: "Goal" }), "Fewer abandoned carts{Enter}");
    await user.selectOptions(screen.getByRole("combobox", { name: "Kind" }), "future_state");
    await user.selectOptions(screen.getByRole("combobox", { name: "Content language" }), "vi");
    expect(screen.getByText("Future state", { selector: ".badge" })).toBeTruthy();
    await waitFor(() =>
      expect(server.latest("map_small")).toMatchObject({
        description: "From the first ad to the parcel",
        goal: "Fewer abandoned carts",
        kind: "future_state",
        locale: "vi",
      }),
    );
    expect(screen.getByRole("region", { name: "Journey map board" }).querySelector("table")!.getAttribute("lang")).toBe("vi");

    // Each was one change: four undos take the map back to where it was.
    const undo = screen.getByRole("button", { name: /Undo/ });
    for (let i = 0; i < 4; i++) await user.click(undo);
    expect((undo as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByRole("button", { name: "Add a goal" })).toBeTruthy();
    expect((screen.getByRole("combobox", { name: "Kind" }) as HTMLSelectElement).value).toBe("current_state");
    await waitFor(() => expect(server.latest("map_small")).toMatchObject({ kind: "current_state", locale: "en" }));
    expect(server.latest("map_small").goal).toBeUndefined();

    // Emptying the goal removes it.
    await user.click(screen.getByRole("button", { name: /Redo/ }));
    await user.click(screen.getByRole("button", { name: /Redo/ }));
    expect(screen.getByRole("button", { name: "From the first ad to the parcel" })).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "Fewer abandoned carts" }));
    await user.clear(screen.getByRole("textbox", { name: "Goal" }));
    await user.keyboard("{Enter}");
    await waitFor(() => expect(screen.getByRole("status").textContent).toBe("Saved"));
    expect("goal" in server.latest("map_small")).toBe(false);
  });

  it("adds and removes tags as chips", async () => {
    const { server, user } = setup();
    const tags = () => within(screen.getByRole("list", { name: "Tags" })).queryAllByRole("listitem").map((li) => li.textContent);
    expect(tags()).toEqual(["retail✕"]);
    await user.click(screen.getByRole("button", { name: "Add tag" }));
    await user.type(screen.getByRole("textbox", { name: "New tag" }), "  black   friday {Enter}");
    await user.click(screen.getByRole("button", { name: "Add tag" }));
    await user.type(screen.getByRole("textbox", { name: "New tag" }), "retail{Enter}");
    expect(tags()).toEqual(["retail✕", "black friday✕"]);
    await user.click(screen.getByRole("button", { name: "Add tag" }));
    await user.type(screen.getByRole("textbox", { name: "New tag" }), `${"x".repeat(61)}{Enter}`);
    expect(screen.getByRole("alert").textContent).toBe("A tag can have at most 60 characters.");
    expect(tags()).toHaveLength(2);

    await user.click(screen.getByRole("button", { name: "Remove tag “retail”" }));
    expect(tags()).toEqual(["black friday✕"]);
    await waitFor(() => expect(server.latest("map_small").tags).toEqual(["black friday"]));
    await user.keyboard("{Control>}z{/Control}");
    expect(tags()).toEqual(["retail✕", "black friday✕"]);
  });

  it("gives viewers the map's fields as text, with no controls", () => {
    setup({ role: "viewer" });
    expect(screen.queryByRole("combobox", { name: "Kind" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Add tag" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Add lane" })).toBeNull();
    expect(within(screen.getByRole("list", { name: "Tags" })).getByText("retail")).toBeTruthy();
  });

  it("says who saved first on a conflict, and keeps mine as the next version", async () => {
    const { server, user } = setup();
    server.saveAs("map_small", "maria", { type: "renameMap", name: "Maria's title" });
    await user.click(screen.getByRole("button", { name: "Pays" }));
    await user.type(screen.getByRole("textbox", { name: "Step name" }), " online{Enter}");
    const dialog = await screen.findByRole("alertdialog", { name: "Someone else saved this map first" });
    expect(dialog.textContent).toContain("maria saved version 4 while your changes to version 3 were not saved yet");
    expect(screen.getByRole("status").textContent).toBe("Not saved: someone else saved first");

    await user.click(within(dialog).getByRole("button", { name: "Keep mine and save" }));
    await waitFor(() => expect(screen.getByRole("status").textContent).toBe("Saved"));
    expect(puts(server).at(-1)!.headers["If-Match"]).toBe('"4"');
    expect(server.latest("map_small").version).toBe(5);
    expect(server.latest("map_small").stages[1].steps[1].name).toBe("Pays online");
  });

  it("discards mine and loads theirs on a conflict", async () => {
    const { server, user } = setup({ lang: "vi" });
    server.saveAs("map_small", "maria", { type: "renameStage", stageId: "buy", name: "Purchase" });
    await user.click(screen.getByRole("button", { name: "Pays" }));
    await user.type(screen.getByRole("textbox", { name: "Tên bước" }), " online{Enter}");
    const dialog = await screen.findByRole("alertdialog", { name: "Người khác đã lưu bản đồ này trước" });
    const before = puts(server).length;
    await user.click(within(dialog).getByRole("button", { name: "Bỏ bản của tôi và tải lại" }));
    await waitFor(() => expect(screen.queryByRole("alertdialog")).toBeNull());
    expect(screen.getByRole("columnheader", { name: "Purchase" })).toBeTruthy();
    expect(screen.getByRole("columnheader", { name: "Pays" })).toBeTruthy();
    expect(screen.getByRole("status").textContent).toBe("Đã lưu");
    await new Promise((r) => setTimeout(r, 30));
    expect(puts(server)).toHaveLength(before);
  });

  it("shows the server's field errors beside the field and in words", async () => {
    const { server, user } = setup();
    server.invalid = [{ path: "stages[1].steps[0].name", message: "is required" }];
    await user.click(screen.getByRole("button", { name: "Fills the cart" }));
    await user.clear(screen.getByRole("textbox", { name: "Step name" }));
    await user.keyboard("{Enter}");
    await waitFor(() => expect(screen.getByRole("status").textContent).toBe("Not saved: some fields need fixing"));
    const alerts = screen.getAllByRole("alert").map((a) => a.textContent);
    expect(alerts).toContain("is required");
    expect(alerts.some((a) => a?.includes("“Buy” › “” › name: is required"))).toBe(true);
    // The emptied name still leaves a control with a name to click.
    expect(within(screen.getAllByRole("columnheader").find((h) => h.getAttribute("data-step") === "cart")!).getByRole("button", { name: "Step name" })).toBeTruthy();
    const cell = screen.getAllByRole("columnheader").find((h) => h.getAttribute("data-step") === "cart")!;
    expect(within(cell).getByText("is required")).toBeTruthy();

    server.invalid = null;
    await user.click(within(cell).getByRole("button", { name: "Step name" }));
    await user.type(screen.getByRole("textbox", { name: "Step name" }), "Fills the basket{Enter}");
    await waitFor(() => expect(screen.getByRole("status").textContent).toBe("Saved"));
    expect(screen.queryByText("is required")).toBeNull();
  });

  it("lists versions, compares two and restores one", async () => {
    const { server, user } = setup();
    server.saveAs("map_small", "maria", { type: "renameStep", stepId: "pay", name: "Pays by card" });
    await user.click(screen.getByRole("button", { name: "Version history" }));
    const dialog = screen.getByRole("dialog", { name: "Version history" });
    const items = await within(dialog).findAllByRole("listitem");
    expect(items.map((li) => li.querySelector("strong")!.textContent)).toEqual(["Version 4", "Version 3", "Version 2", "Version 1"]);
    expect(items[0].textContent).toContain("by maria");

    await user.selectOptions(within(dialog).getByRole("combobox", { name: "From" }), "1");
    await user.selectOptions(within(dialog).getByRole("combobox", { name: "To" }), "4");
    await user.click(within(dialog).getByRole("button", { name: "Compare" }));
    const diff = await within(dialog).findByRole("region", { name: "Changes from version 1 to version 4" });
    expect(Array.from(diff.querySelectorAll(".changes > li"), (li) => li.textContent)).toEqual(["Changed step “Pays by card” · Buy Name: Pays → Pays by card"]);
    const board = within(diff).getByRole("region", { name: "Board of version 4" });
    expect(board.querySelector('th[data-step="pay"]')!.classList.contains("mark-changed")).toBe(true);

    await user.click(within(dialog).getByRole("button", { name: "Restore version 2" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(screen.getByRole("columnheader", { name: "Pays" })).toBeTruthy();
    expect(server.latest("map_small").version).toBe(5);
    expect(screen.getByText("Version 5")).toBeTruthy();
    expect(server.last("POST", "/api/v1/maps/map_small/versions/2/restore")!.headers["If-Match"]).toBe('"3"');
  });

  it("links and unlinks the workspace's personas", async () => {
    const { server, user } = setup();
    await user.click(screen.getByRole("button", { name: "Personas (1)" }));
    const dialog = screen.getByRole("dialog", { name: "Personas of this map" });
    await user.selectOptions(within(dialog).getByRole("combobox", { name: "Persona" }), "per_ben");
    await user.click(within(dialog).getByRole("button", { name: "Link persona" }));
    await user.click(within(dialog).getByRole("button", { name: "Unlink Anna" }));
    expect(within(dialog).getByText("Ben")).toBeTruthy();
    expect(within(dialog).queryByText("Anna")).toBeNull();
    await waitFor(() => expect(server.latest("map_small").personaIds).toEqual(["per_ben"]));
  });

  it("gives viewers the read-only board with export, history and presentation", () => {
    setup({ role: "viewer" });
    expect(screen.queryByRole("button", { name: /Undo/ })).toBeNull();
    expect(screen.queryByRole("button", { name: "Visits the shop" })).toBeNull();
    expect(screen.getByRole("columnheader", { name: "Visits the shop" })).toBeTruthy();
    expect(screen.getByText("Read-only view")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Export as PNG" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Version history" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Present" })).toBeTruthy();
    const slider = screen.getByRole("slider", { name: "Emotion at “Sees an ad”" });
    expect(slider.getAttribute("aria-readonly")).toBe("true");
  });

  it("presents the map stage by stage and leaves with Escape", async () => {
    const { user } = setup({ lang: "pl" });
    await user.click(screen.getByRole("button", { name: "Prezentuj" }));
    const show = screen.getByRole("dialog", { name: "Prezentacja: Online purchase" });
    expect(within(show).getByRole("heading", { level: 2 }).textContent).toBe("Discover");
    expect(within(show).getByText("Etap 1 z 3")).toBeTruthy();
    await user.keyboard("{ArrowRight}");
    expect(within(show).getByRole("heading", { level: 2 }).textContent).toBe("Buy");
    expect(within(show).getByRole("article", { name: "Fills the cart" }).textContent).toContain("Delivery fee shown late");
    await user.keyboard("{ArrowRight}{ArrowRight}");
    expect(within(show).getByText("Etap 3 z 3")).toBeTruthy();
    await user.keyboard("{ArrowLeft}");
    expect(within(show).getByText("Etap 2 z 3")).toBeTruthy();
    // Tab stays inside the presentation.
    for (let i = 0; i < 4; i++) {
      await user.keyboard("{Tab}");
      expect(show.contains(document.activeElement)).toBe(true);
    }
    await user.keyboard("{Shift>}{Tab}{/Shift}");
    expect(show.contains(document.activeElement)).toBe(true);
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).toBeNull();
  });

  it("saves what is pending when the editor goes away", async () => {
    const { server, user, unmount } = setup();
    await user.click(screen.getByRole("button", { name: "Move stage “Buy” right" }));
    act(() => unmount());
    await waitFor(() => expect(puts(server)).toHaveLength(1));
    expect(server.latest("map_small").stages.map((s) => s.id)).toEqual(["discover", "after", "buy"]);
  });
});
