import { describe, expect, it } from "vitest";
import { ApiError } from "./api";
import { errorText, relativeTime, truncate } from "./format";
import { createI18n } from "./i18n";

describe("relativeTime", () => {
  const now = new Date("2026-03-10T12:00:00Z");
  it.each([
    ["2026-03-10T11:59:30Z", "en", "30 seconds ago"],
    ["2026-03-10T09:00:00Z", "en", "3 hours ago"],
    ["2026-03-09T12:00:00Z", "en", "yesterday"],
    ["2026-03-07T12:00:00Z", "en", "3 days ago"],
    ["2026-03-07T12:00:00Z", "el", "πριν από 3 ημέρες"],
    ["2026-03-07T12:00:00Z", "pl", "3 dni temu"],
    ["2026-03-07T12:00:00Z", "vi", "3 ngày trước"],
    ["not a time", "en", ""],
  ])("%s in %s is %j", (iso, lang, want) => {
    expect(relativeTime(iso, lang, now)).toBe(want);
  });
});

describe("truncate", () => {
  it.each([
    ["short", 10, "short"],
    ["Thanh toán", 5, "Thanh"],
    ["Πληρωμή", 3, "Πλη"],
    ["😀😀😀", 2, "😀😀"],
  ])("%j to %d characters", (s, n, want) => {
    expect(truncate(s, n)).toBe(want);
  });
});

describe("errorText", () => {
  const { t } = createI18n("en");
  it.each([
    [new ApiError(0, "network", "fetch failed"), "trek cannot be reached. Check your connection and try again."],
    [new ApiError(403, "forbidden", "x"), "You do not have permission to do that."],
    [new ApiError(404, "not_found", "x"), "It no longer exists."],
    [
      new ApiError(400, "invalid", "the map is not valid", [{ path: "name", message: "is required" }]),
      "Some of what was sent is not valid: name: is required",
    ],
    [new ApiError(500, "internal", "disk full"), "Something went wrong: disk full"],
    [new Error("boom"), "Something went wrong: boom"],
  ])("%o", (err, want) => {
    expect(errorText(t, err)).toBe(want);
  });
});
