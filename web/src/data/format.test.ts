import { describe, expect, it } from "vitest";
import { dayEnd, dayStart, formatDuration, formatShare } from "./format";
import { parseValue, toSegment, NO_SEGMENT } from "./segment";
import { bindingMatcher, stepBinding } from "./api";

describe("formatDuration", () => {
  it.each([
    [null, "en", "–"],
    [0, "en", "0s"],
    [0.4, "en", "0.4s"],
    [45, "en", "45s"],
    [60.358, "en", "1m"],
    [7500, "en", "2h 5m"],
    [90061, "en", "1d 1h"],
    [86400 * 3, "en", "3d"],
  ] as const)("%s seconds in %s is %s", (secs, lang, want) => {
    expect(formatDuration(secs, lang)).toBe(want);
  });
});

describe("formatShare", () => {
  it("shows one decimal in the UI's language", () => {
    expect(formatShare(0.630769, "en")).toBe("63.1%");
    expect(formatShare(0.630769, "pl")).toBe("63,1%");
  });
});

describe("date range", () => {
  it("reads a date as UTC midnight and includes the last day", () => {
    expect(dayStart("2025-02-03")).toBe("2025-02-03T00:00:00Z");
    expect(dayEnd("2025-02-28")).toBe("2025-03-01T00:00:00Z");
    expect(dayEnd("2024-12-31")).toBe("2025-01-01T00:00:00Z");
  });
  it("leaves an empty or malformed date open", () => {
    expect(dayStart("")).toBeUndefined();
    expect(dayEnd("03/02/2025")).toBeUndefined();
  });
});

describe("segments", () => {
  it("is everyone without an event", () => {
    expect(toSegment(NO_SEGMENT)).toBeUndefined();
    expect(toSegment({ ...NO_SEGMENT, property: "plan", value: "pro" })).toBeUndefined();
  });
  it("builds 'did X on channel Y with P = V' with typed values", () => {
    expect(toSegment({ event: "Order Completed", channel: "mobile", property: "total", value: "100" })).toEqual({
      performed: { event: "Order Completed", channel: "mobile", where: [{ property: "total", op: "eq", value: 100 }] },
    });
    expect(toSegment({ event: " Signed Up ", channel: "", property: "", value: "" })).toEqual({ performed: { event: "Signed Up" } });
  });
  it.each([
    ["true", true],
    ["false", false],
    ["-2", -2],
    ["1.5", 1.5],
    ["android", "android"],
    ["12abc", "12abc"],
  ] as const)("reads %j as %j", (s, want) => {
    expect(parseValue(s)).toBe(want);
  });
});

describe("bindings", () => {
  it("turns a step's binding into a query matcher", () => {
    const b = { events: ["Checkout Step Completed"], channel: "web" as const, where: [{ property: "step_name", op: "eq" as const, value: "delivery" }] };
    expect(bindingMatcher(b)).toEqual({ events: ["Checkout Step Completed"], channel: "web", where: [{ property: "step_name", op: "eq", value: "delivery" }] });
    expect(stepBinding({ id: "s", name: "s", binding: b })).toBe(b);
    expect(stepBinding({ id: "s", name: "s" })).toBeUndefined();
    expect(stepBinding({ id: "s", name: "s", binding: { events: [] } })).toBeUndefined();
  });
});
