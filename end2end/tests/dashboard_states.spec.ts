// Issue 10 (dashboard part): filters that apply as they change, slow and failed requests
// that keep the user's work, validation that keeps input, presets, clean URLs, phone,
// English, and a page that works without JavaScript.
import { test, expect, type Page } from "@playwright/test";
import { expectedKpis } from "./db";
import { addDays, appliedFilter, expectClose, parisToday, shownKpis, visit, waitApplied, watchConsole } from "./helpers";

const DASHBOARD_FN = "**/api/dashboard*";

function searchKeys(page: Page): [string, string][] {
  return [...new URL(page.url()).searchParams.entries()];
}

test("filters apply as they change; a slow request shows a busy cue and stale figures", async ({ page }) => {
  const problems = watchConsole(page);
  await visit(page, "/dashboard");
  const f = await appliedFilter(page);
  let release: () => void = () => {};
  const held = new Promise<void>((r) => (release = r));
  await page.route(DASHBOARD_FN, async (route) => {
    await held;
    await route.continue();
  });
  const before = await shownKpis(page);
  const t0 = Date.now();
  await page.locator("#filter-store").selectOption("3");
  // The cue appears at once (within 100 ms of the change), and the old figures are marked stale.
  await expect(page.locator("#busy")).toBeVisible({ timeout: 1_000 });
  const cueAfter = Date.now() - t0;
  expect(cueAfter).toBeLessThan(500); // includes Playwright's own round trips
  await expect(page.locator(".figures")).toHaveClass(/stale/);
  // No Apply click: the filter applies by itself after a short pause.
  await expect(page).toHaveURL(/store=3/);
  expect(await shownKpis(page)).toEqual(before);
  release();
  await waitApplied(page, { ...f, store: 3 });
  await expect(page.locator("#busy")).toHaveCount(0);
  await expect(page.locator(".figures")).not.toHaveClass(/stale/);
  expectClose(await shownKpis(page), expectedKpis({ ...f, store: 3 }));
  await page.unroute(DASHBOARD_FN);
  expect(problems).toEqual([]);
});

test("a failed request keeps the form and the last figures, and Retry recovers", async ({ page }) => {
  await visit(page, "/dashboard");
  const f = await appliedFilter(page);
  const before = await shownKpis(page);
  await page.route(DASHBOARD_FN, (route) => route.abort("failed"));
  await page.locator("#filter-store").selectOption("4");
  const alert = page.locator("#request-error");
  await expect(alert).toBeVisible();
  await expect(alert).toContainText("Le serveur ne répond pas");
  const text = await alert.innerText();
  for (const raw of ["ServerFnError", "TypeError", "fetch", "deserializ", "server function"]) {
    expect(text).not.toContain(raw);
  }
  // The form and the previous figures are still there.
  await expect(page.locator("#filter-store")).toHaveValue("4");
  expect(await shownKpis(page)).toEqual(before);
  await expect(page.locator(".figures")).toHaveClass(/stale/);
  // A server error (HTTP 500) reads the same way, in words.
  await page.unroute(DASHBOARD_FN);
  await page.route(DASHBOARD_FN, (route) => route.fulfill({ status: 500, body: "boom" }));
  await page.locator("#retry").click();
  await expect(page.locator("#request-error")).toContainText("n'ont pas pu être chargés");
  await page.unroute(DASHBOARD_FN);
  await page.locator("#retry").click();
  await waitApplied(page, { ...f, store: 4 });
  await expect(page.locator("#request-error")).toHaveCount(0);
  expectClose(await shownKpis(page), expectedKpis({ ...f, store: 4 }));
});

test("a start date after the end date keeps the user's values and points at the field", async ({ page }) => {
  await visit(page, "/dashboard?store=2");
  const f = await appliedFilter(page);
  const url = page.url();
  const later = addDays(f.to, 3);
  await page.locator("#filter-from").fill(later);
  await expect(page.locator("#to-error")).toContainText("après la date de fin");
  await expect(page.locator("#filter-to")).toHaveAttribute("aria-invalid", "true");
  await expect(page.locator("#filter-from")).toHaveValue(later);
  await expect(page.locator("#filter-to")).toHaveValue(f.to);
  await expect(page.locator("#filter-store")).toHaveValue("2");
  await page.locator("#apply-filters").click();
  await expect(page.locator("#filter-from")).toHaveValue(later);
  expect(page.url()).toBe(url);
  // Date inputs carry the data's range.
  await expect(page.locator("#filter-from")).toHaveAttribute("min", /\d{4}-\d{2}-\d{2}/);
  await expect(page.locator("#filter-to")).toHaveAttribute("max", /\d{4}-\d{2}-\d{2}/);
});

