// Issue 27: what the dashboard says must be true. "Available" means complete (a closed
// weekend after the last open day is not missing data; a failed partition is named),
// days before the pipeline's first day are "not collected" with the command that loads
// them, "preparing" shows only while a backfill runs (live, gone when it ends), and the
// home page's money is in the page's language.
import { test, expect, type Page } from "@playwright/test";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expectedKpis, query } from "./db";
import { expectClose, screenshot, shownKpis, visit, waitApplied, watchConsole } from "./helpers";

const bin = process.env.DATAMAG_BIN as string;
const port = 3919;
const base = `http://127.0.0.1:${port}`;
const token = "e2e-admin-token-issue-27-0123456789";
// The reproduction: a data directory backfilled 2024-10-07 → Sunday 2024-10-20,
// served without a scheduler (nothing runs unless someone starts it).
const FIRST = "2024-10-07";
const SUNDAY = "2024-10-20";
const WEEK = { from: "2024-10-14", to: SUNDAY };
const WEDNESDAY_HOUR = "2024-10-16T11";

let dir = "";
let server: ChildProcess | null = null;

/** Runs `fn` with the test database helpers reading this suite's data directory. */
function inDir<T>(fn: () => T): T {
  const saved = process.env.E2E_DATA_DIR;
  process.env.E2E_DATA_DIR = dir;
  try {
    return fn();
  } finally {
    process.env.E2E_DATA_DIR = saved;
  }
}

/** Runs one statement on this suite's SQLite ledger, committed. */
function execute(sql: string, params: (string | number | null)[]) {
  const script = `
import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1] + "/warehouse.db", timeout=30)
c.execute(sys.argv[2], json.loads(sys.argv[3]))
c.commit()
`;
  execFileSync(process.env.DATAMAG_PYTHON || "python3", ["-c", script, dir, sql, JSON.stringify(params)]);
}

async function shot(page: Page, name: string) {
  for (const width of [1440, 390]) {
    await page.setViewportSize({ width, height: width > 400 ? 900 : 844 });
    // The phone's first screen (where the notes are); the desktop's whole page.
    await screenshot(page, `${name}-${width}`, width > 400);
  }
  await page.setViewportSize({ width: 1280, height: 720 });
}

test.describe.configure({ mode: "serial" });

test.beforeAll(async () => {
  test.setTimeout(240_000);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "datamag360-truth-"));
  const env = { ...process.env, DATAMAG_DATA_DIR: dir, RUST_LOG: "warn" };
  execFileSync(bin, ["backfill", "--from", FIRST, "--to", SUNDAY], { env, stdio: "ignore" });
  server = spawn(bin, ["serve", "--port", String(port), "--no-scheduler"], {
    env: { ...env, HOST: "127.0.0.1", DATAMAG_ADMIN_TOKEN: token },
    stdio: "ignore",
  });
  for (let i = 0; i < 120; i++) {
    const ok = await fetch(`${base}/health`).then((r) => r.ok).catch(() => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error("the second server did not start");
});

