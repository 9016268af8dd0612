// End-to-end: the map editor against a real trek server in Chromium, tried
// as a new user would: create a map from a Vietnamese template, rename a
// step in place, change the map's goal and tags, reorder a stage by drag
// and drop, undo and redo, see each change reach the server, meet a save by
// someone else, export PNG, SVG and PDF, and present the map stage by stage. Then the editor must render
// cleanly in every language, light and dark, at both sizes.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { ADMIN_PASSWORD, openPage, problems, screenshots, startBrowser, startTrek } from "./harness.mjs";

const shots = screenshots("editor", [
  "editor-en-light-1280x800",
  "editor-curve-en-light-1920x1080",
  "editor-vi-dark-1920x1080",
  "editor-history-en-light-1920x1080",
  "editor-present-el-light-1280x800",
]);
const screenshot = (name, opts) => shots.take(page, name, opts);

let trek, browser, page;
const refused = [];

async function api(method, pathname, body, headers = {}) {
  return page.evaluate(
    async ([method, p, body, headers]) => {
      const r = await fetch(p, {
        method,
        headers: { "Content-Type": "application/json", ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: r.status, body: await r.json() };
    },
    [method, pathname, body, headers],
  );
}

// saved waits until the editor says the server has every change.
async function saved() {
  await page.locator(".save-status [role=status]").filter({ hasText: /^Saved$/ }).waitFor();
}

// savedAfter does what action does and waits for the autosave it causes:
// the map's PUT answered, then "Saved" shown. saved() alone can see the
// "Saved" of the change before, as the status turns to pending only once
// the editor has rendered the change.
async function savedAfter(action) {
  const put = page.waitForResponse((r) => r.request().method() === "PUT" && r.url().includes("/api/v1/maps/"));
  await action();
  await put;
  await saved();
}

// pngSize reads a PNG's width and height from its IHDR chunk, after
// checking the signature: a real PNG, not just a file named so.
function pngSize(buf) {
  assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "PNG signature");
  assert.equal(buf.subarray(12, 16).toString("latin1"), "IHDR");
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

async function downloadOf(buttonName) {
  const [dl] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: buttonName, exact: true }).click()]);
  return { name: dl.suggestedFilename(), data: readFileSync(await dl.path()) };
}

before(async () => {
  trek = await startTrek();
  browser = await startBrowser();
  page = await openPage(browser, refused);
});

after(async () => {
  await browser?.stop();
  await trek?.stop();
  console.log(`screenshots in ${shots.dir}`);
});

