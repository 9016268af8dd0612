import { describe, expect, it, vi } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { renderWith } from "../testing/render";
import { ConflictDialog } from "./ConflictDialog";
import { ApiError, type MapSummary } from "../api";

const theirs: MapSummary = {
  id: "map_a",
  name: "Online purchase",
  kind: "current_state",
  personaIds: [],
  tags: [],
  version: 7,
  stages: 3,
  steps: 9,
  createdAt: "2026-01-01T00:00:00Z",
  updatedAt: new Date(Date.now() - 5 * 60_000).toISOString(),
  updatedBy: "maria",
};

describe("ConflictDialog", () => {
  it.each([
    ["en", "maria saved version 7 while your changes to version 5 were not saved yet: 5 minutes ago", "Keep mine and save"],
    ["el", "Ο χρήστης maria αποθήκευσε την έκδοση 7 ενώ οι αλλαγές σας στην έκδοση 5 δεν είχαν αποθηκευτεί ακόμη: πριν από 5 λεπτά", "Διατήρηση της δικής μου και αποθήκευση"],
  ] as const)("in %s says who saved which version when", (lang, text, keep) => {
    renderWith(<ConflictDialog current={theirs} base={5} onKeepMine={() => {}} onDiscardMine={async () => {}} onClose={() => {}} />, { lang });
    const dialog = screen.getByRole("alertdialog");
    expect(dialog.querySelector("p")!.textContent).toBe(text);
    // Focus starts on keeping one's work, the choice that loses nothing.
    expect(document.activeElement).toBe(within(dialog).getByRole("button", { name: keep }));
  });

  it("without the server's summary still explains", () => {
    renderWith(<ConflictDialog base={2} onKeepMine={() => {}} onDiscardMine={async () => {}} onClose={() => {}} />);
    expect(screen.getByRole("alertdialog").textContent).toContain("The map changed on the server while your changes to version 2 were not saved yet.");
  });

  it("calls the chosen way on, and shows a failure to reload", async () => {
    const keep = vi.fn();
    const close = vi.fn();
    const discard = vi.fn().mockRejectedValue(new ApiError(0, "network", "offline"));
    renderWith(<ConflictDialog current={theirs} base={5} onKeepMine={keep} onDiscardMine={discard} onClose={close} />);
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Discard mine and reload" }));
    await waitFor(() => expect(screen.getByRole("alert").textContent).toBe("trek cannot be reached. Check your connection and try again."));
    await user.click(screen.getByRole("button", { name: "Keep mine and save" }));
    expect(keep).toHaveBeenCalledTimes(1);
    await user.keyboard("{Escape}");
    expect(close).toHaveBeenCalledTimes(1);
  });
});
