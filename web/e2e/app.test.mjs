// End-to-end: the embedded web app against a real trek server in Chromium,
// tried as a new user would: log in, create a map from a Vietnamese
// template, find it in the gallery, duplicate it, delete the copy after
// confirming, switch the language to Greek, and check that every screen
// renders cleanly in all four languages, light and dark, at 1280×800 and
// 1920×1080.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ADMIN_PASSWORD, openPage, problems, screenshots, startBrowser, startTrek } from "./harness.mjs";

const SIZES = [
  { width: 1280, height: 800 },
  { width: 1920, height: 1080 },
];
const shots = screenshots("app", [
  "login-en-light-1280x800",
  "gallery-en-light-1280x800",
  "gallery-vi-dark-1920x1080",
  "new-map-el-light-1280x800",
  "new-map-pl-dark-1920x1080",
  "map-en-light-1920x1080",
  "map-el-dark-1280x800",
]);
const screenshot = (name, opts) => shots.take(page, name, opts);

let trek, browser, page;
const refused = []; // what the Content-Security-Policy blocked

async function api(pathname) {
  return page.evaluate(async (p) => {
    const r = await fetch(p);
    return { status: r.status, body: await r.json() };
  }, pathname);
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

describe("the web app against a real server", { concurrency: false }, () => {
  let viName = "";
  let viPersona = "";

  it("serves the app with its security headers", async () => {
    const res = await page.goto(trek.url + "/");
    assert.equal(res.status(), 200);
    const csp = res.headers()["content-security-policy"];
    assert.match(csp, /script-src 'self'/);
    assert.equal(res.headers()["cache-control"], "no-cache");
  });

  it("logs in", async () => {
    await page.getByRole("heading", { name: "Log in" }).waitFor();
    await screenshot("login-en-light-1280x800");
    await page.getByLabel("User name").fill("admin");
    await page.getByLabel("Password").fill("wrong password");
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("alert").filter({ hasText: "The user name or password is not right." }).waitFor();
    await page.getByLabel("Password").fill(ADMIN_PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Journey maps" }).waitFor();
    await page.getByText("No maps yet.").waitFor();
    const me = await api("/api/v1/me");
    assert.equal(me.body.user.name, "admin");
  });

  it("creates a map from a Vietnamese template and finds it in the gallery", async () => {
    const tpl = (await api("/api/v1/templates?locale=vi")).body.templates.find((t) => t.id === "retail-online-purchase");
    viName = tpl.name;
    viPersona = tpl.persona;
    // Keyboard only: the button is reachable and opens the dialog.
    await page.getByRole("button", { name: "New map" }).focus();
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog", { name: "New map" });
    await dialog.waitFor();
    await dialog.getByLabel("Template language").selectOption("vi");
    await dialog.getByRole("radio", { name: new RegExp(tpl.name) }).check();
    const preview = dialog.getByRole("region", { name: "Preview" });
    await preview.getByText(tpl.stages[0].steps[0], { exact: true }).waitFor();
    await preview.getByText(tpl.stages.at(-1).name, { exact: true }).waitFor();
    await dialog.getByRole("button", { name: "Create map" }).click();

    await page.getByRole("heading", { level: 1, name: viName }).waitFor();
    assert.match(page.url(), /\/maps\/map_/);
    const board = page.getByRole("region", { name: "Journey map board" });
    await board.getByRole("columnheader", { name: tpl.stages[0].name, exact: true }).waitFor();
    await screenshot("map-vi-1280x800");

    // A reload of the map's own URL comes back to it (SPA fallback).
    await page.reload();
    await page.getByRole("heading", { level: 1, name: viName }).waitFor();

    await page.getByRole("link", { name: "Back to maps" }).click();
    const card = page.getByRole("listitem").filter({ has: page.getByRole("link", { name: viName, exact: true }) });
    await card.waitFor();
    await card.getByText("Current state").waitFor();
    await card.getByText(viPersona).waitFor();
    const maps = (await api("/api/v1/maps")).body.maps;
    assert.equal(maps.length, 1);
    assert.equal(maps[0].name, viName);
    assert.equal(maps[0].locale, "vi");
  });

  it("duplicates a map", async () => {
    await page.getByRole("button", { name: `Duplicate ${viName}`, exact: true }).click();
    await page.getByRole("link", { name: `${viName} (copy)`, exact: true }).waitFor();
    await page.getByRole("status").getByText(`Duplicated as “${viName} (copy)”.`).waitFor();
    await page.getByText("2 maps").waitFor();
    const names = (await api("/api/v1/maps")).body.maps.map((m) => m.name).sort();
    assert.deepEqual(names, [viName, `${viName} (copy)`].sort());
  });

  it("deletes only after confirming", async () => {
    const copy = `${viName} (copy)`;
    await page.getByRole("button", { name: `Delete ${copy}`, exact: true }).click();
    const confirm = page.getByRole("alertdialog", { name: "Delete this map?" });
    await confirm.waitFor();
    await confirm.getByRole("button", { name: "Cancel" }).click();
    await confirm.waitFor({ state: "detached" });
    assert.equal((await api("/api/v1/maps")).body.maps.length, 2);

    await page.getByRole("button", { name: `Delete ${copy}`, exact: true }).click();
    await confirm.getByRole("button", { name: "Delete map" }).click();
    await page.getByRole("link", { name: copy, exact: true }).waitFor({ state: "detached" });
    await page.getByText("1 map", { exact: true }).waitFor();
    const left = (await api("/api/v1/maps")).body.maps;
    assert.deepEqual(left.map((m) => m.name), [viName]);
  });

  it("switches the language to Greek and remembers it", async () => {
    await page.getByLabel("Language").selectOption("el");
    await page.getByRole("heading", { name: "Χάρτες διαδρομής πελάτη" }).waitFor();
    await page.getByRole("button", { name: "Νέος χάρτης" }).waitFor();
    await page.locator(".card .badge").getByText("Τρέχουσα κατάσταση").waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), "el");
    await page.reload();
    await page.getByRole("heading", { name: "Χάρτες διαδρομής πελάτη" }).waitFor();
    await page.getByRole("button", { name: "Αποσύνδεση" }).waitFor();
  });

  it("notices a clipped label and a control without a name", async () => {
    // The check below must be able to fail: break the page on purpose.
    await page.evaluate(() => {
      const b = document.querySelector(".page-head .button.primary");
      b.style.width = "30px";
      b.style.overflow = "hidden";
      b.style.whiteSpace = "nowrap";
      const s = document.createElement("select");
      document.querySelector(".filters").append(s);
    });
    const found = await problems(page);
    assert.ok(found.some((p) => p.startsWith("clipped: button")), found.join("\n"));
    assert.ok(found.some((p) => p.startsWith("no accessible name: <select")), found.join("\n"));
    await page.reload();
  });

  it("renders cleanly in every language, light and dark, at both sizes", async () => {
    // More content for the gallery: one map of every kind, in each language.
    for (const [template, locale] of [
      ["banking-account-opening", "el"],
      ["day-in-life-shop-owner", "pl"],
      ["saas-trial-to-paid", "en"],
    ]) {
      const created = await page.evaluate(
        async ([template, locale]) =>
          (
            await fetch("/api/v1/maps", {
              method: "POST",
              headers: { "Content-Type": "application/json" },
              body: JSON.stringify({ template, locale, withPersona: true }),
            })
          ).status,
        [template, locale],
      );
      assert.equal(created, 201);
    }
    const blueprint = (await api("/api/v1/maps?kind=service_blueprint")).body.maps[0];
    const found = [];
    for (const lang of ["en", "vi", "el", "pl"]) {
      for (const scheme of ["light", "dark"]) {
        await page.emulateMedia({ colorScheme: scheme });
        for (const size of SIZES) {
          await page.setViewportSize(size);
          await page.evaluate((l) => localStorage.setItem("trek.language", l), lang);
          const tag = `${lang}-${scheme}-${size.width}x${size.height}`;

          await page.goto(trek.url + "/");
          await page.locator(".card").nth(3).waitFor();
          found.push(...(await problems(page)).map((p) => `${tag} gallery: ${p}`));
          await screenshot(`gallery-${tag}`);

          await page.locator(".page-head .button.primary").click();
          await page.locator(".template-option").nth(5).waitFor();
          await page.locator(".preview-stages li").first().waitFor();
          found.push(...(await problems(page)).map((p) => `${tag} new map: ${p}`));
          await screenshot(`new-map-${tag}`);
          await page.keyboard.press("Escape");

          await page.goto(`${trek.url}/maps/${blueprint.id}`);
          await page.locator(".board .lane-head").first().waitFor();
          found.push(...(await problems(page)).map((p) => `${tag} map: ${p}`));
          await screenshot(`map-${tag}`);
        }
      }
    }
    assert.deepEqual(found, []);
  });

  it("ran without anything blocked by the Content-Security-Policy", () => {
    assert.deepEqual(refused, []);
  });
});