test("presets set the right dates; sensors have all and none", async ({ page }) => {
  await visit(page, "/dashboard?store=1");
  const today = parisToday();
  const yesterday = addDays(today, -1);
  const dow = (new Date(today + "T12:00:00Z").getUTCDay() + 6) % 7; // 0 = Monday
  const monday = addDays(today, -dow);
  const firstOfMonth = today.slice(0, 8) + "01";
  const lastMonthEnd = addDays(firstOfMonth, -1);
  const cases: [string, string, string][] = [
    ["yesterday", yesterday, yesterday],
    ["last7", addDays(today, -7), yesterday],
    ["week", addDays(monday, -7), addDays(monday, -1)],
    ["mtd", yesterday.slice(0, 8) + "01", yesterday],
    ["lastmonth", lastMonthEnd.slice(0, 8) + "01", lastMonthEnd],
  ];
  for (const [id, from, to] of cases) {
    await page.locator(`#preset-${id}`).click();
    await expect(page.locator("#filter-from"), id).toHaveValue(from);
    await expect(page.locator("#filter-to"), id).toHaveValue(to);
    await waitApplied(page, { from, to, store: 1 });
  }
  // Same period last year, from last month.
  await page.locator("#preset-lastyear").click();
  const lyFrom = `${Number(lastMonthEnd.slice(0, 4)) - 1}${lastMonthEnd.slice(4, 8)}01`;
  await expect(page.locator("#filter-from")).toHaveValue(lyFrom);

  await page.locator("#preset-week").click();
  await page.locator("#sensors-none").click();
  await expect(page.locator("#filter-sensors input:checked")).toHaveCount(0);
  await page.locator("#filter-sensors input").first().check();
  await expect(page).toHaveURL(/sensors=/);
  await expect(page.locator("#filter-sensors input:checked")).toHaveCount(1);
  await page.locator("#sensors-all").click();
  await expect(page).not.toHaveURL(/sensors=/);
});

test("URLs carry no empty keys and no defaults; old URLs still work", async ({ page }) => {
  await visit(page, "/dashboard");
  const f = await appliedFilter(page);
  await page.locator("#filter-h0").selectOption("10");
  await expect(page).toHaveURL(/h0=10/);
  for (const [k, v] of searchKeys(page)) expect(v, k).not.toBe("");
  expect(page.url()).not.toMatch(/[?&]=|&$|&&/);
  expect(searchKeys(page).map(([k]) => k)).toEqual(["h0"]);
  await page.locator("#filter-store").selectOption("5");
  await expect(page).toHaveURL(/store=5/);
  expect(searchKeys(page).map(([k]) => k)).toEqual(["store", "h0"]);
  // An old URL with empty keys still opens.
  await visit(page, `/dashboard?store=&sensors=&from=${f.from}&to=${f.to}&h0=9&h1=19&=`);
  await waitApplied(page, f);
});

test("English applies to the whole dashboard", async ({ page }) => {
  await visit(page, "/dashboard?lang=en");
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  const text = await page.locator("main").innerText();
  for (const fr of ["Magasin", "Visiteurs", "Période", "données", "Capteur", "Chiffre", "Tableau", "Télécharger", "semaine", "Appliquer", "comparée"]) {
    expect(text, fr).not.toContain(fr);
  }
});

test("at 360 px the dashboard does not scroll sideways and the filters fold", async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 780 });
  await visit(page, "/dashboard?store=1");
  await expect(page.locator("#filters-summary")).toBeVisible();
  await expect(page.locator("#filters")).toBeHidden();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await page.locator(".filters-summary").click();
  await expect(page.locator("#filters")).toBeVisible();
  // Touch targets: 24 px or more.
  for (const sel of ["#filter-sensors input", ".preset", ".legend-item", ".chart-table summary"]) {
    const box = await page.locator(sel).first().boundingBox();
    expect(box?.height ?? 0, sel).toBeGreaterThanOrEqual(24);
  }
});

test("without JavaScript the dashboard shows its figures from the server", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/dashboard?store=6");
  await expect(page.locator(".loading")).toHaveCount(0);
  const f = await appliedFilter(page);
  expectClose(await shownKpis(page), expectedKpis({ ...f, store: 6 }));
  await expect(page.locator("#chart-visitors svg")).toHaveCount(1);
  // The form still works: a plain GET.
  await page.locator("#filter-store").selectOption("7");
  await page.locator("#apply-filters").click();
  await expect(page).toHaveURL(/store=7/);
  expectClose(await shownKpis(page), expectedKpis({ ...f, store: 7 }));
  await context.close();
});

test("during the first start's backfill the dashboard says the data is being prepared", async ({ browser }) => {
  // A second server on a fresh data directory: its first start backfills in the
  // background. A 300-store synthetic chain keeps that busy for a while.
  const { spawn } = await import("node:child_process");
  const fs = await import("node:fs");
  const os = await import("node:os");
  const path = await import("node:path");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "datamag360-first-"));
  const port = 3918;
  const server = spawn(process.env.DATAMAG_BIN as string, ["serve", "--port", String(port)], {
    env: {
      ...process.env,
      DATAMAG_DATA_DIR: dir,
      DATAMAG_SYNTHETIC_STORES: "300",
      DATAMAG_BACKFILL_DAYS: "21",
      HOST: "127.0.0.1",
      RUST_LOG: "warn",
    },
    stdio: "ignore",
  });
  try {
    const page = await (await browser.newContext()).newPage();
    await expect
      .poll(async () => (await page.request.get(`http://127.0.0.1:${port}/health`).catch(() => null))?.status() ?? 0, {
        timeout: 30_000,
      })
      .toBe(200);
    await visit(page, `http://127.0.0.1:${port}/dashboard`);
    await expect(page.locator("#preparing")).toContainText("Données en préparation");
    await expect(page.locator("#preparing progress")).toHaveCount(1);
    for (const el of await page.locator(".kpi .kpi-change").all()) {
      expect(await el.innerText()).not.toMatch(/−|-\s*100/);
    }
  } finally {
    // Stop the server and wait for it to exit before removing its data directory.
    const exited = new Promise((resolve) => server.once("exit", resolve));
    server.kill("SIGTERM");
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
});
