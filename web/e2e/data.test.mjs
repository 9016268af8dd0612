// End-to-end: the data features against a real trek server filled by
// `trek gen` (2,000 customers, checkout failing on Android), tried as a new
// user would: bind a step to an event and preview the customers, switch on
// the live overlay and check its numbers against the metrics API, open
// "why do people leave here?" and check the funnel against the query API,
// see the process map, create and edit a persona, look a customer up by
// email, and create a source.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ADMIN_PASSWORD, openPage, problems, screenshots, startBrowser, startTrek } from "./harness.mjs";

const shots = screenshots("data", [
  "binding-en-light-1280x800",
  "overlay-en-light-1920x1080",
  "overlay-vi-dark-1920x1080",
  "funnel-en-light-1280x800",
  "paths-en-light-1280x800",
  "process-map-el-dark-1280x800",
  "personas-en-light-1280x800",
  "customer-en-light-1280x800",
  "sources-en-light-1280x800",
]);
const screenshot = (name, opts) => shots.take(page, name, opts);

let trek, browser, page;
const refused = [];

// api calls the server from the page, with the session cookie.
async function api(method, pathname, body) {
  return page.evaluate(
    async ([m, p, b]) => {
      const r = await fetch(p, {
        method: m,
        headers: b === undefined ? {} : { "Content-Type": "application/json" },
        body: b === undefined ? undefined : JSON.stringify(b),
      });
      return { status: r.status, body: await r.json() };
    },
    [method, pathname, body],
  );
}