test.afterAll(async () => {
  if (server) {
    const exited = new Promise((resolve) => server?.once("exit", resolve));
    server.kill("SIGTERM");
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
});

test("a weekend after the last open day is complete; a failed Wednesday is named", async ({ page }) => {
  const problems = watchConsole(page);
  const url = `${base}/dashboard?from=${WEEK.from}&to=${WEEK.to}`;
  for (const [lang, suffix] of [["fr", ""], ["en", "&lang=en"]]) {
    await visit(page, url + suffix);
    await waitApplied(page, WEEK);
    await expect(page.locator("#incomplete"), lang).toHaveCount(0);
    await expect(page.locator("#preparing"), lang).toHaveCount(0);
    await expect(page.locator("#data-range"), lang).toHaveText(
      lang === "fr" ? "Données complètes du 07/10/2024 au 20/10/2024" : "Complete data from 2024-10-07 to 2024-10-20",
    );
    expectClose(await shownKpis(page), inDir(() => expectedKpis(WEEK)));
  }
  // The other view (to Friday) is the same: complete.
  await visit(page, `${base}/dashboard?from=${WEEK.from}&to=2024-10-18`);
  await expect(page.locator("#incomplete")).toHaveCount(0);

  // One collect of Wednesday fails for good.
  const [[status, attempts]] = inDir(() =>
    query(
      "SELECT status, attempts FROM job_ledger WHERE job = 'collect' AND partition = ?",
      [WEDNESDAY_HOUR],
    ),
  ) as [string, number][];
  expect(status).toBe("done");
  try {
    execute(
      "UPDATE job_ledger SET status = 'failed', attempts = 5, error = 'e2e: source down', next_attempt_at = NULL WHERE job = 'collect' AND partition = ?",
      [WEDNESDAY_HOUR],
    );
    await visit(page, url);
    const warning = page.locator("#incomplete");
    await expect(warning).toBeVisible();
    await expect(warning.locator("li")).toHaveCount(1);
    await expect(warning.locator("li[data-reason='failed']")).toContainText("mercredi 16/10/2024");
    await expect(warning).toContainText("a échoué");
    await shot(page, "dashboard-failed-wednesday");
    await visit(page, url + "&lang=en");
    await expect(page.locator("#incomplete li[data-reason='failed']")).toContainText("Wednesday 2024-10-16");
    await expect(page.locator("#incomplete")).toContainText("failed");
    await expect(page.locator("#preparing")).toHaveCount(0);
  } finally {
    execute("UPDATE job_ledger SET status = ?, attempts = ?, error = NULL WHERE job = 'collect' AND partition = ?", [
      status,
      attempts,
      WEDNESDAY_HOUR,
    ]);
  }
  expect(problems).toEqual([]);
});

test("a period before the first day is 'not collected'; a backfill shows its progress, then the note goes", async ({ page }) => {
  test.setTimeout(240_000);
  const problems = watchConsole(page);
  // The reproduction: no progress bar, the days before the first day named.
  await visit(page, `${base}/dashboard?from=2024-09-02&to=2024-10-18`);
  const notCollected = page.locator("#incomplete li[data-reason='not-collected']");
  await expect(notCollected).toContainText("lundi 02/09/2024 → dimanche 06/10/2024");
  await expect(notCollected).toContainText("non collectées avant le 07/10/2024");
  await expect(notCollected.locator("code")).toHaveText("datamag360 backfill --from 2024-09-02 --to 2024-10-06");
  await expect(page.locator("#incomplete li")).toHaveCount(1);
  await expect(page.locator("#preparing")).toHaveCount(0);
  await expect(page.locator("progress")).toHaveCount(0);
  await shot(page, "dashboard-not-collected");
  await visit(page, `${base}/dashboard?from=2024-09-02&to=2024-10-18&lang=en`);
  await expect(notCollected).toContainText("Monday 2024-09-02 → Sunday 2024-10-06");
  await expect(notCollected).toContainText("not collected before 2024-10-07");
  await expect(notCollected.locator("code")).toHaveText("datamag360 backfill --from 2024-09-02 --to 2024-10-06");
  await expect(page.locator("#preparing")).toHaveCount(0);
  // Still nothing running a moment later (the page does not poll for nothing).
  await page.waitForTimeout(4_000);
  await expect(page.locator("#preparing")).toHaveCount(0);

  // An admin starts a backfill of those days (the admin API; the CLI works the same way).
  // Four months: long enough (about 10 s) to watch it run.
  const from = "2024-06-03";
  const to = "2024-10-06";
  const view = `${base}/dashboard?from=${from}&to=${to}`;
  const days = (Date.parse(to) - Date.parse(from)) / 86_400_000 + 1;
  const started = fetch(`${base}/admin/backfill`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ from, to }),
  });
  for (const suffix of ["", "&lang=en"]) {
    const note = page.locator("#preparing");
    // The run registers within a moment of the request.
    await expect(async () => {
      await visit(page, view + suffix);
      await expect(note).toBeVisible({ timeout: 1_000 });
    }).toPass({ timeout: 20_000 });
    await expect(note).toContainText(suffix ? "Data being prepared" : "Données en préparation");
    await expect(note.locator("progress")).toHaveAttribute("max", String(days));
    await expect(page.locator("#incomplete li[data-reason='preparing']")).toHaveCount(1);
  }
  await shot(page, "dashboard-backfill-running");
  // The progress shown, Infinity once the note is gone (the run ended).
  const progress = async () => {
    const values = await page
      .locator("#preparing progress")
      .evaluateAll((els) => els.map((e) => Number(e.getAttribute("value"))));
    return values.length ? values[0] : Infinity;
  };
  const first = await progress();
  expect(first).toBeLessThan(days);
  // Live: the page refreshes itself; the count grows, then the note goes when the run ends.
  await expect.poll(progress, { timeout: 120_000 }).toBeGreaterThan(first);
  const answer = await started;
  expect(answer.status).toBe(200);
  await expect(page.locator("#preparing")).toHaveCount(0, { timeout: 15_000 });
  await expect(page.locator("#incomplete")).toHaveCount(0);
  expectClose(await shownKpis(page), inDir(() => expectedKpis({ from, to })));
  expect(problems).toEqual([]);
});

test("the home page's money is in the page's language", async ({ page, request }) => {
  for (const lang of ["fr", "en"]) {
    const problems = watchConsole(page);
    await visit(page, lang === "en" ? "/?lang=en" : "/");
    await page.locator("select[name='city_store']").selectOption("Lyon");
    await page.locator("select[name='hour']").selectOption("15");
    const date = await page.locator("input[name='date']").inputValue();
    await page.locator("#query-button").click();
    await expect(page.locator("#snapshot")).toBeVisible();
    const [y, m, d] = date.split("-").map(Number);
    const sales = await (await request.get(`/transactions?city_store=Lyon&year=${y}&month=${m}&day=${d}&hour=15`)).json();
    const amount = Number(sales.chiffre_affaires);
    const en = `€${amount.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
    const fr = `${amount.toLocaleString("fr-FR", { minimumFractionDigits: 2, maximumFractionDigits: 2 })} €`;
    const revenue = page.locator("#snapshot-revenue");
    await expect(revenue).toHaveText(lang === "en" ? en : fr);
    const text = await revenue.innerText();
    if (lang === "en") {
      expect(text).toMatch(/^€\d{1,3}(,\d{3})*\.\d{2}$/);
    } else {
      expect(text).toMatch(/^\d{1,3}([\u202f\u00a0 ]\d{3})*,\d{2}[\u00a0 ]€$/);
    }
    await shot(page, `home-money-${lang}`);
    expect(problems).toEqual([]);
  }
});
