// Shared helpers of the browser tests.
import { expect, type Page, type ConsoleMessage } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";

export const screenshots = path.join(__dirname, "..", "screenshots");

/** Saves what the page shows as `screenshots/<name>.png` (the whole page by default). */
export async function screenshot(page: Page, name: string, fullPage = true) {
  fs.mkdirSync(screenshots, { recursive: true });
  await page.screenshot({ path: path.join(screenshots, `${name}.png`), fullPage });
}

/** Collects console errors and warnings (hydration mismatches are reported there). */
export function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (msg: ConsoleMessage) => {
    if (msg.type() === "error" || msg.type() === "warning") problems.push(`${msg.type()}: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
  return problems;
}

/** Waits until the WebAssembly has hydrated the page. */
export async function hydrated(page: Page) {
  await expect(page.locator("main[data-hydrated='true']")).toHaveCount(1);
}

/** Opens `url` and waits until the WebAssembly has hydrated it. */
export async function visit(page: Page, url: string) {
  await page.goto(url);
  await hydrated(page);
}

/** The KPI values shown, from their data-value attributes. */
export async function shownKpis(page: Page): Promise<Record<string, number | null>> {
  const out: Record<string, number | null> = {};
  for (const el of await page.locator(".kpi").all()) {
    const id = (await el.getAttribute("data-kpi")) ?? "";
    const v = (await el.getAttribute("data-value")) ?? "";
    out[id] = v === "" ? null : Number(v);
  }
  return out;
}

export function expectClose(shown: Record<string, number | null>, expected: Record<string, number | null>) {
  for (const [k, v] of Object.entries(expected)) {
    if (v === null) {
      expect(shown[k], k).toBeNull();
    } else {
      expect(shown[k], k).not.toBeNull();
      expect(Math.abs((shown[k] as number) - v), `${k}: shown ${shown[k]}, database ${v}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(v)));
    }
  }
}

export type Filter = { from: string; to: string; store?: number; sensors?: number[]; h0?: number; h1?: number };

/** Waits until the figures shown are those of this filter (a new view loads in place). */
export async function waitApplied(page: Page, f: Filter) {
  const key = `store=${f.store ?? ""};sensors=${(f.sensors ?? []).join(",")};from=${f.from};to=${f.to};h0=${f.h0 ?? 9};h1=${f.h1 ?? 19}`;
  await expect(page.locator(".kpi-grid")).toHaveAttribute("data-applied", key);
}

/** The dates the form shows. */
export async function appliedFilter(page: Page) {
  return {
    from: await page.locator("#filter-from").inputValue(),
    to: await page.locator("#filter-to").inputValue(),
  };
}

/** `YYYY-MM-DD` plus `days`. */
export function addDays(iso: string, days: number): string {
  const d = new Date(iso + "T12:00:00Z");
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** `YYYY-MM-DD` → `DD/MM/YYYY` (the French date format of the page). */
export function frDate(iso: string): string {
  const [y, m, d] = iso.split("-");
  return `${d}/${m}/${y}`;
}

/** Today in Paris, `YYYY-MM-DD`. */
export function parisToday(): string {
  return new Date().toLocaleDateString("sv-SE", { timeZone: "Europe/Paris" });
}
