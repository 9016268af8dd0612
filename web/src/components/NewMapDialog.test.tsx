import { describe, expect, it, vi } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { NewMapDialog } from "./NewMapDialog";
import { FakeServer } from "../testing/fakeServer";
import { renderWith } from "../testing/render";
import templatesVi from "../testdata/templates.vi.json";
import templatesEl from "../testdata/templates.el.json";
import type { TemplateSummary } from "../api";

function server() {
  const s = new FakeServer();
  s.templates = {
    vi: templatesVi.templates as TemplateSummary[],
    el: templatesEl.templates as TemplateSummary[],
    en: [],
  };
  return s;
}

describe("NewMapDialog", () => {
  it("previews the chosen template's stages and steps in the template's language, and creates from it", async () => {
    const onCreated = vi.fn();
    const { server: s } = renderWith(<NewMapDialog onClose={() => {}} onCreated={onCreated} />, { server: server(), lang: "vi" });
    const dialog = await screen.findByRole("dialog", { name: "Tạo bản đồ mới" });
    const user = userEvent.setup();
    const retail = templatesVi.templates.find((x) => x.id === "retail-online-purchase")!;
    await user.click(await within(dialog).findByRole("radio", { name: new RegExp(retail.name) }));

    const preview = within(dialog).getByRole("region", { name: "Xem trước" });
    for (const st of retail.stages) expect(within(preview).getByText(st.name)).toBeTruthy();
    expect(within(preview).getByText(retail.stages[0].steps[0])).toBeTruthy();
    expect(within(preview).getByText(`Dành cho: ${retail.persona}`)).toBeTruthy();
    expect((within(dialog).getByLabelText("Tên bản đồ") as HTMLInputElement).value).toBe(retail.name);

    await user.click(within(dialog).getByRole("button", { name: "Tạo bản đồ" }));
    await waitFor(() => expect(onCreated).toHaveBeenCalled());
    expect(s.last("POST", "/api/v1/maps")?.body).toEqual({
      template: "retail-online-purchase",
      locale: "vi",
      name: retail.name,
      withPersona: true,
    });
    expect(s.last("GET", "/api/v1/templates")?.query.get("locale")).toBe("vi");
  });

  it("loads templates in another language when the template language changes", async () => {
    renderWith(<NewMapDialog onClose={() => {}} onCreated={() => {}} />, { server: server(), lang: "en" });
    const user = userEvent.setup();
    await user.selectOptions(await screen.findByLabelText("Template language"), "el");
    const greek = templatesEl.templates[0];
    expect(await screen.findByRole("radio", { name: new RegExp(greek.name) })).toBeTruthy();
    await user.selectOptions(screen.getByLabelText("Industry"), "banking");
    const radios = screen.getAllByRole("radio", { name: /./ }).filter((r) => (r as HTMLInputElement).name === "template");
    expect(radios).toHaveLength(templatesEl.templates.filter((x) => x.industry === "banking").length);
  });

  it("keeps a name the user typed when another template is chosen", async () => {
    const { server: s } = renderWith(<NewMapDialog onClose={() => {}} onCreated={() => {}} />, { server: server(), lang: "vi" });
    const user = userEvent.setup();
    const name = await screen.findByLabelText("Tên bản đồ");
    await waitFor(() => expect((name as HTMLInputElement).value).not.toBe(""));
    await user.clear(name);
    await user.type(name, "Hành trình của tôi");
    await user.click(screen.getAllByRole("radio").filter((r) => (r as HTMLInputElement).name === "template")[1]);
    expect((name as HTMLInputElement).value).toBe("Hành trình của tôi");
    await user.click(screen.getByLabelText(/Thêm cả chân dung/));
    await user.click(screen.getByRole("button", { name: "Tạo bản đồ" }));
    await waitFor(() => expect(s.last("POST", "/api/v1/maps")?.body).toMatchObject({ name: "Hành trình của tôi", withPersona: false }));
  });

  it("creates a blank map of the chosen kind, and needs a name for it", async () => {
    const onCreated = vi.fn();
    const { server: s } = renderWith(<NewMapDialog onClose={() => {}} onCreated={onCreated} />, { server: server(), lang: "el" });
    const user = userEvent.setup();
    await user.click(await screen.findByRole("radio", { name: "Ένας κενός χάρτης" }));
    await user.selectOptions(screen.getByLabelText("Είδος χάρτη"), "service_blueprint");
    const form = document.getElementById("new-map-form") as HTMLFormElement;
    form.requestSubmit();
    expect(await screen.findByRole("alert")).toBeTruthy();
    expect(s.last("POST", "/api/v1/maps")).toBeUndefined();
    await user.type(screen.getByLabelText("Όνομα χάρτη"), "Άνοιγμα λογαριασμού");
    await user.click(screen.getByRole("button", { name: "Δημιουργία χάρτη" }));
    await waitFor(() => expect(onCreated).toHaveBeenCalled());
    expect(s.last("POST", "/api/v1/maps")?.body).toEqual({
      name: "Άνοιγμα λογαριασμού",
      kind: "service_blueprint",
      stages: [{ name: "Στάδιο 1", steps: [] }],
    });
  });

  it("closes on Escape and keeps Tab inside the dialog", async () => {
    const onClose = vi.fn();
    renderWith(<NewMapDialog onClose={onClose} onCreated={() => {}} />, { server: server(), lang: "vi" });
    const dialog = await screen.findByRole("dialog");
    await screen.findAllByRole("radio", { name: /./ });
    const user = userEvent.setup();
    for (let i = 0; i < 40; i++) {
      await user.tab();
      expect(dialog.contains(document.activeElement), `focus left the dialog after ${i + 1} tabs`).toBe(true);
    }
    await user.keyboard("{Escape}");
    expect(onClose).toHaveBeenCalled();
  });
});
