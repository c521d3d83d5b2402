import { test, expect, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { query } from "./db";
import { screenshot, visit, watchConsole } from "./helpers";

// The pipeline page: the hour × day grid, missing partitions counted from the pipeline's
// first day with "… et N autres", failures grouped by error, quality columns explained.

/** Runs one statement per parameter row on the server's SQLite warehouse, committed. */
function execute(sql: string, rows: (string | number | null)[][]) {
  const dir = process.env.E2E_DATA_DIR;
  if (!dir) throw new Error("E2E_DATA_DIR is not set");
  const script = `
import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1] + "/warehouse.db", timeout=30)
c.executemany(sys.argv[2], json.loads(sys.argv[3]))
c.commit()
`;
  execFileSync(process.env.DATAMAG_PYTHON || "python3", ["-c", script, path.resolve(dir), sql, JSON.stringify(rows)]);
}

async function open(page: Page, url: string) {
  await visit(page, url);
  await expect(page.locator("#grid table")).toBeVisible();
}

async function missingTotal(page: Page): Promise<number> {
  return Number(await page.locator("#completeness").getAttribute("data-missing-total"));
}

test("the grid shows 14 days of hours and transforms, and the page fits a phone", async ({ page }) => {
  const problems = watchConsole(page);
  await page.setViewportSize({ width: 1440, height: 900 });
  await open(page, "/pipeline");
  const days = await page.locator("#grid thead th[data-day]").evaluateAll((ths) => ths.map((t) => t.getAttribute("data-day")!));
  expect(days).toHaveLength(14);
  for (let i = 1; i < days.length; i++) {
    expect(Date.parse(days[i]) - Date.parse(days[i - 1])).toBe(86_400_000);
  }
  // 24 hours and the transform row, one cell per day each.
  await expect(page.locator("#grid tbody tr")).toHaveCount(25);
  for (const row of await page.locator("#grid tbody tr").all()) {
    await expect(row.locator("td.cell")).toHaveCount(14);
  }
  // The backfilled days are done, hour by hour and transform by transform (today's column
  // is left out: the scheduler may collect an hour meanwhile).
  const [[doneHours]] = query(
    "SELECT COUNT(*) FROM job_ledger c JOIN job_ledger i ON i.job = 'ingest' AND i.partition = c.partition AND i.status = 'done' WHERE c.job = 'collect' AND c.status = 'done' AND c.partition >= ? AND c.partition <= ?",
    [`${days[0]}T00`, `${days[12]}T23`],
  );
  expect(doneHours).toBeGreaterThan(24 * 10);
  await expect(page.locator("#grid tbody tr:not(.transform-row) td.cell.done:not(:nth-child(15))")).toHaveCount(doneHours);
  const [[doneDays]] = query(
    "SELECT COUNT(*) FROM job_ledger WHERE job = 'transform' AND status = 'done' AND partition >= ? AND partition <= ?",
    [days[0], days[13]],
  );
  await expect(page.locator("#grid .transform-row td.cell.done")).toHaveCount(doneDays);
  // Statuses and jobs in French; closed hours apart from the rejections, and explained.
  await expect(page.locator("#ledger-summary")).toContainText("collecte");
  await expect(page.locator("#ledger-summary")).toContainText("terminée");
  await expect(page.locator("#quality thead")).toContainText("Heures de fermeture (écartées, normal)");
  await expect(page.locator("#quality .quality-legend")).toContainText("ce n'est pas une anomalie");
  // A weekday well inside the window (today's and yesterday's transforms may not be due).
  const [[day, closed]] = query(
    "SELECT date, SUM(count) FROM analytics.quality WHERE rule IN ('closed_hour', 'closed_day') AND date >= ? AND date <= ? GROUP BY date ORDER BY date LIMIT 1",
    [days[0], days[11]],
  );
  const grouped = String(closed).replace(/\B(?=(\d{3})+(?!\d))/g, "\u202f");
  await expect(page.locator(`#quality tbody tr[data-date='${day}'] td.expected`)).toHaveText(grouped);
  await screenshot(page, "pipeline-1440");

  for (const width of [390, 360]) {
    await page.setViewportSize({ width, height: 800 });
    await page.waitForTimeout(100);
    const scroll = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(scroll, `page width at ${width} px`).toBeLessThanOrEqual(width);
  }
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, "pipeline-390");
  expect(problems).toEqual([]);
});

