import { describe, expect, it, vi } from "vitest";
import { fireEvent, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { renderWith } from "../testing/render";
import { EmotionCurve, scoreAt, yOf, type CurvePoint } from "./EmotionCurve";

const points: CurvePoint[] = [
  { stepId: "a", stepName: "Sees an ad", score: 1, x: 100 },
  { stepId: "b", stepName: "Visits", score: null, x: 300 },
  { stepId: "c", stepName: "Pays", score: -2, x: 500 },
];
const H = 132;

describe("scoreAt and yOf", () => {
  it.each([-2, -1, 0, 1, 2])("round-trip score %d", (s) => expect(scoreAt(yOf(s, H), H)).toBe(s));
  it.each([
    [-50, 2],
    [H + 50, -2],
    [yOf(1, H) + 8, 1],
    [yOf(1, H) + 20, 0],
  ])("y %d is score %d", (y, s) => expect(scoreAt(y, H)).toBe(s));
});

describe("EmotionCurve", () => {
  it("draws a point per step and a line through the scored ones", () => {
    renderWith(<EmotionCurve points={points} width={600} height={H} />);
    const sliders = screen.getAllByRole("slider");
    expect(sliders.map((s) => s.getAttribute("aria-valuetext"))).toEqual(["Emotion: Positive (+1)", "Not set", "Emotion: Very negative (-2)"]);
    expect(sliders[0].getAttribute("aria-valuenow")).toBe("1");
    expect(sliders[1].hasAttribute("aria-valuenow")).toBe(false);
    const d = document.querySelector("path.curve")!.getAttribute("d");
    expect(d).toBe(`M100.0,${yOf(1, H).toFixed(1)} L500.0,${yOf(-2, H).toFixed(1)}`);
  });

  it("changes a score with the arrow keys, Home, End and Delete, one change per key", async () => {
    const onChange = vi.fn();
    renderWith(<EmotionCurve points={points} width={600} height={H} onChange={onChange} />, { lang: "vi" });
    const user = userEvent.setup();
    const first = screen.getByRole("slider", { name: "Cảm xúc tại “Sees an ad”" });
    first.focus();
    await user.keyboard("{ArrowUp}");
    expect(onChange).toHaveBeenLastCalledWith("a", 2);
    await user.keyboard("{ArrowDown}");
    expect(onChange).toHaveBeenLastCalledWith("a", 0);
    await user.keyboard("{Home}");
    expect(onChange).toHaveBeenLastCalledWith("a", -2);
    await user.keyboard("{Delete}");
    expect(onChange).toHaveBeenLastCalledWith("a", null);
    // Right goes to the next step; Up on an unset point starts at 0.
    await user.keyboard("{ArrowRight}");
    expect(document.activeElement).toBe(screen.getAllByRole("slider")[1]);
    await user.keyboard("{ArrowUp}");
    expect(onChange).toHaveBeenLastCalledWith("b", 0);
    // Already at the bottom: nothing to change.
    screen.getAllByRole("slider")[2].focus();
    onChange.mockClear();
    await user.keyboard("{ArrowDown}");
    expect(onChange).not.toHaveBeenCalled();
  });

  it("changes a score by dragging its point, once, on release", () => {
    const onChange = vi.fn();
    renderWith(<EmotionCurve points={points} width={600} height={H} onChange={onChange} />);
    const svg = document.querySelector("svg.emotion-curve")!;
    const third = screen.getAllByRole("slider")[2];
    fireEvent.pointerDown(third, { pointerId: 1, clientY: yOf(-2, H) });
    fireEvent.pointerMove(svg, { pointerId: 1, clientY: yOf(0, H) });
    // While dragging, the point follows the pointer but nothing is saved.
    expect(third.getAttribute("aria-valuenow")).toBe("0");
    expect(onChange).not.toHaveBeenCalled();
    fireEvent.pointerMove(svg, { pointerId: 1, clientY: yOf(1, H) + 3 });
    fireEvent.pointerUp(svg, { pointerId: 1, clientY: yOf(1, H) + 3 });
    expect(onChange).toHaveBeenCalledTimes(1);
    expect(onChange).toHaveBeenCalledWith("c", 1);
  });

  it("does not change on a drag that ends where it started, nor when read-only", () => {
    const onChange = vi.fn();
    const { unmount } = renderWith(<EmotionCurve points={points} width={600} height={H} onChange={onChange} />);
    const svg = document.querySelector("svg.emotion-curve")!;
    fireEvent.pointerDown(screen.getAllByRole("slider")[0], { pointerId: 1, clientY: yOf(1, H) });
    fireEvent.pointerUp(svg, { pointerId: 1, clientY: yOf(1, H) - 4 });
    expect(onChange).not.toHaveBeenCalled();
    unmount();

    renderWith(<EmotionCurve points={points} width={600} height={H} />);
    const ro = screen.getAllByRole("slider")[0];
    expect(ro.getAttribute("tabindex")).toBe("-1");
    fireEvent.pointerDown(ro, { pointerId: 1, clientY: yOf(1, H) });
    fireEvent.pointerUp(document.querySelector("svg.emotion-curve")!, { pointerId: 1, clientY: yOf(-2, H) });
    expect(ro.getAttribute("aria-valuenow")).toBe("1");
  });
});