describe("the map editor against a real server", { concurrency: false }, () => {
  let id = "";
  let tpl;

  it("creates a map from a Vietnamese template and opens it in the editor", async () => {
    await page.goto(trek.url + "/");
    await page.getByLabel("User name").fill("admin");
    await page.getByLabel("Password").fill(ADMIN_PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Journey maps" }).waitFor();
    tpl = (await api("GET", "/api/v1/templates?locale=vi")).body.templates.find((t) => t.id === "retail-online-purchase");
    await page.getByRole("button", { name: "New map" }).click();
    const dialog = page.getByRole("dialog", { name: "New map" });
    await dialog.getByLabel("Template language").selectOption("vi");
    await dialog.getByRole("radio", { name: new RegExp(tpl.name) }).check();
    await dialog.getByRole("button", { name: "Create map" }).click();
    await page.getByRole("heading", { level: 1, name: tpl.name }).waitFor();
    id = /\/maps\/([^/]+)$/.exec(page.url())[1];
    await page.getByRole("toolbar", { name: "Map tools" }).waitFor();
    await page.getByRole("slider", { name: `Emotion at “${tpl.stages[0].steps[0]}”` }).waitFor();
    await saved();
    await screenshot("editor-en-light-1280x800");
  });

  it("renames a step in place and autosaves it", async () => {
    const old = tpl.stages[0].steps[0];
    await page.getByRole("button", { name: old, exact: true }).click();
    const field = page.getByRole("textbox", { name: "Step name" });
    await field.fill("Thấy quảng cáo trên Zalo");
    await field.press("Enter");
    await page.getByRole("columnheader", { name: "Thấy quảng cáo trên Zalo", exact: true }).waitFor();
    await saved();
    const m = (await api("GET", `/api/v1/maps/${id}`)).body;
    assert.equal(m.stages[0].steps[0].name, "Thấy quảng cáo trên Zalo");
    assert.equal(m.version, 2);
    await page.getByText("Version 2", { exact: true }).waitFor();
  });

  it("edits the map's goal and a tag in place, and the server has them", async () => {
    const was = (await api("GET", `/api/v1/maps/${id}`)).body;
    const goal = page.locator(".map-fields dd").first().getByRole("button");
    assert.equal(await goal.textContent(), was.goal || "Add a goal");
    await goal.click();
    const field = page.getByRole("textbox", { name: "Goal" });
    await field.fill("Khách thanh toán xong trong 3 phút");
    await field.press("Enter");
    await page.getByRole("button", { name: "Khách thanh toán xong trong 3 phút", exact: true }).waitFor();
    await page.getByRole("button", { name: "Add tag" }).click();
    await page.getByRole("textbox", { name: "New tag" }).fill("mùa lễ");
    await page.keyboard.press("Enter");
    await saved();
    const m = (await api("GET", `/api/v1/maps/${id}`)).body;
    assert.equal(m.goal, "Khách thanh toán xong trong 3 phút");
    assert.deepEqual(m.tags, [...(was.tags ?? []), "mùa lễ"]);
    // Undo takes both back, one at a time, and the server follows.
    await page.getByRole("button", { name: "Undo" }).click();
    await page.getByRole("button", { name: "Undo" }).click();
    await saved();
    const back = (await api("GET", `/api/v1/maps/${id}`)).body;
    assert.equal(back.goal, was.goal);
    assert.deepEqual(back.tags, was.tags);
    assert.equal(back.stages[0].steps[0].name, "Thấy quảng cáo trên Zalo");
  });

  it("adds a custom lane from the lane menu with the keyboard", async () => {
    const add = page.getByRole("button", { name: "Add lane" });
    await add.focus();
    await page.keyboard.press("ArrowUp"); // opens on the last item
    const menu = page.getByRole("menu", { name: "Add lane" });
    await menu.waitFor();
    assert.deepEqual(await problems(page), []);
    assert.equal(await page.evaluate(() => document.activeElement.textContent), "Custom lane…");
    await page.keyboard.press("Enter");
    await page.getByRole("textbox", { name: "Name of the new lane" }).fill("Nhân viên tham gia");
    await page.keyboard.press("Enter");
    await page.getByRole("rowheader", { name: "Nhân viên tham gia" }).waitFor();
    await saved();
    const lanes = (await api("GET", `/api/v1/maps/${id}`)).body.lanes;
    assert.deepEqual(lanes.at(-1), { id: lanes.at(-1).id, kind: "custom", name: "Nhân viên tham gia" });
  });

  const stageNames = () => page.locator("thead th.stage-head").evaluateAll((ths) => ths.map((th) => th.getAttribute("data-stage")));

  it("reorders a stage by drag and drop, undoes and redoes it, and the server follows", async () => {
    const before = await stageNames();
    const second = page.locator(`th.stage-head[data-stage="${before[1]}"]`);
    const first = page.locator(`th.stage-head[data-stage="${before[0]}"]`);
    await second.dragTo(first, { sourcePosition: { x: 30, y: 8 }, targetPosition: { x: 30, y: 8 } });
    const moved = [before[1], before[0], ...before.slice(2)];
    assert.deepEqual(await stageNames(), moved);
    await saved();
    assert.deepEqual((await api("GET", `/api/v1/maps/${id}`)).body.stages.map((s) => s.id), moved);

    // Undo from the keyboard, with the focus on the page rather than a field.
    await page.locator("h1").click({ position: { x: 1, y: 1 }, force: true });
    await page.keyboard.press("Escape");
    await page.keyboard.press("Control+z");
    assert.deepEqual(await stageNames(), before);
    await saved();
    const undone = (await api("GET", `/api/v1/maps/${id}`)).body;
    assert.deepEqual(undone.stages.map((s) => s.id), before);
    assert.equal(undone.stages[0].steps[0].name, "Thấy quảng cáo trên Zalo", "undo went back one change only");

    await page.keyboard.press("Control+Shift+z");
    assert.deepEqual(await stageNames(), moved);
    await page.getByRole("button", { name: "Undo" }).click();
    assert.deepEqual(await stageNames(), before);
    await page.getByRole("button", { name: "Redo" }).click();
    assert.deepEqual(await stageNames(), moved);
    await saved();
    assert.deepEqual((await api("GET", `/api/v1/maps/${id}`)).body.stages.map((s) => s.id), moved);
  });

  it("edits the emotion curve from the keyboard and by dragging a point", async () => {
    const m = (await api("GET", `/api/v1/maps/${id}`)).body;
    const step = m.stages[0].steps[0];
    const point = page.getByRole("slider", { name: `Emotion at “${step.name}”` });
    const was = step.emotion?.score ?? 0;
    await point.focus();
    await savedAfter(() => page.keyboard.press(was < 2 ? "ArrowUp" : "ArrowDown"));
    const want = was < 2 ? was + 1 : was - 1;
    assert.equal(await point.getAttribute("aria-valuenow"), String(want));
    assert.equal((await api("GET", `/api/v1/maps/${id}`)).body.stages[0].steps[0].emotion.score, want);

    // And by dragging the point to the bottom of the scale.
    const dot = await point.locator("circle.dot").boundingBox();
    const curve = await page.locator(".board svg.emotion-curve").boundingBox();
    await page.mouse.move(dot.x + dot.width / 2, dot.y + dot.height / 2);
    await savedAfter(async () => {
      await page.mouse.down();
      await page.mouse.move(dot.x + dot.width / 2, curve.y + curve.height - 4, { steps: 5 });
      await page.mouse.up();
    });
    assert.equal(await point.getAttribute("aria-valuenow"), "-2");
    assert.equal((await api("GET", `/api/v1/maps/${id}`)).body.stages[0].steps[0].emotion.score, -2);
  });

  it("says so when someone else saved first, and keeps mine on request", async () => {
    const theirs = (await api("GET", `/api/v1/maps/${id}`)).body;
    theirs.description = "Đã cập nhật bởi người khác";
    const put = await api("PUT", `/api/v1/maps/${id}?message=elsewhere`, theirs, { "If-Match": `"${theirs.version}"` });
    assert.equal(put.status, 200);
    const stage = theirs.stages.at(-1);
    await page.getByRole("button", { name: stage.name, exact: true }).click();
    await page.getByRole("textbox", { name: "Stage name" }).fill("Sau khi mua");
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("alertdialog", { name: "Someone else saved this map first" });
    await dialog.waitFor();
    await dialog.getByText(`admin saved version ${put.body.version} while your changes to version ${theirs.version} were not saved yet`).waitFor();
    await page.getByRole("status").filter({ hasText: "Not saved: someone else saved first" }).waitFor();
    await dialog.getByRole("button", { name: "Keep mine and save" }).click();
    await saved();
    const now = (await api("GET", `/api/v1/maps/${id}`)).body;
    assert.equal(now.version, put.body.version + 1);
    assert.equal(now.stages.at(-1).name, "Sau khi mua");
  });

  it("shows the version history and a diff of two versions", async () => {
    await page.setViewportSize({ width: 1920, height: 1080 });
    await page.getByRole("button", { name: "Version history" }).click();
    const dialog = page.getByRole("dialog", { name: "Version history" });
    const versions = (await api("GET", `/api/v1/maps/${id}/versions`)).body.versions;
    await dialog.locator(".versions li strong").first().filter({ hasText: `Version ${versions[0].version}` }).waitFor();
    assert.equal(await dialog.locator(".versions > li").count(), versions.length);
    await dialog.getByLabel("From").selectOption("1");
    await dialog.getByLabel("To").selectOption(String(versions[0].version));
    await dialog.getByRole("button", { name: "Compare" }).click();
    const diff = dialog.getByRole("region", { name: `Changes from version 1 to version ${versions[0].version}` });
    await diff.locator(".changes > li").filter({ hasText: "Thấy quảng cáo trên Zalo" }).first().waitFor();
    const real = (await api("GET", `/api/v1/maps/${id}/diff?from=1&to=${versions[0].version}`)).body.changes;
    assert.equal(await diff.locator(".changes > li").count(), real.length);
    await screenshot("editor-history-en-light-1920x1080");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it("exports the board as PNG, SVG and PDF", async () => {
    const svg = await downloadOf("Export as SVG");
    assert.match(svg.name, /\.svg$/);
    const text = svg.data.toString("utf8");
    assert.match(text, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.ok(text.includes(">Thấy quảng cáo trên Zalo<"), "the SVG holds the renamed step");
    const w = Number(/width="(\d+)"/.exec(text)[1]);
    const h = Number(/height="(\d+)"/.exec(text)[1]);

    const png = await downloadOf("Export as PNG");
    // Named after the map, without the characters file systems refuse.
    assert.equal(png.name, `${tpl.name.replace(/[\\/:*?"<>|]+/g, " ").replace(/\s+/g, " ").trim()}.png`);
    // The PNG is the board drawn at twice its size, for sharp text.
    assert.deepEqual(pngSize(png.data), { width: 2 * w, height: 2 * h });

    const pdf = await downloadOf("Export as PDF");
    assert.equal(pdf.data.subarray(0, 8).toString("latin1"), "%PDF-1.4");
    assert.match(pdf.data.subarray(-6).toString("latin1"), /%%EOF\n$/);
    const pages = Number(/\/Count (\d+)/.exec(pdf.data.toString("latin1"))[1]);
    assert.ok(pages >= 1, `pages ${pages}`);
  });

  it("presents the map stage by stage with the arrow keys", async () => {
    const m = (await api("GET", `/api/v1/maps/${id}`)).body;
    await page.getByRole("button", { name: "Present" }).click();
    const show = page.getByRole("dialog", { name: `Presentation of ${m.name}` });
    await show.getByRole("heading", { level: 2, name: m.stages[0].name }).waitFor();
    await show.getByText(`Stage 1 of ${m.stages.length}`).waitFor();
    await page.keyboard.press("ArrowRight");
    await show.getByRole("heading", { level: 2, name: m.stages[1].name }).waitFor();
    await show.getByRole("article", { name: m.stages[1].steps[0].name }).waitFor();
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowLeft");
    await show.getByText(`Stage 2 of ${m.stages.length}`).waitFor();
    await page.keyboard.press("Escape");
    await show.waitFor({ state: "detached" });
    await page.getByRole("toolbar", { name: "Map tools" }).waitFor();
  });

  it("renders cleanly in every language, light and dark, at both sizes", async () => {
    const found = [];
    const runs = [
      ["en", "light", 1280, 800],
      ["vi", "dark", 1920, 1080],
      ["el", "light", 1280, 800],
      ["el", "dark", 1920, 1080],
      ["pl", "light", 1920, 1080],
      ["pl", "dark", 1280, 800],
      ["vi", "light", 1280, 800],
      ["en", "dark", 1920, 1080],
    ];
    for (const [lang, scheme, width, height] of runs) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.setViewportSize({ width, height });
      await page.evaluate((l) => localStorage.setItem("trek.language", l), lang);
      const tag = `${lang}-${scheme}-${width}x${height}`;
      await page.goto(`${trek.url}/maps/${id}`);
      await page.locator(".board .emotion-curve [role=slider]").first().waitFor();
      found.push(...(await problems(page)).map((p) => `${tag} editor: ${p}`));
      await screenshot(`editor-${tag}`);
      if (tag === "en-dark-1920x1080") {
        await page.emulateMedia({ colorScheme: "light" });
        await page.locator(".board tr.lane-emotions").evaluate((tr) => tr.scrollIntoView({ block: "center" }));
        await screenshot("editor-curve-en-light-1920x1080");
      }
      if (tag === "el-light-1280x800") {
        await page.locator(".toolbar .button.primary").click();
        await page.locator(".presentation-step").first().waitFor();
        found.push(...(await problems(page)).map((p) => `${tag} presentation: ${p}`));
        await screenshot(`editor-present-${tag}`);
        await page.keyboard.press("Escape");
      }
    }
    await page.emulateMedia({ colorScheme: "light" });
    await page.evaluate(() => localStorage.setItem("trek.language", "en"));
    assert.deepEqual(found, []);
  });

  it("ran without anything blocked by the Content-Security-Policy", () => {
    assert.deepEqual(refused, []);
  });
});
