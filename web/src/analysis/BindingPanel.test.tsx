import { describe, expect, it, vi } from "vitest";
import { screen, within, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { BindingPanel, filtersOf } from "./BindingPanel";
import { renderWith } from "../testing/render";
import { DataServer, fixtures } from "../data/testServer";

describe("BindingPanel", () => {
  it("lists the events seen in the data with their counts, searchable", async () => {
    renderWith(<BindingPanel stepName="Chooses delivery" onSave={() => {}} onClose={() => {}} />, { server: new DataServer() });
    const list = await screen.findByRole("list", { name: "Events" });
    await within(list).findByText("Page Viewed");
    expect(within(list).getAllByRole("checkbox")).toHaveLength(fixtures.activities.activities.length);
    expect(within(list).getByText("Order Completed").closest("label")!.textContent).toContain("654 customers · 920 events");
    await userEvent.type(screen.getByLabelText("Search events"), "checkout");
    expect(within(list).getAllByRole("checkbox").map((c) => c.closest("label")!.querySelector(".activity-name")!.textContent)).toEqual([
      "Checkout Started",
      "Checkout Step Completed",
    ]);
  });

  it("previews the customers matching the event, channel and filter, then saves the binding", async () => {
    const server = new DataServer();
    const onSave = vi.fn();
    const onClose = vi.fn();
    renderWith(<BindingPanel stepName="Chooses delivery" onSave={onSave} onClose={onClose} />, { server });
    await userEvent.click(await screen.findByRole("checkbox", { name: /Checkout Step Completed/ }));
    await userEvent.selectOptions(screen.getByLabelText("Channel"), "web");
    await userEvent.click(screen.getByRole("button", { name: "Add a filter" }));
    await userEvent.type(screen.getByLabelText("Property of filter 1"), "step_name");
    await userEvent.type(screen.getByLabelText("Value of filter 1"), "delivery");
    await userEvent.click(screen.getByRole("button", { name: "Preview matching customers" }));

    expect(await screen.findByText("483 customers match")).toBeTruthy();
    expect(screen.getByRole("link", { name: "cus_2" }).getAttribute("href")).toBe("/customers/cus_2");
    const sent = server.last("POST", "/api/v1/query/funnel")!.body;
    expect(sent).toEqual({
      steps: [{ events: ["Checkout Step Completed"], channel: "web", where: [{ property: "step_name", op: "eq", value: "delivery" }] }],
      customers: { step: 1, outcome: "reached", limit: 10 },
    });

    await userEvent.click(screen.getByRole("button", { name: "Save binding" }));
    await waitFor(() => expect(onClose).toHaveBeenCalled());
    expect(onSave).toHaveBeenCalledWith({
      events: ["Checkout Step Completed"],
      channel: "web",
      where: [{ property: "step_name", op: "eq", value: "delivery" }],
    });
  });

  it("starts from the step's binding and can remove it", async () => {
    const onSave = vi.fn();
    renderWith(
      <BindingPanel stepName="Pays" binding={{ events: ["Order Completed"], channel: "mobile" }} onSave={onSave} onClose={() => {}} />,
      { server: new DataServer(), lang: "pl" },
    );
    expect(await screen.findByRole("dialog", { name: "Powiąż „Pays” z danymi" })).toBeTruthy();
    expect((screen.getByLabelText("Kanał") as HTMLSelectElement).value).toBe("mobile");
    expect(within(screen.getByRole("list", { name: "Wybrane zdarzenia" })).getByText("Order Completed")).toBeTruthy();
    await userEvent.click(screen.getByRole("button", { name: "Usuń powiązanie" }));
    expect(onSave).toHaveBeenCalledWith(null);
  });

  it("shows the server's reason when saving fails and stays open", async () => {
    const onClose = vi.fn();
    renderWith(
      <BindingPanel
        stepName="Pays"
        binding={{ events: ["Order Completed"] }}
        onSave={() => Promise.reject(new Error("someone else saved first"))}
        onClose={onClose}
      />,
      { server: new DataServer() },
    );
    await userEvent.click(await screen.findByRole("button", { name: "Save binding" }));
    expect((await screen.findByRole("alert")).textContent).toContain("someone else saved first");
    expect(onClose).not.toHaveBeenCalled();
  });
});

describe("filtersOf", () => {
  it("types values, splits lists and drops values of exists", () => {
    expect(
      filtersOf([
        { property: "total", op: "gte", value: "100" },
        { property: "plan", op: "in", value: "pro, team" },
        { property: "coupon", op: "exists", value: "ignored" },
        { property: "  ", op: "eq", value: "x" },
      ]),
    ).toEqual([
      { property: "total", op: "gte", value: 100 },
      { property: "plan", op: "in", value: ["pro", "team"] },
      { property: "coupon", op: "exists" },
    ]);
  });
});
