import { test, expect, type Page } from "@playwright/test";
import * as fs from "node:fs";
import { expectedKpis, query } from "./db";
import { visit } from "./helpers";

// The export (CSV and the Excel flavour): one row per store and hour, whose columns sum
// to the dashboard's KPIs for the same filter.

type Filter = { from: string; to: string; store?: number; sensors?: number[]; h0?: number; h1?: number };

const COLUMNS = [
  "date",
  "heure",
  "store_id",
  "city_store",
  "nb_visiteurs",
  "nb_visiteurs_magasin",
  "nb_transactions",
  "chiffre_affaires",
];

function dashboardUrl(f: Partial<Filter>): string {
  const p = new URLSearchParams();
  if (f.store) p.set("store", String(f.store));
  for (const s of f.sensors ?? []) p.append("sensors", String(s));
  if (f.from) p.set("from", f.from);
  if (f.to) p.set("to", f.to);
  if (f.h0 !== undefined) p.set("h0", String(f.h0));
  if (f.h1 !== undefined) p.set("h1", String(f.h1));
  const qs = p.toString();
  return qs ? `/dashboard?${qs}` : "/dashboard";
}

/** The KPIs the dashboard shows (server-rendered values in data attributes). */
async function shownKpis(page: Page): Promise<Record<string, number | null>> {
  const out: Record<string, number | null> = {};
  for (const el of await page.locator(".kpi[data-kpi]").all()) {
    const v = (await el.getAttribute("data-value")) ?? "";
    out[(await el.getAttribute("data-kpi")) ?? ""] = v === "" ? null : Number(v);
  }
  return out;
}

type Parsed = { header: string[]; rows: string[][]; bom: boolean; crlf: boolean };

function parse(bytes: Buffer, sep: string): Parsed {
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  const text = bytes.toString("utf8").replace(/^\uFEFF/, "");
  const crlf = text.includes("\r\n");
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  return { header: lines[0].split(sep), rows: lines.slice(1).map((l) => l.split(sep)), bom, crlf };
}

function sums(p: Parsed, decimalComma: boolean) {
  const num = (s: string) => Number(decimalComma ? s.replace(",", ".") : s);
  const col = (name: string) => p.header.indexOf(name);
  let visitors = 0, storeVisitors = 0, transactions = 0, revenue = 0;
  for (const r of p.rows) {
    visitors += num(r[col("nb_visiteurs")]);
    storeVisitors += num(r[col("nb_visiteurs_magasin")]);
    transactions += num(r[col("nb_transactions")]);
    revenue += num(r[col("chiffre_affaires")]);
  }
  return { visitors, storeVisitors, transactions, revenue };
}

function close(a: number, b: number, tolerance: number, what: string) {
  expect(Math.abs(a - b), `${what}: export ${a}, expected ${b}`).toBeLessThanOrEqual(tolerance);
}

/** Every day with data (read when the test runs: the warehouse exists by then). */
function allData(): Partial<Filter> {
  const [[from, to]] = query("SELECT MIN(date), MAX(date) FROM analytics.store_hours") as [string, string][];
  return { from, to };
}

const cases: { name: string; filter: () => Partial<Filter> }[] = [
  { name: "default view (all stores, last complete week)", filter: () => ({}) },
  { name: "one store, two sensors, 10h-16h", filter: () => ({ store: 3, sensors: [2, 5], h0: 10, h1: 16 }) },
  { name: "all stores, every day with data (several streamed chunks)", filter: allData },
];