test("missing partitions count from the first day, list 40 and say how many more; failures are grouped", async ({ page }) => {
  const problems = watchConsole(page);
  await open(page, "/pipeline");
  const days = await page.locator("#grid thead th[data-day]").evaluateAll((ths) => ths.map((t) => t.getAttribute("data-day")!));
  const [d1, d2, d3] = [days[1], days[2], days[3]];

  // What we change, to put it back afterwards.
  const setting = query("SELECT value FROM pipeline_settings WHERE key = 'pipeline_start'") as [string][];
  const saved = query(
    "SELECT job, partition, status, attempts, rows_in, rows_out, error, next_attempt_at FROM job_ledger WHERE job = 'collect' AND partition >= ? AND partition <= ?",
    [`${d1}T00`, `${d3}T23`],
  ) as (string | number | null)[][];
  expect(saved).toHaveLength(72);
  const error = "simulated outage: the source did not answer (e2e test)";
  try {
    // The pipeline starts on d2: d1 is before its first day.
    execute("INSERT INTO pipeline_settings (key, value) VALUES ('pipeline_start', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [[d2]]);
    await open(page, "/pipeline");
    const baseline = await missingTotal(page);

    // Three days of collects fail for good (no retry left), all with the same error.
    execute(
      "UPDATE job_ledger SET status = 'failed', attempts = 5, error = ?, next_attempt_at = NULL, rows_in = NULL, rows_out = NULL WHERE job = 'collect' AND partition >= ? AND partition <= ?",
      [[error, `${d1}T00`, `${d3}T23`]],
    );
    await open(page, "/pipeline");
    const total = await missingTotal(page);
    expect(total, "d2 and d3 count (48 hours), d1 does not").toBe(baseline + 48);
    await expect(page.locator("#completeness-summary")).toContainText(`${total} manquantes ou en échec`);
    await expect(page.locator("#completeness .missing li:not(.more)")).toHaveCount(40);
    await expect(page.locator("#missing-more")).toHaveText(`… et ${total - 40} autres`);
    await expect(page.locator("#completeness .missing li").first()).toContainText(`collecte ${d2}T00`);
    // d1 is shown as it is (failed), just not counted.
    const col = days.indexOf(d1) + 2; // nth-child: the hour header is the first cell
    await expect(page.locator(`#grid tbody tr:not(.transform-row) td:nth-child(${col}).failed`)).toHaveCount(24);

    // One group for the 72 failures, the error written once.
    const group = page.locator(".failure-group", { hasText: error });
    await expect(group).toHaveCount(1);
    await expect(group.locator(".failure-count")).toHaveText("72 partitions");
    await expect(group).toContainText(`${d1}T00 → ${d3}T23`);
    await expect(group).toContainText("plus de nouvel essai automatique");
    await expect(page.getByText(error, { exact: true })).toHaveCount(1);

    // The same in English.
    await open(page, "/pipeline?lang=en");
    await expect(page.locator("#missing-more")).toHaveText(`… and ${total - 40} more`);
    await expect(page.locator("#completeness-summary")).toContainText(`${total} missing or failed`);
    await expect(page.locator(".failure-group", { hasText: error }).locator(".failure-count")).toHaveText("72 partitions");
    await expect(page.locator("#ledger-summary")).toContainText("failed");
    await page.setViewportSize({ width: 1440, height: 900 });
    await screenshot(page, "pipeline-failures-en-1440");
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, "pipeline-failures-en-390");
  } finally {
    execute(
      "UPDATE job_ledger SET status = ?, attempts = ?, rows_in = ?, rows_out = ?, error = ?, next_attempt_at = ? WHERE job = ? AND partition = ?",
      saved.map(([job, partition, status, attempts, rowsIn, rowsOut, err, next]) => [status, attempts, rowsIn, rowsOut, err, next, job, partition]),
    );
    if (setting.length) {
      execute("UPDATE pipeline_settings SET value = ? WHERE key = 'pipeline_start'", [[setting[0][0]]]);
    } else {
      execute("DELETE FROM pipeline_settings WHERE key = 'pipeline_start'", [[]]);
    }
  }
  expect(problems).toEqual([]);
});
