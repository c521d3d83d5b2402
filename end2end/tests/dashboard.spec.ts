import { test, expect } from "@playwright/test";
import { expectedKpis, query } from "./db";
import { appliedFilter, expectClose, screenshot, shownKpis, visit, waitApplied, watchConsole } from "./helpers";

test("default view: the last complete week, KPIs equal the analytics tables", async ({ page }) => {
  const problems = watchConsole(page);
  await visit(page, "/dashboard");
  const f = await appliedFilter(page);
  const from = new Date(f.from + "T12:00:00Z");
  expect(from.getUTCDay()).toBe(1); // a Monday
  expect((Date.parse(f.to) - Date.parse(f.from)) / 86_400_000).toBe(6);
  const shown = await shownKpis(page);
  expect(shown.visitors).toBeGreaterThan(0);
  expectClose(shown, expectedKpis(f));
  for (const id of ["visitors", "revenue_hour", "conversion_day", "conversion_hour", "heatmap", "ranking"]) {
    await expect(page.locator(`#chart-${id} svg`)).toHaveCount(1);
  }
  await screenshot(page, "dashboard-desktop");
  expect(problems).toEqual([]);
});

test("each filter changes the KPIs and charts, and they stay equal to the database", async ({ page }) => {
  const problems = watchConsole(page);
  await visit(page, "/dashboard");
  const f = await appliedFilter(page);
  const all = await shownKpis(page);
  const chartBefore = await page.locator("#chart-visitors").innerHTML();

  // Store: Lyon (id 2).
  await page.locator("#filter-store").selectOption("2");
  await page.locator("#apply-filters").click();
  await expect(page).toHaveURL(/store=2/);
  await expect(page.locator("#filter-sensors input")).toHaveCount(10);
  await waitApplied(page, { ...f, store: 2 });
  const lyon = await shownKpis(page);
  expect(lyon.visitors).not.toBe(all.visitors);
  expectClose(lyon, expectedKpis({ ...f, store: 2 }));
  expect(await page.locator("#chart-visitors").innerHTML()).not.toBe(chartBefore);

  // Sensors: keep 1 and 2 only. Visitors drop; conversion stays store-level.
  for (const box of await page.locator("#filter-sensors input").all()) {
    const v = await box.getAttribute("value");
    if (v !== "1" && v !== "2") await box.uncheck();
  }
  await page.locator("#apply-filters").click();
  await expect(page).toHaveURL(/sensors=1&sensors=2/);
  await waitApplied(page, { ...f, store: 2, sensors: [1, 2] });
  const two = await shownKpis(page);
  expect(two.visitors as number).toBeLessThan(lyon.visitors as number);
  expect(two.conversion).toBe(lyon.conversion);
  expectClose(two, expectedKpis({ ...f, store: 2, sensors: [1, 2] }));

  // Hours: 12h to 14h.
  await page.locator("#filter-h0").selectOption("12");
  await page.locator("#filter-h1").selectOption("14");
  await page.locator("#apply-filters").click();
  await expect(page).toHaveURL(/h0=12/);
  await waitApplied(page, { ...f, store: 2, sensors: [1, 2], h0: 12, h1: 14 });
  const noon = await shownKpis(page);
  expect(noon.visitors as number).toBeLessThan(two.visitors as number);
  expectClose(noon, expectedKpis({ ...f, store: 2, sensors: [1, 2], h0: 12, h1: 14 }));

  // Dates: a single day.
  await page.locator("#filter-to").fill(f.from);
  await page.locator("#apply-filters").click();
  await expect(page).toHaveURL(new RegExp(`to=${f.from}`));
  await waitApplied(page, { from: f.from, to: f.from, store: 2, sensors: [1, 2], h0: 12, h1: 14 });
  const oneDay = await shownKpis(page);
  expect(oneDay.visitors as number).toBeLessThan(noon.visitors as number);
  expectClose(oneDay, expectedKpis({ from: f.from, to: f.from, store: 2, sensors: [1, 2], h0: 12, h1: 14 }));

  // The back button returns to the previous view.
  await page.goBack();
  await expect(page).toHaveURL(/h0=12/);
  await waitApplied(page, { ...f, store: 2, sensors: [1, 2], h0: 12, h1: 14 });
  await expect(page.locator("#filter-to")).toHaveValue(f.to);
  expectClose(await shownKpis(page), expectedKpis({ ...f, store: 2, sensors: [1, 2], h0: 12, h1: 14 }));
  expect(problems).toEqual([]);
});

