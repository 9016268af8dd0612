import { describe, expect, it, vi } from "vitest";
import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MapBoard } from "./MapBoard";
import { lanesOf, laneItems } from "./lanes";
import { renderWith } from "../testing/render";
import bankingEl from "../testdata/map.banking-account-opening.el.json";
import type { JourneyMap } from "../api";

const map = bankingEl as unknown as JourneyMap;

describe("MapBoard", () => {
  it("draws stages and steps as columns and lanes as rows", () => {
    renderWith(<MapBoard map={map} />);
    const board = screen.getByRole("region", { name: "Journey map board" });
    const headers = within(board).getAllByRole("columnheader");
    const stepCount = map.stages.reduce((n, s) => n + Math.max(1, s.steps.length), 0);
    expect(headers).toHaveLength(map.stages.length + map.stages.reduce((n, s) => n + s.steps.length, 0));
    for (const st of map.stages) expect(within(board).getByRole("columnheader", { name: st.name })).toBeTruthy();
    const rows = within(board).getAllByRole("rowheader");
    expect(rows.map((r) => r.textContent)).toEqual(map.lanes!.map((l) => l.name));
    // Every lane row has one cell per step, but the emotion curve spans them.
    const firstRow = rows[0].closest("tr")!;
    expect(firstRow.querySelectorAll("td")).toHaveLength(stepCount);
    const emotions = within(board).getByRole("rowheader", { name: "Συναισθήματα" }).closest("tr")!;
    expect(emotions.querySelectorAll("td")).toHaveLength(1);
    expect(emotions.querySelector("td")!.colSpan).toBe(stepCount);
    // Read-only: no control to change anything.
    expect(within(board).queryAllByRole("button")).toHaveLength(0);
  });

  it("shows touchpoints with their channel, and the emotion with its score", () => {
    renderWith(<MapBoard map={map} />, { lang: "pl" });
    const step = map.stages[0].steps[0];
    const tp = step.touchpoints![0];
    expect(screen.getAllByText(tp.name)[0].closest("li")!.textContent).toBe(`Partner handlowy ${tp.name}`);
    const point = screen.getByRole("slider", { name: `Emocje w kroku „${step.name}”` });
    expect(point.getAttribute("aria-valuetext")).toBe("Emocje: Pozytywne (+1)");
    expect(screen.getByText(step.emotion!.note!)).toBeTruthy();
    expect(screen.getByText(step.painPoints![0])).toBeTruthy();
    expect(screen.getByText(step.technology![0])).toBeTruthy();
  });

  it("names lanes in the UI language when the map gives them no name, and marks empty stages", () => {
    const bare: JourneyMap = {
      id: "m",
      name: "Bare",
      kind: "service_blueprint",
      version: 1,
      stages: [
        { id: "a", name: "Awareness", steps: [{ id: "s", name: "Sees ad", actions: ["Scrolls"] }] },
        { id: "b", name: "Later", steps: [] },
      ],
    };
    renderWith(<MapBoard map={bare} />, { lang: "el" });
    const rows = screen.getAllByRole("rowheader").map((r) => r.textContent);
    expect(rows).toEqual([
      "Ενέργειες",
      "Σημεία επαφής",
      "Σκέψεις",
      "Συναισθήματα",
      "Σημεία δυσαρέσκειας",
      "Ευκαιρίες",
      "Μπροστά στον πελάτη",
      "Στο παρασκήνιο",
      "Υποστηρικτικές διαδικασίες",
      "Πολιτικές",
      "Τεχνολογία",
    ]);
    expect(screen.getByText("Δεν υπάρχουν ακόμη βήματα σε αυτό το στάδιο.")).toBeTruthy();
    expect(screen.getByText("Scrolls")).toBeTruthy();
  });
});

describe("MapBoard extension points", () => {
  it("draws a decoration in every step's header and adds actions to every step's menu", async () => {
    const onStepAction = vi.fn();
    renderWith(
      <MapBoard
        map={map}
        stepDecoration={(id) => <span data-testid={`deco-${id}`}>{id.length} customers</span>}
        stepActions={[{ action: "bind", label: "Bind to data" }]}
        onStepAction={onStepAction}
      />,
    );
    const step = map.stages[1].steps[0];
    const head = screen.getByRole("columnheader", { name: step.name });
    expect(within(head).getByTestId(`deco-${step.id}`).textContent).toBe(`${step.id.length} customers`);
    expect(screen.getAllByTestId(/^deco-/)).toHaveLength(map.stages.reduce((n, s) => n + s.steps.length, 0));

    const user = userEvent.setup();
    await user.click(within(head).getByRole("button", { name: `Actions for step “${step.name}”` }));
    const menu = screen.getByRole("menu");
    // A read-only board's menu has only the added actions.
    expect(within(menu).getAllByRole("menuitem").map((m) => m.textContent)).toEqual(["Bind to data"]);
    await user.keyboard("{Enter}");
    expect(onStepAction).toHaveBeenCalledWith(step.id, "bind");
    expect(screen.queryByRole("menu")).toBeNull();
  });

  it("puts the editor's own actions first in an editable board's menu, and handles them itself", async () => {
    const dispatch = vi.fn();
    const onStepAction = vi.fn();
    renderWith(<MapBoard map={map} dispatch={dispatch} stepActions={[{ action: "why", label: "Why do people leave here?" }]} onStepAction={onStepAction} />);
    const step = map.stages[0].steps[0];
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: `Actions for step “${step.name}”` }));
    const items = within(screen.getByRole("menu")).getAllByRole("menuitem");
    expect(items.map((m) => m.textContent)).toEqual([
      "Add a step before",
      "Add a step after",
      `Move “${step.name}” left`,
      `Move “${step.name}” right`,
      `Delete step “${step.name}”`,
      "Why do people leave here?",
    ]);
    expect((items[2] as HTMLButtonElement).disabled).toBe(true); // the first step cannot go left
    await user.keyboard("{ArrowDown}{ArrowDown}{ArrowDown}{Enter}");
    expect(dispatch).toHaveBeenCalledWith({ type: "deleteStep", stepId: step.id });
    expect(onStepAction).not.toHaveBeenCalled();
  });
});

describe("lanes", () => {
  it.each([
    ["current_state", 6],
    ["future_state", 6],
    ["day_in_the_life", 6],
    ["service_blueprint", 11],
  ] as const)("%s has %d default lanes", (kind, n) => {
    expect(lanesOf({ id: "m", name: "m", kind, version: 1, stages: [] })).toHaveLength(n);
  });

  it("reads a custom lane's items by the lane's id", () => {
    expect(laneItems({ id: "s", name: "s", custom: { ln_kpi: ["NPS 40"] } }, { id: "ln_kpi", kind: "custom", name: "KPI" })).toEqual([
      "NPS 40",
    ]);
    expect(laneItems({ id: "s", name: "s" }, { id: "ln_kpi", kind: "custom", name: "KPI" })).toEqual([]);
  });
});