for (const c of cases) {
  test(`export sums equal the KPIs: ${c.name}`, async ({ page, request }) => {
    const asked = c.filter();
    await visit(page, dashboardUrl(asked));
    const f: Filter = {
      ...asked,
      from: await page.locator("#filter-from").inputValue(),
      to: await page.locator("#filter-to").inputValue(),
    };
    await expect(page.locator(".kpi[data-kpi='visitors']")).toHaveAttribute("data-value", /\d/);
    const shown = await shownKpis(page);
    const db = expectedKpis(f);
    expect(db.visitors).toBeGreaterThan(0);

    // The dashboard's own export link, then its Excel flavour.
    const href = await page.locator("a[href^='/export.csv']").first().getAttribute("href");
    expect(href).toBeTruthy();
    const csv = await request.get(href!);
    expect(csv.status()).toBe(200);
    expect(csv.headers()["content-type"]).toContain("text/csv");
    expect(csv.headers()["content-disposition"]).toContain(`datamag360_${f.from}_${f.to}.csv`);
    const plain = parse(await csv.body(), ",");
    expect(plain.bom).toBe(false);
    expect(plain.header).toEqual(COLUMNS);
    expect(plain.rows.length).toBeGreaterThan(0);

    const xl = await request.get(`${href}&format=excel`);
    expect(xl.status()).toBe(200);
    expect(xl.headers()["content-disposition"]).toContain("_excel.csv");
    const excel = parse(await xl.body(), ";");
    expect(excel.bom, "UTF-8 byte-order mark for Excel").toBe(true);
    expect(excel.crlf).toBe(true);
    expect(excel.header).toEqual(COLUMNS);
    expect(excel.rows.length).toBe(plain.rows.length);
    expect(excel.rows.every((r) => r.length === COLUMNS.length)).toBe(true);
    expect(excel.rows.some((r) => /^\d+,\d{2}$/.test(r[7])), "decimal comma").toBe(true);

    // One row per store and hour: as many as the store-hours of the filter.
    const h0 = f.h0 ?? 9, h1 = f.h1 ?? 19;
    const [[storeHours]] = query(
      "SELECT COUNT(*) FROM analytics.store_hours WHERE date >= ? AND date <= ? AND hour >= ? AND hour <= ? AND (? = 0 OR store_id = ?)",
      [f.from, f.to, h0, h1, f.store ?? 0, f.store ?? 0],
    );
    expect(plain.rows.length).toBe(storeHours);
    if (f.store) expect(plain.rows.every((r) => r[2] === String(f.store))).toBe(true);
    expect(plain.rows.every((r) => Number(r[1].slice(0, 2)) >= h0 && Number(r[1].slice(0, 2)) <= h1)).toBe(true);

    for (const [p, comma] of [[plain, false], [excel, true]] as [Parsed, boolean][]) {
      const s = sums(p, comma);
      // The KPIs shown on the page…
      close(s.visitors, shown.visitors as number, 0, "visitors (page)");
      close(s.transactions, shown.transactions as number, 0, "transactions (page)");
      close(s.revenue, shown.revenue as number, 0.005 * p.rows.length + 0.01, "revenue (page)");
      // …and the analytics rows, computed independently.
      close(s.visitors, db.visitors, 0, "visitors (database)");
      close(s.transactions, db.transactions, 0, "transactions (database)");
      close(s.revenue, db.revenue, 0.005 * p.rows.length + 0.01, "revenue (database)");
      close(s.transactions / s.storeVisitors, db.conversion as number, 1e-9, "conversion (database)");
    }
  });
}

test("the export refuses bad parameters with a clear message", async ({ request }) => {
  const bad = await request.get("/export.csv?format=xlsx");
  expect(bad.status()).toBe(422);
  expect((await bad.json()).detail).toContain("format");
  const store = await request.get("/export.csv?store=abc");
  expect(store.status()).toBe(422);
  expect((await store.json()).code).toBe("invalid_parameter");
  const order = await request.get("/export.csv?from=2025-02-10&to=2025-02-01");
  expect(order.status()).toBe(422);
  expect((await order.json()).code).toBe("invalid_filter");
});

test("the Excel flavour downloads from the browser with its own name", async ({ page }) => {
  await visit(page, `/dashboard?store=2`);
  const href = await page.locator("a[href^='/export.csv']").first().getAttribute("href");
  const download = page.waitForEvent("download");
  // A link click, as a person would (the page may not offer this flavour itself).
  await page.evaluate((url) => {
    const a = document.createElement("a");
    a.href = url;
    a.download = "";
    document.body.appendChild(a);
    a.click();
  }, `${href}&format=excel`);
  const file = await (await download).path();
  const bytes = fs.readFileSync(file!);
  expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  expect(bytes.toString("utf8")).toContain("date;heure;store_id;city_store");
});
