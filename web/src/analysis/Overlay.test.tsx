import { describe, expect, it } from "vitest";
import { screen, within, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import type { JourneyMap } from "../api";
import type { MapMetrics, StepMetrics } from "../data/api";
import { DataServer, fixtures } from "../data/testServer";
import { renderWith } from "../testing/render";
import mapFixture from "./testdata/map.json";
import { emotionFromMetrics } from "./emotion";
import {
  NO_FILTER,
  OverlayControls,
  OverlaySummary,
  StepMetricsBadge,
  metricsParams,
  overlayDecoration,
  previousBound,
  signed,
  useOverlay,
  whyHref,
  type OverlayFilter,
} from "./Overlay";

const map = mapFixture as unknown as JourneyMap;
const metrics = fixtures.metrics as unknown as unknown as MapMetrics;

describe("StepMetricsBadge", () => {
  it("shows customers, conversion from the previous step, median time and drop-off from the metrics endpoint", () => {
    const m = metrics.steps.find((s) => s.stepId === "start-checkout")!;
    renderWith(<StepMetricsBadge m={m} worst={0} />);
    const g = screen.getByRole("group", { name: "Live numbers for Starts checkout" });
    const val = (k: string) => g.querySelector(`[data-metric=${k}]`)!.textContent;
    expect(val("customers")).toBe("601");
    expect(val("conversion")).toBe("56.5%");
    expect(val("median")).toBe("1m 22s");
    expect(val("dropOff")).toBe("462 (43.5%)");
    expect(g.className).not.toContain("worst");
  });

  it("marks the worst drop-offs with their rank, in the UI's language", () => {
    const m = metrics.steps.find((s) => s.stepId === "add-to-cart")!;
    renderWith(<StepMetricsBadge m={m} worst={3} measured={{ mean: 0.6286, responses: 105 }} />, { lang: "el" });
    const g = screen.getByRole("group");
    expect(g.className).toContain("worst");
    expect(within(g).getByText("Απώλεια #3")).toBeTruthy();
    expect(g.querySelector("[data-metric=felt]")!.textContent).toBe("+0,6 (105 απαντήσεις)");
  });

  it.each([
    [0.6286, "+0,6"],
    [-0.04, "0,0"],
    [-1.25, "-1,3"],
    [0, "0,0"],
  ])("writes the measured score %s as %s", (x, want) => {
    expect(signed(x, "el")).toBe(want);
  });

  it("says a step is not bound instead of showing zeros", () => {
    const m = metrics.steps.find((s) => !s.bound)!;
    renderWith(<StepMetricsBadge m={m} worst={0} />, { lang: "vi" });
    expect(screen.getByText("Chưa gắn với dữ liệu")).toBeTruthy();
  });
});

describe("overlayDecoration", () => {
  it("decorates bound steps, ranks the worst drop-offs and links to the funnel from the previous bound step", () => {
    const deco = overlayDecoration(map, { metrics, emotion: {}, loading: false, error: "" }, { ...NO_FILTER, from: "2025-02-01" });
    renderWith(
      <div>
        {["see-social-ad", "return-item", "pay", "nope"].map((id) => (
          <div key={id} data-testid={id}>
            {deco(id)}
          </div>
        ))}
      </div>,
    );
    expect(screen.getByTestId("nope").textContent).toBe("");
    expect(within(screen.getByTestId("return-item")).getByText("Drop-off #1")).toBeTruthy();
    // The first bound step has nothing before it to leave from.
    expect(within(screen.getByTestId("see-social-ad")).queryByRole("link")).toBeNull();
    const why = within(screen.getByTestId("pay")).getByRole("link", { name: "Why do people leave here?" });
    expect(why.getAttribute("href")).toBe(`/analysis/funnel?map=${map.id}&step=pay&from=2025-02-01`);
  });

  it("finds the previous bound step across stages and past unbound ones", () => {
    expect(previousBound(map, "search-shop")?.id).toBe("see-social-ad");
    expect(previousBound(map, "see-social-ad")).toBeUndefined();
    expect(whyHref(map, "see-social-ad", NO_FILTER)).toBeUndefined();
  });
});

describe("OverlaySummary", () => {
  it("shows conformance: mean fitness, end-to-end share and the commonest deviations", async () => {
    renderWith(<OverlaySummary map={map} o={{ metrics, emotion: {}, loading: false, error: "" }} />);
    const s = screen.getByRole("region", { name: "Live map summary" });
    expect(s.querySelector("[data-metric=start]")!.textContent).toBe("455");
    expect(s.querySelector("[data-metric=fitness]")!.textContent).toBe("32.6%");
    expect(s.querySelector("[data-metric=endToEnd]")!.textContent).toBe("0.0%");
    expect(within(s).getByText("“Sees a social media ad” skipped")).toBeTruthy();
    expect(within(s).getByText("“Page Viewed” outside the map")).toBeTruthy();
    expect(within(s).getByText("1,871 journeys")).toBeTruthy();
    expect(await within(s).findByRole("img", { name: "Designed and measured emotion per step" })).toBeTruthy();
    expect(within(s).getByText(/No survey answers/)).toBeTruthy();
  });

  it("asks for bindings when the map has none", () => {
    renderWith(<OverlaySummary map={map} o={{ metrics: { ...metrics, boundSteps: 0 }, emotion: {}, loading: false, error: "" }} />);
    expect(screen.getByText(/No step of this map is bound/)).toBeTruthy();
  });
});

function Harness({ initial }: { initial: OverlayFilter }) {
  const [f, setF] = useState(initial);
  const o = useOverlay(map, true, f);
  return (
    <>
      <OverlayControls filter={f} onChange={setF} />
      <output data-testid="customers">{o.metrics?.customers ?? ""}</output>
    </>
  );
}

describe("the overlay's range and segment", () => {
  it("asks the metrics endpoint for the picked range and segment", async () => {
    const server = new DataServer();
    renderWith(<Harness initial={{ ...NO_FILTER, from: "2025-02-01", to: "2025-02-28" }} />, { server });
    await waitFor(() => expect(screen.getByTestId("customers").textContent).toBe("455"));
    const first = server.requests.filter((r) => r.path.endsWith("/metrics")).at(-1)!;
    expect(first.query.get("from")).toBe("2025-02-01T00:00:00Z");
    expect(first.query.get("to")).toBe("2025-03-01T00:00:00Z");
    expect(first.query.get("segment")).toBeNull();

    await userEvent.selectOptions(await screen.findByLabelText("Customers who did"), "Order Completed");
    await userEvent.selectOptions(screen.getByLabelText("On channel"), "mobile");
    await userEvent.type(screen.getByLabelText("With property"), "total");
    await userEvent.type(screen.getByLabelText("Equal to"), "100");
    await userEvent.click(screen.getByRole("button", { name: "Apply segment" }));
    await waitFor(() => expect(server.requests.filter((r) => r.path.endsWith("/metrics")).at(-1)!.query.get("segment")).not.toBeNull());
    const seg = JSON.parse(server.requests.filter((r) => r.path.endsWith("/metrics")).at(-1)!.query.get("segment")!);
    expect(seg).toEqual({ performed: { event: "Order Completed", channel: "mobile", where: [{ property: "total", op: "eq", value: 100 }] } });
  });

  it("turns the picker's state into the endpoint's parameters", () => {
    expect(metricsParams(NO_FILTER)).toEqual({ from: undefined, to: undefined, segment: undefined });
  });
});

describe("the measured emotion curve", () => {
  it("reads each step's measured emotion off the live map's metrics", () => {
    const step = (stepId: string, measuredEmotion: { responses: number; mean: number } | null) =>
      ({ ...(fixtures.metrics as unknown as MapMetrics).steps[0], stepId, measuredEmotion }) as StepMetrics;
    const m = { ...(fixtures.metrics as unknown as MapMetrics), steps: [step("a", { responses: 105, mean: 0.63 }), step("b", null), step("c", { responses: 0, mean: 0 })] } as unknown as MapMetrics;
    expect(emotionFromMetrics(m)).toEqual({ a: { responses: 105, mean: 0.63 } });
    expect(emotionFromMetrics(null)).toEqual({});
  });
});
