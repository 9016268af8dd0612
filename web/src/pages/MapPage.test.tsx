import { describe, expect, it } from "vitest";
import { screen } from "@testing-library/react";
import { MapPage } from "./MapPage";
import { FakeServer } from "../testing/fakeServer";
import { renderWith } from "../testing/render";
import bankingEl from "../testdata/map.banking-account-opening.el.json";
import type { JourneyMap } from "../api";

function withMap() {
  const s = new FakeServer();
  const doc = bankingEl as unknown as JourneyMap;
  s.personas = [{ id: doc.personaIds?.[0] ?? "per_x", name: "Μαρία Κωνσταντίνου" }];
  const sum = s.add({ name: doc.name, kind: doc.kind, personaIds: doc.personaIds ?? [] });
  s.docs[sum.id] = { ...doc, id: sum.id, personaIds: [s.personas[0].id], version: 4, updatedBy: "token:ci" };
  return { s, id: sum.id, doc };
}

describe("MapPage", () => {
  it("shows the map's name, kind, version, goal, personas and board", async () => {
    const { s, id, doc } = withMap();
    renderWith(<MapPage id={id} />, { server: s, lang: "en" });
    expect(await screen.findByRole("heading", { level: 1, name: doc.name })).toBeTruthy();
    expect(screen.getByText("Service blueprint", { selector: ".badge" })).toBeTruthy();
    expect((screen.getByRole("combobox", { name: "Kind" }) as HTMLSelectElement).value).toBe("service_blueprint");
    expect(screen.getByText("Version 4")).toBeTruthy();
    expect(screen.getByText(doc.goal!)).toBeTruthy();
    expect(screen.getByText("Μαρία Κωνσταντίνου")).toBeTruthy();
    expect(screen.getByRole("region", { name: "Journey map board" })).toBeTruthy();
    expect(screen.getByRole("heading", { level: 1 }).getAttribute("lang")).toBe("el");
    expect(document.title).toBe(`${doc.name} · trek`);
  });

  it("says so when the map does not exist", async () => {
    renderWith(<MapPage id="map_missing" />, { lang: "vi" });
    expect((await screen.findByRole("alert")).textContent).toBe(
      "Bản đồ này không tồn tại trong không gian làm việc này, hoặc đã bị xoá.",
    );
    expect(screen.getByRole("link", { name: "Quay lại danh sách bản đồ" })).toBeTruthy();
  });
});
