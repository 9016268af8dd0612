import { describe, expect, it } from "vitest";
import { screen, within } from "@testing-library/react";
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
    // Every lane row has one cell per step.
    const firstRow = rows[0].closest("tr")!;
    expect(firstRow.querySelectorAll("td")).toHaveLength(stepCount);
  });

  it("shows touchpoints with their channel, and the emotion with its score", () => {
    renderWith(<MapBoard map={map} />, { lang: "pl" });
    const step = map.stages[0].steps[0];
    const tp = step.touchpoints![0];
    expect(screen.getAllByText(tp.name)[0].closest("li")!.textContent).toBe(`Partner handlowy ${tp.name}`);
    expect(screen.getAllByText(`Emocje: Pozytywne (+1)`).length).toBeGreaterThan(0);
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
