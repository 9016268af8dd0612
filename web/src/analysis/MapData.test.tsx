import { describe, expect, it } from "vitest";
import { screen, within, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { JourneyMap } from "../api";
import { MapPage } from "../pages/MapPage";
import { DataServer, fixtures } from "../data/testServer";
import { renderWith } from "../testing/render";
import mapFixture from "./testdata/map.json";

function withMap() {
  const server = new DataServer();
  const doc = structuredClone(mapFixture) as unknown as JourneyMap;
  const sum = server.add({ name: doc.name, kind: doc.kind });
  server.docs[sum.id] = { ...doc, id: sum.id };
  return { server, id: sum.id, doc };
}

// These render the whole editor, which is slow on a busy machine.
describe("the map page's data features", { timeout: 20_000 }, () => {
  it("switches on the live overlay and draws the metrics on every bound step", async () => {
    const { server, id } = withMap();
    renderWith(<MapPage id={id} />, { server });
    const toggle = await screen.findByRole("switch", { name: "Show live numbers" });
    // Before the overlay, bound steps say what they are bound to.
    expect(screen.getAllByText("Bound to Order Completed").length).toBeGreaterThan(0);
    await userEvent.click(toggle);
    const badge = await screen.findByRole("group", { name: "Live numbers for Starts checkout" });
    expect(badge.querySelector("[data-metric=customers]")!.textContent).toBe("601");
    expect(screen.getAllByRole("group", { name: /^Live numbers for/ })).toHaveLength(fixtures.metrics.steps.filter((s) => s.bound).length);
    expect(server.requests.some((r) => r.path === `/api/v1/maps/${id}/metrics`)).toBe(true);
  });

  it("binds a step from its menu and the editor saves the binding", async () => {
    const { server, id } = withMap();
    server.on((method, url, body) => (method === "PUT" && url.pathname === `/api/v1/maps/${id}` ? { ...(body as object), version: 2 } : undefined));
    renderWith(<MapPage id={id} />, { server });
    await userEvent.click(await screen.findByRole("button", { name: "Actions for step “Asks other parents”" }));
    await userEvent.click(screen.getByRole("menuitem", { name: "Bind to data…" }));
    const dialog = await screen.findByRole("dialog", { name: "Bind “Asks other parents” to data" });
    await userEvent.click(await within(dialog).findByRole("checkbox", { name: /Chat Started/ }));
    await userEvent.click(within(dialog).getByRole("button", { name: "Save binding" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(screen.getByText("Bound to Chat Started")).toBeTruthy();
    await waitFor(() => expect(server.last("PUT", `/api/v1/maps/${id}`)).toBeTruthy(), { timeout: 10_000 });
    const saved = server.last("PUT", `/api/v1/maps/${id}`)!.body as JourneyMap;
    const step = saved.stages.flatMap((s) => s.steps).find((s) => s.id === "ask-other-parents") as { binding?: unknown };
    expect(step.binding).toEqual({ events: ["Chat Started"] });
  });

  it("opens the analysis views from a step's menu with the step's event", async () => {
    const { server, id } = withMap();
    renderWith(<MapPage id={id} />, { server });
    await userEvent.click(await screen.findByRole("button", { name: "Actions for step “Starts checkout”" }));
    await userEvent.click(screen.getByRole("menuitem", { name: "Paths from here" }));
    expect(window.location.pathname + window.location.search).toBe(`/analysis/paths?map=${id}&event=Checkout+Started`);
    await userEvent.click(screen.getByRole("button", { name: "Actions for step “Pays for the order”" }));
    await userEvent.click(screen.getByRole("menuitem", { name: "Why do people leave here?" }));
    expect(window.location.pathname + window.location.search).toBe(`/analysis/funnel?map=${id}&step=pay`);
  });
});
