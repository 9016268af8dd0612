// The end-to-end harness: a real trek server on a free port with a fresh
// data directory, and Debian's Chromium driven by playwright-core with a
// fresh profile. Both are torn down when the tests end.
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, "..", "..");
export const ADMIN_PASSWORD = "e2e-admin-password";
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

// trekBinary is TREK_BIN when given (make builds it first), else a fresh
// build of the working tree.
export function trekBinary(dir) {
  if (process.env.TREK_BIN) return path.resolve(repoRoot, process.env.TREK_BIN);
  const out = path.join(dir, "trek");
  execFileSync("go", ["build", "-o", out, "./cmd/trek"], { cwd: repoRoot, stdio: "inherit" });
  return out;
}

// startTrek starts a server; with gen, the data directory is first filled
// by `trek gen --data DIR` with those arguments.
export async function startTrek({ gen } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), "trek-e2e-"));
  const bin = trekBinary(dir);
  if (gen) execFileSync(bin, ["gen", "--data", path.join(dir, "data"), "--quiet", ...gen], { stdio: "inherit" });
  const proc = spawn(bin, ["serve", "--data", path.join(dir, "data"), "--addr", "127.0.0.1:0", "--secure-cookies=false", "--log-level", "warn"], {
    env: { ...process.env, TREK_ADMIN_PASSWORD: ADMIN_PASSWORD },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  proc.stderr.on("data", (b) => (stderr += b));
  const url = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`trek did not start in 30s:\n${out}\n${stderr}`)), 30_000);
    proc.stdout.on("data", (b) => {
      out += b;
      const m = /trek listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`trek exited with ${code} before listening:\n${out}\n${stderr}`));
    });
  });
  return {
    url,
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (proc.exitCode === null) proc.kill("SIGKILL");
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  const profile = mkdtempSync(path.join(tmpdir(), "trek-e2e-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 800 },
    locale: "en-GB",
    timezoneId: "UTC",
  });
  return {
    context,
    async stop() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

// screenshots decides where a test file's screenshots go: with
// SCREENSHOTS_DIR set (make web-screenshots) the ones named in docShots go
// there and the rest are skipped; otherwise every one goes to a temporary
// directory, so a test run leaves the tree unchanged. take saves one,
// without a focus ring or caret in the picture.
export function screenshots(prefix, docShots) {
  const forDocs = Boolean(process.env.SCREENSHOTS_DIR);
  const dir = forDocs ? path.resolve(repoRoot, process.env.SCREENSHOTS_DIR) : mkdtempSync(path.join(tmpdir(), `trek-e2e-${prefix}-shots-`));
  mkdirSync(dir, { recursive: true });
  const keep = new Set(docShots);
  return {
    dir,
    async take(page, name, { fullPage = false } = {}) {
      if (forDocs && !keep.has(name)) return;
      await page.evaluate(() => document.activeElement instanceof HTMLElement && document.activeElement.blur());
      await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage });
    },
  };
}

// openPage gives the browser's page, failing the test on any uncaught
// page error and collecting Content-Security-Policy refusals in refused.
export async function openPage(browser, refused, timeout = 10_000) {
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.setDefaultTimeout(timeout);
  page.on("pageerror", (e) => assert.fail(`the page threw: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy|Refused to/i.test(m.text())) refused.push(m.text());
  });
  return page;
}

// problems lists what a person would notice on the page as it is now:
// controls without an accessible name, text cut off by its box, and a page
// wider than the window.
export function problems(page) {
  return page.evaluate(() => {
    const out = [];
    const visible = (el) => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== "hidden";
    };
    const describe = (el) => `${el.tagName.toLowerCase()} "${(el.textContent || el.getAttribute("aria-label") || "").trim().slice(0, 60)}"`;
    for (const el of document.querySelectorAll("button, a[href], input, select, textarea, [role=button]")) {
      if (!visible(el)) continue;
      let name = el.getAttribute("aria-label") || "";
      if (!name && el.getAttribute("aria-labelledby")) {
        name = el
          .getAttribute("aria-labelledby")
          .split(/\s+/)
          .map((id) => document.getElementById(id)?.textContent ?? "")
          .join(" ");
      }
      if (!name && el.labels) name = Array.from(el.labels, (l) => l.textContent).join(" ");
      if (!name && !["INPUT", "SELECT", "TEXTAREA"].includes(el.tagName)) name = el.textContent || "";
      if (!name.trim()) out.push(`no accessible name: ${el.outerHTML.slice(0, 120)}`);
    }
    for (const el of document.querySelectorAll("button, label, legend, th, h1, h2, h3, .badge, dt, dd, a, p, span, strong")) {
      if (!visible(el)) continue;
      const st = getComputedStyle(el);
      const clipsX = st.overflowX !== "visible" && el.scrollWidth > el.clientWidth + 1;
      const clipsY = st.overflowY !== "visible" && el.scrollHeight > el.clientHeight + 1 && !el.classList.contains("card-desc");
      if (clipsX || clipsY) out.push(`clipped: ${describe(el)}`);
    }
    // Text wider than the button that holds it shows as overflowing ink.
    for (const el of document.querySelectorAll("button")) {
      if (visible(el) && el.scrollWidth > el.clientWidth + 1) out.push(`overflowing: ${describe(el)}`);
    }
    if (document.documentElement.scrollWidth > window.innerWidth + 1) {
      out.push(`page is wider than the window: ${document.documentElement.scrollWidth} > ${window.innerWidth}`);
    }
    return out;
  });
}
