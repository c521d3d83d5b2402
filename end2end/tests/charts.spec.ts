// Issue 9: charts an analyst can work with. Every figure read from a tooltip is checked
// against the analytics tables (db.ts reads the SQLite files with Python, not our code).
import { test, expect, type Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import * as fs from "node:fs";
import { query, expectedKpis } from "./db";
import { addDays, appliedFilter, frDate, screenshot, visit, waitApplied, watchConsole } from "./helpers";

/** Moves the pointer over the middle of a chart's plot and returns its tooltip. */
async function hoverPlot(page: Page, chart: string, fx = 0.5, fy = 0.5) {
  const plot = page.locator(`#chart-${chart} .plot`);
  await plot.scrollIntoViewIfNeeded();
  const box = await plot.boundingBox();
  if (!box) throw new Error(`no plot for ${chart}`);
  await page.mouse.move(box.x + box.width * fx, box.y + box.height * fy);
  const tip = page.locator(`#chart-${chart} .tooltip`);
  await expect(tip).toBeVisible();
  await expect(page.locator(`#chart-${chart} .marker`)).toBeVisible();
  return tip;
}

async function tipData(tip: ReturnType<Page["locator"]>) {
  return {
    key: (await tip.getAttribute("data-key")) ?? "",
    x: (await tip.getAttribute("data-x")) ?? "",
    value: Number(await tip.getAttribute("data-value")),
    text: await tip.innerText(),
  };
}

/** A Monday with a complete week of data behind and before it. */
function dataMonday(): string {
  const [[first, last]] = query("SELECT MIN(date), MAX(date) FROM analytics.store_hours");
  let d = addDays(last as string, -7);
  while (new Date(d + "T12:00:00Z").getUTCDay() !== 1) d = addDays(d, -1);
  expect(d > addDays(first as string, 7)).toBe(true);
  return d;
}

test("hovering the visitors and revenue charts shows the exact figures of the point", async ({ page }) => {
  const problems = watchConsole(page);
  await page.setViewportSize({ width: 1440, height: 900 });
  await visit(page, "/dashboard?store=2");
  const f = await appliedFilter(page);
  await waitApplied(page, { ...f, store: 2 });

  // Visitors per sensor per day: the point under the pointer.
  for (const fx of [0.2, 0.5, 0.85]) {
    const tip = await hoverPlot(page, "visitors", fx, 0.45);
    const t = await tipData(tip);
    const [[expected]] = query(
      "SELECT SUM(nb_visiteurs) FROM analytics.visiteurs WHERE store_id = 2 AND sensor_id = ? AND date = ? AND heure >= '09:00:00' AND heure <= '19:00:00'",
      [Number(t.key), t.x],
    );
    expect(t.value, `sensor ${t.key} on ${t.x}`).toBe(expected);
    // The tooltip text shows the same figure in French number format, the day and the sensor.
    expect(t.text).toContain(`Capteur ${t.key}`);
    expect(t.text).toContain(frDate(t.x));
    expect(t.text.replace(/\s/g, "")).toContain(String(expected));
  }
  await screenshot(page, "charts-desktop-tooltip", false);

  // Revenue per hour: the bar under the pointer.
  for (const fx of [0.3, 0.7]) {
    const tip = await hoverPlot(page, "revenue_hour", fx, 0.6);
    const t = await tipData(tip);
    const hour = `${t.x.padStart(2, "0")}:00:00`;
    const [[revenue]] = query(
      "SELECT SUM(chiffre_affaires_centimes) / 100.0 FROM analytics.transactions WHERE store_id = 2 AND date >= ? AND date <= ? AND heure = ?",
      [f.from, f.to, hour],
    );
    expect(Math.abs(t.value - revenue), `hour ${t.x}: ${t.value} vs ${revenue}`).toBeLessThan(0.005);
    expect(t.text).toContain("€");
  }

  // The keyboard walks the points with the same tooltip.
  await page.locator("#chart-visitors .plot").focus();
  await page.keyboard.press("ArrowRight");
  const first = await tipData(page.locator("#chart-visitors .tooltip"));
  await page.keyboard.press("ArrowRight");
  const second = await tipData(page.locator("#chart-visitors .tooltip"));
  expect(second.key).toBe(first.key);
  expect(second.x > first.x).toBe(true);
  expect(problems).toEqual([]);
});

test("a legend click hides a series and a second click brings it back", async ({ page }) => {
  await visit(page, "/dashboard");
  const chart = page.locator("#chart-visitors");
  const lines = chart.locator(".svg polyline");
  const before = await lines.count();
  expect(before).toBeGreaterThan(1);
  const item = chart.locator(".legend-item").first();
  await expect(item).toHaveAttribute("aria-pressed", "true");
  await item.click();
  await expect(item).toHaveAttribute("aria-pressed", "false");
  await expect.poll(() => lines.count()).toBeLessThan(before);
  await item.click();
  await expect(item).toHaveAttribute("aria-pressed", "true");
  await expect.poll(() => lines.count()).toBe(before);
});

test("a click on a ranking bar opens that store, a click on a day its hours, and back returns", async ({ page }) => {
  await visit(page, "/dashboard");
  const f = await appliedFilter(page);
  // The first (best) store of the ranking.
  const tip = await hoverPlot(page, "ranking", 0.4, 0.06);
  const store = (await tip.getAttribute("data-x")) ?? "";
  expect(Number(store)).toBeGreaterThan(0);
  await page.mouse.down();
  await page.mouse.up();
  await expect(page).toHaveURL(new RegExp(`store=${store}(&|$)`));
  await waitApplied(page, { ...f, store: Number(store) });
  // The store is highlighted in the ranking (orange bar) and named in the filters.
  await expect(page.locator("#filter-store")).toHaveValue(store);
  await expect(page.locator("#chart-ranking svg rect[fill='#FF7F0E' i]")).toHaveCount(1);

  // A day of the visitors chart opens its hourly view.
  const day = await hoverPlot(page, "visitors", 0.5, 0.45);
  const date = (await day.getAttribute("data-x")) ?? "";
  await page.mouse.down();
  await page.mouse.up();
  await expect(page).toHaveURL(new RegExp(`from=${date}&to=${date}`));
  await waitApplied(page, { from: date, to: date, store: Number(store) });
  await expect(page.locator("#chart-visitors figcaption")).toContainText("par heure");

  await page.goBack();
  await waitApplied(page, { ...f, store: Number(store) });
  await page.goBack();
  await waitApplied(page, f);
  await expect(page).not.toHaveURL(/store=/);
});

test("comparisons are like for like, closed days say so, partial data is marked", async ({ page }) => {
  const monday = dataMonday();
  const wednesday = addDays(monday, 2);
  await visit(page, `/dashboard?from=${monday}&to=${wednesday}`);
  // Monday–Wednesday against the Monday–Wednesday before.
  const prevFrom = addDays(monday, -7);
  const prevTo = addDays(wednesday, -7);
  await expect(page.locator("#period")).toContainText(`${frDate(prevFrom)} → mer. ${frDate(prevTo)}`);
  const cur = expectedKpis({ from: monday, to: wednesday });
  const prev = expectedKpis({ from: prevFrom, to: prevTo });
  const change = (((cur.visitors as number) - (prev.visitors as number)) / (prev.visitors as number)) * 100;
  const shown = await page.locator(".kpi[data-kpi='visitors'] .kpi-change").innerText();
  const shownNumber = Number(shown.replace(/[^\d,+-]/g, "").replace(",", "."));
  expect(Math.abs(shownNumber - change), `${shown} vs ${change}`).toBeLessThan(0.051);
  expect(Math.abs(change)).toBeLessThan(50); // like for like: no +149 %

  // Same period last year: 364 days back (partial here: no data a year ago).
  await page.locator("#filter-cmp").selectOption("year");
  await expect(page).toHaveURL(/cmp=year/);
  await expect(page.locator("#period")).toContainText(frDate(addDays(monday, -364)));
  await expect(page.locator(".kpi[data-kpi='visitors'] .kpi-change")).toHaveText("n/a — données partielles");

  // A weekend only: closed, not −100 %.
  await visit(page, `/dashboard?from=${addDays(monday, -2)}&to=${addDays(monday, -1)}`);
  for (const el of await page.locator(".kpi .kpi-change").all()) await expect(el).toHaveText("fermé");
  await expect(page.locator(".kpi[data-kpi='visitors'] .kpi-value")).toHaveText("fermé");

  // A comparison period that starts before the first day of data.
  const [[first]] = query("SELECT MIN(date) FROM analytics.store_hours");
  await visit(page, `/dashboard?from=${first}&to=${addDays(first as string, 3)}`);
  await expect(page.locator(".kpi[data-kpi='visitors'] .kpi-change")).toHaveText("n/a — données partielles");
  // And a period that itself starts before the data.
  await visit(page, `/dashboard?from=${addDays(first as string, -3)}&to=${addDays(first as string, 3)}`);
  await expect(page.locator(".kpi[data-kpi='revenue'] .kpi-change")).toHaveText("n/a — données partielles");

  // No comparison at all.
  await visit(page, `/dashboard?from=${monday}&to=${wednesday}&cmp=none`);
  await expect(page.locator("#period")).toContainText("sans comparaison");
  await expect(page.locator("#chart-visitors .legend-prev")).toHaveCount(0);
});

for (const width of [390, 1440]) {
  test(`chart text is 12 px or more at ${width} px`, async ({ page }) => {
    await page.setViewportSize({ width, height: 900 });
    for (const url of ["/dashboard", "/dashboard?store=1"]) {
      await visit(page, url);
      // The charts are redrawn at their container's width once hydrated.
      await expect
        .poll(() =>
          page.evaluate(() =>
            [...document.querySelectorAll(".chart .plot")].every((p) => {
              const w = Number(p.getAttribute("data-width"));
              return Math.abs(w - (p as HTMLElement).clientWidth) <= 1;
            }),
          ),
        )
        .toBe(true);
      const smallest = await page.evaluate(() => {
        let min = Infinity;
        for (const t of document.querySelectorAll(".chart svg text")) {
          if (!(t.textContent ?? "").trim()) continue;
          const svg = t.closest("svg") as SVGSVGElement;
          const scale = svg.getBoundingClientRect().width / svg.width.baseVal.value;
          min = Math.min(min, parseFloat(getComputedStyle(t).fontSize) * scale);
        }
        return min;
      });
      expect(smallest, url).toBeGreaterThanOrEqual(12);
      // Nothing scrolls sideways.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, url).toBeLessThanOrEqual(0);
    }
    if (width === 390) {
      await visit(page, "/dashboard?store=1");
      await hoverPlot(page, "visitors", 0.5, 0.45);
      await screenshot(page, "charts-phone-tooltip", false);
      await screenshot(page, "dashboard-phone-full");
    }
  });
}

test("the heatmap has labelled cells, a colour scale and values on hover", async ({ page }) => {
  await visit(page, "/dashboard");
  const f = await appliedFilter(page);
  await expect(page.locator("#chart-heatmap .heat-scale")).toBeVisible();
  const tip = await hoverPlot(page, "heatmap", 0.5, 0.3);
  const t = await tipData(tip);
  const weekday = Number(t.key); // 0 = Monday
  const hour = `${t.x.padStart(2, "0")}:00:00`;
  const rows = query(
    "SELECT date, SUM(nb_visiteurs) FROM analytics.visiteurs WHERE date >= ? AND date <= ? AND heure = ? GROUP BY date",
    [f.from, f.to, hour],
  );
  const expected = rows
    .filter(([d]) => (new Date(d + "T12:00:00Z").getUTCDay() + 6) % 7 === weekday)
    .reduce((a, [, v]) => a + v, 0);
  expect(t.value).toBe(expected);
});

test("each chart has a name, a description, a data table and an SVG download", async ({ page }) => {
  await visit(page, "/dashboard");
  for (const id of ["visitors", "revenue_hour", "conversion_day", "conversion_hour", "heatmap", "ranking"]) {
    const chart = page.locator(`#chart-${id}`);
    await expect(chart.locator("svg[role='img']")).toHaveAttribute("aria-label", /.+/);
    await expect(chart.locator(".chart-desc")).not.toBeEmpty();
    await chart.locator(".chart-table summary").click();
    await expect(chart.locator(".chart-table tbody tr").first()).toBeVisible();
  }
  const download = page.waitForEvent("download");
  await page.locator("#chart-visitors .download").click();
  const file = await (await download).path();
  const svg = fs.readFileSync(file!, "utf8");
  expect(svg.startsWith("<svg")).toBe(true);
  expect(svg).toContain("polyline");
});

for (const [name, url] of [
  ["all stores", "/dashboard"],
  ["one store with sensors", "/dashboard?store=1"],
  ["English", "/dashboard?lang=en"],
]) {
  test(`axe-core finds no serious or critical violation: ${name}`, async ({ page }) => {
    await visit(page, url);
    await page.locator(".chart .plot").first().waitFor();
    const results = await new AxeBuilder({ page }).analyze();
    const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    expect(bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.length} × ${v.nodes[0]?.target}`)).toEqual([]);
  });
}