test("a shared URL reopens the same view", async ({ browser }) => {
  const [{ 0: from }] = query("SELECT MIN(date) FROM analytics.store_hours") as any;
  const [{ 0: to }] = query("SELECT MAX(date) FROM analytics.store_hours") as any;
  const url = `/dashboard?store=7&sensors=3&sensors=5&from=${from}&to=${to}&h0=10&h1=17`;
  const page = await (await browser.newContext()).newPage();
  const problems = watchConsole(page);
  await visit(page, url);
  await expect(page.locator("#filter-store")).toHaveValue("7");
  await expect(page.locator("#filter-from")).toHaveValue(from);
  await expect(page.locator("#filter-h1")).toHaveValue("17");
  await expect(page.locator("#filter-sensors input:checked")).toHaveCount(2);
  await waitApplied(page, { from, to, store: 7, sensors: [3, 5], h0: 10, h1: 17 });
  expectClose(await shownKpis(page), expectedKpis({ from, to, store: 7, sensors: [3, 5], h0: 10, h1: 17 }));
  expect(problems).toEqual([]);
});

test("a period without data says so instead of drawing blank charts", async ({ page }) => {
  await visit(page, "/dashboard?from=2022-01-03&to=2022-01-07");
  await expect(page.locator("#chart-visitors .empty")).toContainText("Aucune donnée");
  await expect(page.locator(".kpi[data-kpi='visitors']")).toHaveAttribute("data-value", "0");
  await page.goto("/dashboard?from=2025-02-10&to=2025-02-01");
  await expect(page.locator("#to-error")).toContainText("après la date de fin");
  // The form keeps what the URL asked for.
  await expect(page.locator("#filter-from")).toHaveValue("2025-02-10");
  await expect(page.locator("#filter-to")).toHaveValue("2025-02-01");
});

test("the pipeline page lists runs, completeness and quality", async ({ page }) => {
  const problems = watchConsole(page);
  await visit(page, "/pipeline");
  await expect(page.locator("#ledger-summary")).toContainText("collect");
  await expect(page.locator("#recent-runs tbody tr").first()).toBeVisible();
  expect(await page.locator("#recent-runs tbody tr").count()).toBeGreaterThan(5);
  const [[done]] = query("SELECT COUNT(*) FROM job_ledger WHERE job = 'transform' AND status = 'done'");
  await expect(page.locator("#ledger-summary")).toContainText(String(done));
  await expect(page.locator("#quality tbody tr").first()).toBeVisible();
  await page.locator("#refresh").click();
  await expect(page.locator("#recent-runs tbody tr").first()).toBeVisible();
  await screenshot(page, "pipeline-desktop");
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, "pipeline-phone");
  expect(problems).toEqual([]);
});

test("the dashboard works on a phone and in English", async ({ page }) => {
  const problems = watchConsole(page);
  await page.setViewportSize({ width: 390, height: 844 });
  await visit(page, "/dashboard?lang=en");
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
  await expect(page.locator(".kpi[data-kpi='conversion'] .kpi-label")).toHaveText("Conversion rate");
  // On a phone the filters fold into a one-line summary.
  await expect(page.locator("#filter-store")).toBeHidden();
  await page.locator(".filters-summary").click();
  await page.locator("#filter-store").selectOption("1");
  await page.locator("#apply-filters").click();
  await expect(page).toHaveURL(/lang=en/);
  await expect(page).toHaveURL(/store=1/);
  await screenshot(page, "dashboard-phone");
  expect(problems).toEqual([]);
});