const count = (n) => new Intl.NumberFormat("en").format(n);
const share = (x) => new Intl.NumberFormat("en", { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(x);

before(async () => {
  trek = await startTrek({ gen: ["--customers", "2000", "--effects", "checkout-fails-on=android"] });
  browser = await startBrowser();
  page = await openPage(browser, refused, 15_000);
});

after(async () => {
  await browser?.stop();
  await trek?.stop();
  console.log(`screenshots in ${shots.dir}`);
});

describe("the data features against a real server with data", { concurrency: false }, () => {
  let mapId = "";
  let from = "";
  let to = "";

  it("logs in and creates a map from a template with bindings", async () => {
    await page.goto(trek.url + "/");
    await page.getByLabel("User name").fill("admin");
    await page.getByLabel("Password").fill(ADMIN_PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Journey maps" }).waitFor();
    const created = await api("POST", "/api/v1/maps", { template: "retail-online-purchase", locale: "en", withPersona: true });
    assert.equal(created.status, 201);
    mapId = created.body.id;
    // A range the generated data covers: the month of the first customer's
    // first event and the six weeks after it.
    const c = await api("GET", "/api/v1/customers/cus_1");
    const first = new Date(c.body.firstSeen);
    from = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), 1)).toISOString().slice(0, 10);
    to = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), 1) + 45 * 86400e3).toISOString().slice(0, 10);
  });

  it("binds a step to an event and previews the customers who match", async () => {
    await page.goto(`${trek.url}/maps/${mapId}`);
    const stepName = "Asks other parents";
    await page.getByRole("button", { name: `Actions for step “${stepName}”` }).click();
    await page.getByRole("menuitem", { name: "Bind to data…" }).click();
    const dialog = page.getByRole("dialog", { name: `Bind “${stepName}” to data` });
    await dialog.getByLabel("Search events").fill("chat");
    await dialog.getByRole("checkbox", { name: /Chat Started/ }).check();
    await dialog.getByRole("button", { name: "Preview matching customers" }).click();
    const want = await api("POST", "/api/v1/query/funnel", { steps: [{ events: ["Chat Started"] }] });
    await dialog.getByText(`${count(want.body.steps[0].customers)} customers match`).waitFor();
    await screenshot("binding-en-light-1280x800");
    await dialog.getByRole("button", { name: "Save binding" }).click();
    await dialog.waitFor({ state: "detached" });
    // The editor saves the change as a new version with the binding.
    await page.waitForFunction(
      async (id) => {
        const r = await fetch(`/api/v1/maps/${id}`);
        const m = await r.json();
        return m.stages.flatMap((s) => s.steps).some((s) => s.id === "ask-other-parents" && s.binding?.events?.[0] === "Chat Started");
      },
      mapId,
      { timeout: 15_000, polling: 250 },
    );
  });

  it("shows the live overlay with the same numbers as the metrics API for the same range", async () => {
    await page.setViewportSize({ width: 1920, height: 1080 });
    await page.goto(`${trek.url}/maps/${mapId}`);
    await page.getByRole("switch", { name: "Show live numbers" }).check();
    await page.getByLabel("From", { exact: true }).fill(from);
    await page.getByLabel("To", { exact: true }).fill(to);
    const fromIso = `${from}T00:00:00Z`;
    const toIso = new Date(Date.parse(`${to}T00:00:00Z`) + 86400e3).toISOString().replace(".000Z", "Z");
    const m = (await api("GET", `/api/v1/maps/${mapId}/metrics?from=${encodeURIComponent(fromIso)}&to=${encodeURIComponent(toIso)}`)).body;
    const bound = m.steps.filter((s) => s.bound);
    assert.ok(bound.length >= 10, `${bound.length} bound steps`);
    const start = page.getByRole("region", { name: "Live map summary" }).locator("[data-metric=start]");
    await page.waitForFunction(([sel, want]) => document.querySelector(sel)?.textContent === want, ["[data-metric=start]", count(m.customers)]);
    assert.equal(await start.textContent(), count(m.customers));
    for (const s of bound) {
      const badge = page.locator(`.metric-badge[data-step="${s.stepId}"]`);
      assert.equal(await badge.locator("[data-metric=customers]").textContent(), count(s.customers), `${s.stepId} customers`);
      assert.equal(await badge.locator("[data-metric=conversion]").textContent(), share(s.conversionFromPrevious), `${s.stepId} conversion`);
      assert.equal(await badge.locator("[data-metric=dropOff]").textContent(), `${count(s.dropOff)} (${share(s.dropOffShare)})`, `${s.stepId} drop-off`);
    }
    // The worst drop-offs are marked, in the API's order.
    for (const [i, id] of m.worstDropOffs.entries()) {
      await page.locator(`.metric-badge.worst[data-step="${id}"]`).getByText(`Drop-off #${i + 1}`).waitFor();
    }
    const fitness = page.locator("[data-metric=fitness]");
    assert.equal(await fitness.textContent(), share(m.conformance.meanFitness));
    // The generator's surveys give a measured emotion on the checkout step.
    await page.locator('.metric-badge[data-step="start-checkout"] [data-metric=felt]').waitFor();
    await page.getByRole("img", { name: "Designed and measured emotion per step" }).waitFor();
    await screenshot("overlay-en-light-1920x1080", { fullPage: true });
    assert.deepEqual(await problems(page), []);
  });

  it("opens the funnel from a step, with the numbers of the query API", async () => {
    await page.locator('.metric-badge[data-step="pay"]').getByRole("link", { name: "Why do people leave here?" }).click();
    await page.getByRole("heading", { name: "Analysis" }).waitFor();
    const table = page.getByRole("table", { name: "Funnel steps" });
    await table.waitFor();
    const doc = (await api("GET", `/api/v1/maps/${mapId}`)).body;
    const steps = doc.stages.flatMap((s) => s.steps);
    const matcher = (id) => {
      const b = steps.find((s) => s.id === id).binding;
      return { events: b.events, ...(b.channel ? { channel: b.channel } : {}), ...(b.where ? { where: b.where } : {}) };
    };
    const want = (
      await api("POST", "/api/v1/query/funnel", {
        steps: [matcher("choose-delivery"), matcher("pay")],
        window: "30d",
        order: "ordered",
        from: `${from}T00:00:00Z`,
        to: new Date(Date.parse(`${to}T00:00:00Z`) + 86400e3).toISOString().replace(".000Z", "Z"),
      })
    ).body;
    for (const [i, s] of want.steps.entries()) {
      const row = table.locator(`tr[data-step="${i + 1}"]`);
      assert.equal(await row.locator("[data-metric=customers]").textContent(), count(s.customers));
      assert.equal(await row.locator("[data-metric=conversion]").textContent(), share(s.conversionFromPrevious));
    }
    // A breakdown by operating system is where the planted Android effect shows.
    await page.getByLabel("Breakdown").selectOption("context.os.name");
    await page.getByRole("table", { name: "Funnel by value" }).waitFor();
    await screenshot("funnel-en-light-1280x800");
  });

  it("draws the process map with its nodes", async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole("link", { name: "Process map" }).click();
    const svg = page.getByRole("img", { name: "Process map: directly-follows graph" });
    await svg.waitFor();
    const nodes = await page.locator(".dfg-node").count();
    assert.ok(nodes >= 3, `${nodes} nodes`);
    await page.locator('.dfg-node[data-event="Product Viewed"]').waitFor();
    await screenshot("process-map-en-light-1280x800");
    await page.getByRole("link", { name: "Paths" }).click();
    await page.getByRole("img", { name: "Paths as a Sankey diagram" }).waitFor();
    await page.getByText(/\d customers/).first().waitFor();
    await screenshot("paths-en-light-1280x800");
  });

  it("creates and edits a persona", async () => {
    await page.getByRole("link", { name: "Personas" }).click();
    await page.getByRole("button", { name: "New persona" }).click();
    const dialog = page.getByRole("dialog", { name: "New persona" });
    await dialog.getByLabel("Name").fill("Ελένη Παπαδοπούλου");
    await dialog.getByLabel("Role").fill("Φοιτήτρια");
    await dialog.getByRole("button", { name: "Save persona" }).click();
    await page.getByRole("heading", { name: "Ελένη Παπαδοπούλου" }).waitFor();
    await page.getByRole("button", { name: "Edit Ελένη Παπαδοπούλου" }).click();
    const edit = page.getByRole("dialog", { name: "Edit Ελένη Παπαδοπούλου" });
    await edit.getByLabel("Goals").fill("Να αγοράζει γρήγορα");
    await edit.getByRole("button", { name: "Save persona" }).click();
    await edit.waitFor({ state: "detached" });
    await page.locator(".persona-card").filter({ hasText: "Ελένη Παπαδοπούλου" }).getByText("Να αγοράζει γρήγορα").waitFor();
    const list = (await api("GET", "/api/v1/personas")).body.personas;
    const p = list.find((x) => x.name === "Ελένη Παπαδοπούλου");
    assert.deepEqual(p.goals, ["Να αγοράζει γρήγορα"], JSON.stringify(list));
    assert.equal(p.role, "Φοιτήτρια");
    await screenshot("personas-en-light-1280x800");
  });

  it("finds a customer by email and shows the cross-channel timeline", async () => {
    let email = "";
    let id = "";
    for (let i = 1; i < 40 && !email; i++) {
      const c = (await api("GET", `/api/v1/customers/cus_${i}`)).body;
      const e = c.identifiers?.find((x) => x.kind === "email");
      if (e) [email, id] = [e.value, c.id];
    }
    assert.ok(email, "a generated customer with an email");
    await page.getByRole("link", { name: "Customers" }).click();
    await page.getByLabel("Find a customer").fill(email);
    await page.getByRole("button", { name: "Find" }).click();
    await page.getByRole("heading", { name: id }).waitFor();
    const timeline = page.getByRole("list", { name: "Timeline across channels" });
    const events = (await api("GET", `/api/v1/customers/${id}/events?limit=100`)).body.events;
    await timeline.locator("li").nth(events.length - 1).waitFor();
    assert.equal(await timeline.locator("li.tl-item").count(), events.length);
    await screenshot("customer-en-light-1280x800");
  });

  it("creates a source and shows its write key", async () => {
    await page.getByRole("link", { name: "Sources" }).click();
    await page.getByLabel("Source name").fill("Kiosk in store");
    await page.getByLabel("Channel").selectOption("store");
    await page.getByRole("button", { name: "Create source" }).click();
    const card = page.getByRole("listitem", { name: "Kiosk in store" });
    await card.getByRole("button", { name: "Show the write key of Kiosk in store" }).click();
    const key = await card.getByTestId("write-key").textContent();
    assert.match(key, /^trek_wk_[A-Za-z0-9_-]{32}$/);
    const sources = (await api("GET", "/api/v1/sources")).body.sources;
    assert.equal(sources.find((s) => s.name === "Kiosk in store").writeKey, key);
    await page.getByText(/events received/).waitFor();
    await screenshot("sources-en-light-1280x800");
    assert.deepEqual(refused, []);
  });

  it("renders the data screens cleanly in every language, light and dark, at both sizes", async () => {
    const email = (await api("GET", "/api/v1/customers/cus_2")).body.id;
    const screens = [
      ["map", `/maps/${mapId}`, async () => {
        await page.getByRole("switch").check();
        await page.locator(".metric-badge[data-step]").first().waitFor();
      }],
      ["funnel", `/analysis/funnel?map=${mapId}&step=pay`, () => page.locator("table.data-table").first().waitFor()],
      ["process", "/analysis/process", () => page.locator("svg.dfg .dfg-node").first().waitFor()],
      ["retention", "/analysis/retention", () => page.locator("table.retention").waitFor()],
      ["personas", "/personas", () => page.locator(".persona-card").first().waitFor()],
      ["customer", `/customers/${email}`, () => page.locator(".tl-item").first().waitFor()],
      ["sources", "/sources", () => page.locator(".source-card").first().waitFor()],
    ];
    // Each language once, each theme and size in turn: the combinations
    // that differ in what can go wrong (longer words, dark colours, width).
    const combos = [
      ["vi", "dark", { width: 1920, height: 1080 }],
      ["el", "dark", { width: 1280, height: 800 }],
      ["pl", "light", { width: 1280, height: 800 }],
      ["en", "dark", { width: 1920, height: 1080 }],
    ];
    for (const [lang, theme, size] of combos) {
      await page.setViewportSize(size);
      await page.evaluate(([l, th]) => {
        localStorage.setItem("trek.language", l);
        localStorage.setItem("trek.theme", th);
      }, [lang, theme]);
      for (const [name, href, ready] of screens) {
        await page.goto(trek.url + href);
        await ready();
        const found = await problems(page);
        assert.deepEqual(found, [], `${name} in ${lang}, ${theme}, ${size.width}×${size.height}`);
        if (name === "map" && lang === "vi" && theme === "dark") await screenshot(`overlay-vi-dark-1920x1080`, { fullPage: true });
        if (name === "process" && lang === "el") await screenshot(`process-map-el-dark-1280x800`);
        if (name === "funnel" && lang === "pl") await screenshot(`funnel-pl-light-1280x800`);
      }
    }
    await page.evaluate(() => {
      localStorage.setItem("trek.language", "en");
      localStorage.removeItem("trek.theme");
    });
    assert.deepEqual(refused, []);
  });
});
