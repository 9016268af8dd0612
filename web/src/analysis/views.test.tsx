import { describe, expect, it } from "vitest";
import { fireEvent, screen, within, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { JourneyMap } from "../api";
import type { DFGResult, PathsResult } from "../data/api";
import { DataServer, fixtures } from "../data/testServer";
import { renderWith } from "../testing/render";
import mapFixture from "./testdata/map.json";
import { FunnelView, stepsFromMap } from "./FunnelView";
import { PathsView, sankeyOption } from "./PathsView";
import { ProcessView, filterGraph, layout, minCountFor, timeColour } from "./ProcessView";
import { VariantsView } from "./VariantsView";
import { RetentionView } from "./RetentionView";
import { TrendsView } from "./TrendsView";

const map = mapFixture as unknown as JourneyMap;
const rowText = (table: HTMLElement, n: number) => Array.from(table.querySelectorAll("tbody tr")[n].children).map((c) => c.textContent);

describe("FunnelView", () => {
  it("shows conversion, drop-off and median time per step as the API answers them", async () => {
    const server = new DataServer();
    renderWith(<FunnelView params={new URLSearchParams("event=Product Viewed&event=Product Added&event=Checkout Started&event=Order Completed")} />, {
      server,
    });
    const table = await screen.findByRole("table", { name: "Funnel steps" });
    expect(rowText(table, 0)).toEqual(["1. Product Viewed", "2,161", "100.0%", "100.0%", "–", "–"]);
    expect(rowText(table, 1)).toEqual(["2. Product Added", "1,144", "52.9%", "52.9%", "1,017", "40s"]);
    expect(server.last("POST", "/api/v1/query/funnel")!.body).toEqual({
      steps: [{ event: "Product Viewed" }, { event: "Product Added" }, { event: "Checkout Started" }, { event: "Order Completed" }],
      window: "7d",
      order: "ordered",
    });
    expect(screen.getByRole("img", { name: "Customers and drop-off per step" })).toBeTruthy();
    expect(screen.getByRole("img", { name: "Time from the first step to the last" })).toBeTruthy();
  });

  it("breaks the funnel down by a property", async () => {
    const server = new DataServer();
    renderWith(<FunnelView params={new URLSearchParams("event=Product Viewed&event=Product Added")} />, { server });
    await screen.findByRole("table", { name: "Funnel steps" });
    await userEvent.selectOptions(screen.getByLabelText("Breakdown"), "channel");
    const table = await screen.findByRole("table", { name: "Funnel by value" });
    const web = fixtures.funnel.breakdowns.find((b) => b.value === "web")!;
    expect(rowText(table, 0).slice(0, 2)).toEqual(["web", web.steps[0].customers.toLocaleString("en")]);
    expect((server.last("POST", "/api/v1/query/funnel")!.body as { breakdown: unknown }).breakdown).toEqual({ property: "channel" });
  });

  it("opened from a map step, runs the funnel from the previous bound step with both bindings", async () => {
    const server = new DataServer();
    renderWith(<FunnelView params={new URLSearchParams("map=m&step=choose-delivery&from=2025-02-01")} map={map} />, { server });
    expect(await screen.findByText("Why do people leave between “Starts checkout” and “Chooses delivery” on Online purchase: from ad to return?")).toBeTruthy();
    await screen.findByRole("table", { name: "Funnel steps" });
    expect(server.last("POST", "/api/v1/query/funnel")!.body).toEqual({
      steps: [
        { events: ["Checkout Started"] },
        { events: ["Checkout Step Completed"], where: [{ property: "step_name", op: "eq", value: "delivery" }] },
      ],
      window: "30d",
      order: "ordered",
      from: "2025-02-01T00:00:00Z",
    });
  });

  it("builds no funnel for the first bound step", () => {
    expect(stepsFromMap(map, "see-social-ad")).toBeNull();
    expect(stepsFromMap(map, "search-shop")!.map((s) => s.label)).toEqual(["Sees a social media ad", "Searches the shop"]);
  });
});

describe("PathsView", () => {
  it("draws the paths as a Sankey with one node per event and step", async () => {
    renderWith(<PathsView params={new URLSearchParams("event=Cart Viewed")} />, { server: new DataServer() });
    expect(await screen.findByText("845 customers")).toBeTruthy();
    expect(screen.getByRole("img", { name: "Paths as a Sankey diagram" })).toBeTruthy();
    const opt = sankeyOption(fixtures.paths as PathsResult, (k) => k) as { series: { data: { name: string }[]; links: unknown[] }[] };
    expect(opt.series[0].data).toHaveLength(fixtures.paths.nodes.length);
    expect(opt.series[0].links).toHaveLength(fixtures.paths.links.length);
  });
});

describe("ProcessView", () => {
  const dfg = fixtures.dfg as DFGResult;

  it("lays out every node and edge above the threshold", () => {
    const g = filterGraph(dfg, 500);
    expect(g.edges.every((e) => e.count >= 500)).toBe(true);
    const laid = layout(g.nodes, g.edges);
    expect(laid.nodes).toHaveLength(g.nodes.length);
    expect(laid.edges).toHaveLength(g.edges.length);
    for (const n of laid.nodes) {
      expect(n.x).toBeGreaterThan(0);
      expect(n.x).toBeLessThanOrEqual(laid.width);
    }
    // No two nodes overlap.
    for (const a of laid.nodes)
      for (const b of laid.nodes)
        if (a !== b) expect(Math.abs(a.x - b.x) >= (a.w + b.w) / 2 || Math.abs(a.y - b.y) >= (a.h + b.h) / 2).toBe(true);
  });

  it("maps the slider to edge counts on a log scale and colours slow edges red", () => {
    expect(minCountFor(0, 7566)).toBe(1);
    expect(minCountFor(100, 7566)).toBe(7566);
    expect(minCountFor(50, 10000)).toBe(100);
    expect(timeColour(1, 1, 1000)).toBe("hsl(130 70% 42%)");
    expect(timeColour(1000, 1, 1000)).toBe("hsl(0 70% 42%)");
  });

  it("renders the nodes and hides rare edges as the slider moves", async () => {
    const { container } = renderWith(<ProcessView params={new URLSearchParams("threshold=0")} />, { server: new DataServer() });
    await screen.findByRole("img", { name: "Process map: directly-follows graph" });
    expect(container.querySelectorAll(".dfg-node")).toHaveLength(dfg.nodes.length);
    expect(container.querySelectorAll(".dfg-edge")).toHaveLength(dfg.edges.length);
    fireEvent.change(screen.getByLabelText("Hide rare transitions"), { target: { value: "80" } });
    const min = minCountFor(80, Math.max(...dfg.edges.map((e) => e.count)));
    await waitFor(() => expect(container.querySelectorAll(".dfg-edge")).toHaveLength(dfg.edges.filter((e) => e.count >= min).length));
    expect(screen.getByText(`Showing transitions seen at least ${min.toLocaleString("en")} times`)).toBeTruthy();
  });
});

describe("VariantsView", () => {
  it("lists variants most frequent first with their share and durations", async () => {
    renderWith(<VariantsView params={new URLSearchParams()} />, { server: new DataServer() });
    const table = await screen.findByRole("table", { name: "Variants" });
    expect(screen.getByText("1,654 distinct journeys over 2,444 customers")).toBeTruthy();
    expect(rowText(table, 0)).toEqual(["1", "Page ViewedPage ViewedProduct Viewed", "62", "2.5%", "45s", "1m 11s"]);
  });
});

describe("RetentionView", () => {
  it("shows each cohort's share returning per period, shaded, and the summary", async () => {
    renderWith(<RetentionView params={new URLSearchParams()} />, { server: new DataServer() });
    const table = await screen.findByRole("table", { name: "Retention by cohort" });
    const first = fixtures.retention.cohorts[0];
    const row = rowText(table, 0);
    expect(row[0]).toBe("Dec 30, 2024");
    expect(row[1]).toBe(String(first.customers));
    expect(row[2]).toBe("72.2%");
    const cell = table.querySelectorAll("tbody tr")[0].children[2] as HTMLElement;
    expect(cell.style.background).toBe("rgba(59, 111, 224, 0.4)");
    expect(within(table).getByText("All cohorts")).toBeTruthy();
  });
});

describe("TrendsView", () => {
  it("shows the range's total beside the previous period's", async () => {
    const server = new DataServer();
    renderWith(<TrendsView params={new URLSearchParams("event=Order Completed&from=2025-02-03&to=2025-03-31")} />, { server });
    await screen.findByRole("table", { name: "Trend per period" });
    expect(screen.getByRole("img", { name: "Trend with the previous period" })).toBeTruthy();
    expect(server.last("POST", "/api/v1/query/trends")!.body).toEqual({
      measure: "volume",
      event: { event: "Order Completed" },
      interval: "week",
      from: "2025-02-03T00:00:00Z",
      to: "2025-04-01T00:00:00Z",
    });
    // The fixture is a conversion trend: its totals read as shares.
    expect(document.querySelector("[data-metric=total]")!.textContent).toBe("20.8%");
    expect(document.querySelector("[data-metric=previousTotal]")!.textContent).toBe("25.1%");
  });
});
