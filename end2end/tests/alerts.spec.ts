import { test, expect, type Page, type Browser } from "@playwright/test";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { screenshot, watchConsole } from "./helpers";

// Issue 26, where people see alerts. The alerts are seeded through the real product: a
// backfill of the default simulator with its incidents on (detection runs after each
// ingest and transform, as in production), over weeks that end in the middle of an
// incident, so that some alerts are still open. Then, in Chromium: the alerts page lists
// what `datamag360 alerts --format json` lists; acknowledging with a comment changes the
// state and the header's count; a silence is saved; the dashboard marks the alerts on its
// charts and draws the expected band for one store; a store manager sees only their
// stores (a replayed server-function call for another store answers 403 with no figure);
// an analyst reads only; the admin's delivery channels page sends a test to a receiver the
// test starts; at 390 px and in English.

const bin = process.env.DATAMAG_BIN!;
const site = process.env.DATAMAG_SITE_ROOT ?? "";
const python = process.env.DATAMAG_PYTHON || "python3";
const PASSWORD = "a long enough password";
const PORT = 3941;
const base = `http://127.0.0.1:${PORT}`;

type Incident = { kind: string; store_id: number; sensor_id: number | null; start: string; end: string };
type CliAlert = { id: number; rule: string; store_id: number; sensor_id: number | null; status: string; start: string };

let dir = "";
let proc: ChildProcess | undefined;
const log: string[] = [];
/** The incident the seeded weeks end in, its store, and the manager's two stores. */
let focus: Incident;
let managed: number[] = [];
/** The last day backfilled (Paris) and the first. */
let lastDay = "";
let firstDay = "";

function cli(args: string[], input = ""): string {
  return execFileSync(bin, args, {
    env: { ...process.env, DATAMAG_DATA_DIR: dir, RUST_LOG: "warn", DATAMAG_INCIDENTS: "on" },
    input,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** Rows of the server's own SQLite warehouse, read by Python (independent of the server). */
function query(sql: string, params: (string | number)[] = []): any[] {
  const script = `
import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1] + "/warehouse.db")
print(json.dumps(c.execute(sys.argv[2], json.loads(sys.argv[3])).fetchall()))
`;
  return JSON.parse(execFileSync(python, ["-c", script, dir, sql, JSON.stringify(params)], { encoding: "utf8" }));
}

const isoDay = (d: Date) => d.toISOString().slice(0, 10);
function addDays(iso: string, n: number): string {
  const d = new Date(iso + "T12:00:00Z");
  d.setUTCDate(d.getUTCDate() + n);
  return isoDay(d);
}
/** A UTC instant's Paris day. */
const parisDay = (t: string) => new Date(t).toLocaleDateString("sv-SE", { timeZone: "Europe/Paris" });

async function signIn(page: Page, user: string, lang = "fr") {
  await page.goto(`${base}/login${lang === "en" ? "?lang=en" : ""}`);
  await page.locator("input[name=username]").fill(user);
  await page.locator("input[name=password]").fill(PASSWORD);
  await page.locator("#sign-in").click();
  await expect(page.locator("#account-line")).toContainText(user);
}

async function hydrated(page: Page) {
  await expect(page.locator("main[data-hydrated='true']")).toHaveCount(1);
}

async function noSideScroll(page: Page) {
  const ok = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  expect(ok, "no sideways scroll").toBe(true);
}

test.beforeAll(async () => {
  test.setTimeout(600_000);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "datamag360-alerts-"));
  // An incident of a silent sensor that lasts past the end of its first day, in the last
  // weeks: the backfill stops on that day, so its alert is still open.
  const today = new Date().toLocaleDateString("sv-SE", { timeZone: "Europe/Paris" });
  const truth: Incident[] = JSON.parse(
    cli(["incidents", "--from", addDays(today, -60), "--to", addDays(today, -2), "--format", "json"]),
  );
  const candidates = truth.filter(
    (i) =>
      i.kind === "sensor_silent" &&
      parisDay(i.end) > parisDay(i.start) &&
      new Date(i.start).getTime() < new Date(parisDay(i.start) + "T14:00:00+01:00").getTime(),
  );
  expect(candidates.length, JSON.stringify(truth.map((i) => i.kind))).toBeGreaterThan(0);
  focus = candidates[candidates.length - 1];
  lastDay = parisDay(focus.start);
  firstDay = addDays(lastDay, -34);
  const other = focus.store_id === 1 ? 2 : 1;
  managed = [focus.store_id, other].sort((a, b) => a - b);
  cli(["backfill", "--from", firstDay, "--to", lastDay]);
  for (const [name, role, stores] of [
    ["ana", "admin", ""],
    ["lea", "manager", managed.join(",")],
    ["sam", "analyst", ""],
  ]) {
    const args = ["user", "add", name, "--role", role, "--password-stdin"];
    if (stores) args.push("--manages", stores);
    cli(args, PASSWORD + "\n");
  }
  proc = spawn(bin, ["serve", "--port", String(PORT), "--no-scheduler"], {
    env: { ...process.env, DATAMAG_DATA_DIR: dir, DATAMAG_SITE_ROOT: site, HOST: "127.0.0.1", RUST_LOG: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  proc.stdout!.on("data", (b: Buffer) => log.push(...b.toString().split("\n")));
  proc.stderr!.on("data", (b: Buffer) => log.push(...b.toString().split("\n")));
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${base}/health`)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server did not start: ${log.join("\n")}`);
});

test.afterAll(async () => {
  proc?.kill();
});

/** What the command line lists, as scripts see it. */
function cliAlerts(): CliAlert[] {
  return JSON.parse(cli(["alerts", "--from", firstDay, "--to", addDays(lastDay, 1), "--format", "json"]));
}

test("the alerts page lists the alerts the command line lists, open first, with the header's count", async ({ page }) => {
  const problems = watchConsole(page);
  await page.setViewportSize({ width: 1440, height: 900 });
  await signIn(page, "ana");
  await page.goto(`${base}/alerts`);
  await hydrated(page);
  const rows = cliAlerts();
  expect(rows.length).toBeGreaterThan(0);
  const shown = await page.locator("li.alert").evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-alert-id"))));
  // The page lists 200 at most (the tabs count them all).
  expect(shown.length).toBe(Math.min(rows.length, 200));
  const ids = new Set(rows.map((r) => r.id));
  expect(shown.filter((id) => !ids.has(id))).toEqual([]);
  // The silent sensor the weeks end in is open, named with its store and sensor.
  const open = rows.filter((r) => r.status === "open");
  const [[openInDb]] = query("SELECT COUNT(*) FROM alerts WHERE status = 'open'");
  expect(open.length).toBe(openInDb);
  const silent = rows.find((r) => r.rule === "sensor_silent" && r.store_id === focus.store_id && r.sensor_id === focus.sensor_id && r.status === "open");
  expect(silent, JSON.stringify(rows)).toBeTruthy();
  const row = page.locator(`li.alert[data-alert-id="${silent!.id}"]`);
  await expect(row).toContainText("capteur muet");
  await expect(row).toContainText(`capteur ${focus.sensor_id}`);
  await expect(row).toContainText("depuis le");
  // Open ones come first.
  const states = await page.locator("li.alert").evaluateAll((els) => els.map((e) => e.getAttribute("data-state")));
  expect(states.indexOf("open")).toBe(0);
  // The header's count: the open alerts.
  await expect(page.locator("#alerts-count")).toHaveAttribute("data-count", String(openInDb));
  // The tabs' counts and a filter in the URL.
  await expect(page.locator(".status-tabs a[data-status=open]")).toContainText(`(${openInDb})`);
  await page.locator("#alert-rule").selectOption("sensor_silent");
  await expect(page).toHaveURL(/rule=sensor_silent/);
  await expect(page.locator("li.alert")).toHaveCount(rows.filter((r) => r.rule === "sensor_silent").length);
  const kinds = await page.locator("li.alert").evaluateAll((els) => els.map((e) => e.getAttribute("data-rule")));
  expect(new Set(kinds)).toEqual(new Set(["sensor_silent"]));
  await page.locator(".status-tabs a[data-status=open]").click();
  await expect(page).toHaveURL(/status=open/);
  await expect(page.locator("li.alert[data-state=acknowledged], li.alert[data-state=resolved]")).toHaveCount(0);
  await page.goto(`${base}/alerts`);
  await screenshot(page, "alerts-1440");
  expect(problems.filter((p) => !p.includes("Failed to load resource"))).toEqual([]);
});

test("acknowledging with a comment changes the state and the count; a silence is kept", async ({ page }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await signIn(page, "lea");
  await page.goto(`${base}/alerts?status=open`);
  await hydrated(page);
  const before = Number(await page.locator("#alerts-count").getAttribute("data-count"));
  expect(before).toBeGreaterThan(0);
  const row = page.locator("li.alert[data-state=open]").first();
  const id = await row.getAttribute("data-alert-id");
  // A comment is required.
  await row.locator(".ack-open").click();
  await row.locator(".ack-submit").click();
  await expect(row.locator(".ack-comment-input")).toBeVisible();
  await row.locator(".ack-comment-input").fill("Technicien prévenu, passage demain 9 h");
  await row.locator(".ack-submit").click();
  await expect(page.locator("#alerts-count")).toHaveAttribute("data-count", String(before - 1));
  await page.goto(`${base}/alerts`);
  const acked = page.locator(`li.alert[data-alert-id="${id}"]`);
  await expect(acked).toHaveAttribute("data-state", "acknowledged");
  await expect(acked).toContainText("Prise en compte par lea");
  await expect(acked).toContainText("Technicien prévenu");
  const [[status, by, comment]] = query("SELECT status, acknowledged_by, ack_comment FROM alerts WHERE id = ?", [Number(id)]);
  expect([status, by, comment]).toEqual(["acknowledged", "lea", "Technicien prévenu, passage demain 9 h"]);

  // A weekly silence of the store, from the same row.
  await acked.locator(".silence-open").click();
  const form = acked.locator(".silence-form");
  if ((await form.locator(".scope-store").count()) > 0) await form.locator(".scope-store").check();
  await form.locator(".silence-from").fill(`${lastDay}T09:00`);
  // Until three weeks from today: the page lists the silences in force or planned, and
  // the incident (hence lastDay) can be up to 60 days old.
  const today = new Date().toLocaleDateString("sv-SE", { timeZone: "Europe/Paris" });
  await form.locator(".silence-to").fill(`${addDays(today, 21)}T12:00`);
  await form.locator(".silence-weekly").check();
  await form.locator(".silence-reason").fill("Inventaire chaque semaine");
  await form.locator(".silence-submit").click();
  await expect(page.locator("#silences li.silence")).toHaveCount(1);
  await expect(page.locator("#silences")).toContainText("Inventaire chaque semaine");
  await expect(page.locator("#silences")).toContainText("9h–12h");
  const [[weekdays, from, to, reason, who]] = query(
    "SELECT weekdays, hour_from, hour_to, reason, created_by FROM alert_silences",
  );
  expect(weekdays).toBe(1 << ((new Date(lastDay + "T12:00:00Z").getUTCDay() + 6) % 7));
  expect([from, to, reason, who]).toEqual([9, 12, "Inventaire chaque semaine", "lea"]);
  await screenshot(page, "alerts-acknowledged-silenced-1440");
});

test("a store manager sees only their stores; another store answers 403 with no figure", async ({ page }) => {
  await signIn(page, "lea");
  await page.goto(`${base}/alerts`);
  await hydrated(page);
  const stores = await page.locator("li.alert").evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-store"))));
  expect(stores.length).toBeGreaterThan(0);
  expect(stores.every((s) => managed.includes(s))).toBe(true);
  const options = await page.locator("#alert-store option").evaluateAll((els) => els.map((e) => (e as HTMLOptionElement).value).filter(Boolean));
  expect(options.map(Number).sort()).toEqual(managed);
  // The header's count holds only their stores' open alerts.
  const [[theirs]] = query(`SELECT COUNT(*) FROM alerts WHERE status = 'open' AND store_id IN (${managed.join(",")})`);
  await expect(page.locator("#alerts-count")).toHaveAttribute("data-count", String(theirs));
  // Another store's alerts exist, and are refused every way.
  const [[otherStore, otherId, otherCount]] = query(
    `SELECT store_id, MIN(id), COUNT(*) FROM alerts WHERE store_id NOT IN (${managed.join(",")}) GROUP BY store_id ORDER BY COUNT(*) DESC LIMIT 1`,
  );
  expect(otherCount).toBeGreaterThan(0);
  const replay = await page.request.post(`${base}/api/alerts`, {
    headers: { "Content-Type": "application/json", Origin: base },
    data: { query: { store: otherStore, rule: null, severity: null, status: null } },
  });
  expect(replay.status()).toBe(403);
  const body = await replay.text();
  expect(body).toContain(String(otherStore));
  expect(body).not.toContain("rule");
  expect(body).not.toContain("sensor");
  const ack = await page.request.post(`${base}/api/alerts_acknowledge`, {
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: base },
    data: `id=${otherId}&comment=vu`,
  });
  expect(ack.status()).toBe(403);
  const silence = await page.request.post(`${base}/api/alerts_silence`, {
    headers: { "Content-Type": "application/json", Origin: base },
    data: { store_id: otherStore, sensor_id: null, from: `${lastDay}T09:00`, to: `${lastDay}T12:00`, weekdays: [], reason: "x" },
  });
  expect(silence.status()).toBe(403);
  const [[still]] = query("SELECT COUNT(*) FROM alert_silences WHERE store_id = ?", [otherStore]);
  expect(still).toBe(0);
  const pageResponse = await page.goto(`${base}/alerts?store=${otherStore}`);
  expect(pageResponse?.status()).toBe(403);
  await expect(page.locator("#alerts-error")).toContainText("ne fait pas partie de vos magasins");
  // The channels are for admins.
  expect((await page.request.post(`${base}/api/admin_alert_channels`, { headers: { Origin: base } })).status()).toBe(403);
});

test("an analyst reads the alerts and has no buttons; the server refuses their acknowledgement", async ({ page }) => {
  await signIn(page, "sam", "en");
  await page.goto(`${base}/alerts?lang=en`);
  await hydrated(page);
  await expect(page.locator("h1")).toHaveText("Alerts");
  await expect(page.locator("#alerts-rights")).toContainText("analysts read only");
  await expect(page.locator("li.alert").first()).toBeVisible();
  await expect(page.locator(".ack-open, .silence-open")).toHaveCount(0);
  const id = await page.locator("li.alert").first().getAttribute("data-alert-id");
  const r = await page.request.post(`${base}/api/alerts_acknowledge`, {
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: base },
    data: `id=${id}&comment=seen`,
  });
  expect(r.status()).toBe(403);
});

test("the dashboard marks the alerts on its charts and draws the expected band for one store", async ({ page }) => {
  const problems = watchConsole(page);
  await page.setViewportSize({ width: 1440, height: 900 });
  await signIn(page, "ana");
  const from = addDays(lastDay, -13);
  await page.goto(`${base}/dashboard?store=${focus.store_id}&from=${from}&to=${lastDay}&cmp=none`);
  await hydrated(page);
  const markers = page.locator("#chart-visitors .alert-marker");
  await expect(markers.first()).toBeVisible();
  // The silent sensor's marker sits on the day it began, and says so.
  const onDay = page.locator(`#chart-visitors .alert-marker[data-x="${lastDay}"]`);
  await expect(onDay).toHaveCount(1);
  expect(await onDay.getAttribute("title")).toContain("capteur muet");
  expect(await onDay.getAttribute("title")).toContain(`capteur ${focus.sensor_id}`);
  // The store's visitors against the expected band, with the same markers; the tooltip
  // gives the range.
  const expected = page.locator("#chart-expected");
  await expect(expected.locator("#band-expected")).toBeVisible();
  await expect(expected.locator("svg polygon").first()).toBeAttached();
  await expect(expected.locator(`.alert-marker[data-x="${lastDay}"]`)).toHaveCount(1);
  // The table gives each day's range; a day with one shows it in its tooltip too.
  await expected.locator(".chart-table summary").click();
  const ranges = await expected.locator(".chart-table tbody tr td:last-child").allTextContents();
  expect(ranges.filter((r) => /\d – \d/.test(r)).length).toBeGreaterThan(0);
  await expected.locator(".chart-table summary").click();
  const eplot = expected.locator(".plot");
  await eplot.scrollIntoViewIfNeeded();
  const ebox = (await eplot.boundingBox())!;
  await expect(async () => {
    for (const fx of [0.5, 0.3, 0.7, 0.15, 0.85]) {
      await page.mouse.move(ebox.x + ebox.width * fx, ebox.y + ebox.height * 0.5);
      if ((await expected.locator(".tooltip .tt-band").count()) > 0) break;
    }
    await expect(expected.locator(".tooltip .tt-band")).toContainText("Attendu", { timeout: 500 });
  }).toPass({ timeout: 10_000 });
  await screenshot(page, "alerts-dashboard-markers-band-1440");
  // Still interactive: a point's tooltip.
  const plot = page.locator("#chart-visitors .plot");
  const box = (await plot.boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.5);
  await expect(page.locator("#chart-visitors .tooltip")).toBeVisible();
  await page.setViewportSize({ width: 390, height: 844 });
  await expect(markers.first()).toBeVisible();
  await noSideScroll(page);
  await screenshot(page, "alerts-dashboard-markers-band-390");
  expect(problems.filter((p) => !p.includes("Failed to load resource"))).toEqual([]);
});

test("the pipeline page lists the silent sensors", async ({ page }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await signIn(page, "ana");
  await page.goto(`${base}/pipeline`);
  await hydrated(page);
  const [[n]] = query("SELECT COUNT(*) FROM alerts WHERE rule IN ('sensor_silent', 'sensor_stuck_zero') AND status <> 'resolved'");
  await expect(page.locator("#silent-sensors li.silent-sensor")).toHaveCount(n);
  await expect(page.locator(`#silent-sensors li[data-store="${focus.store_id}"][data-sensor="${focus.sensor_id}"]`)).toBeVisible();
  await screenshot(page, "alerts-pipeline-1440");
  await page.setViewportSize({ width: 390, height: 844 });
  await noSideScroll(page);
  await screenshot(page, "alerts-pipeline-390");
});

test("the alerts page at 390 px and in English", async ({ page }) => {
  const problems = watchConsole(page);
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, "lea", "en");
  await page.goto(`${base}/alerts?lang=en`);
  await hydrated(page);
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await expect(page.locator(".status-tabs a[data-status=open]")).toContainText("Open");
  await expect(page.locator("#alerts-link")).toContainText("Alerts");
  const first = page.locator("li.alert").first();
  await expect(first).toBeVisible();
  await expect(first.locator(".alert-when")).toContainText(/since|from/);
  await noSideScroll(page);
  await screenshot(page, "alerts-en-390");
  // The forms fit too.
  const open = page.locator("li.alert[data-state=open] .silence-open").first();
  if ((await open.count()) > 0) {
    await open.click();
    await expect(page.locator(".silence-form")).toBeVisible();
    await noSideScroll(page);
    await screenshot(page, "alerts-silence-form-en-390");
  }
  await page.goto(`${base}/alerts`);
  await screenshot(page, "alerts-fr-390");
  expect(problems.filter((p) => !p.includes("Failed to load resource"))).toEqual([]);
});

test("an admin adds a webhook channel, sends a test to a receiver, and sees a failed delivery", async ({ page }) => {
  // A receiver that records what it gets.
  const received: { headers: http.IncomingHttpHeaders; body: string }[] = [];
  const receiver = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", () => r()));
  const port = (receiver.address() as { port: number }).port;
  try {
    await page.setViewportSize({ width: 1440, height: 900 });
    await signIn(page, "ana");
    await page.goto(`${base}/alerts/channels`);
    await hydrated(page);
    await page.locator("#channel-kind").selectOption("webhook");
    await page.locator("#channel-label").fill("Astreinte");
    await page.locator("#channel-target").fill(`http://127.0.0.1:${port}/hook`);
    await page.locator("#add-channel-submit").click();
    await expect(page.locator("#new-secret code")).toContainText("whsec_");
    const channel = page.locator("li.channel[data-name=Astreinte]");
    await expect(channel).toBeVisible();
    await channel.locator(".test-channel").click();
    await expect(channel.locator(".test-result")).toHaveAttribute("data-ok", "true");
    expect(received.length).toBe(1);
    expect(received[0].headers["webhook-signature"]).toMatch(/^v1,/);

    // A receiver that is not there: the test fails and says why; the delivery is listed.
    await page.locator("#channel-kind").selectOption("slack");
    await page.locator("#channel-label").fill("Nulle part");
    await page.locator("#channel-target").fill("http://127.0.0.1:9/nowhere");
    await page.locator("#add-channel-submit").click();
    const broken = page.locator("li.channel[data-name='Nulle part']");
    await expect(broken).toBeVisible();
    await broken.locator(".test-channel").click();
    await expect(broken.locator(".test-result")).toHaveAttribute("data-ok", "false");
    await page.reload();
    await expect(page.locator("#delivery-table tr.delivery").first()).toBeVisible();
    await expect(page.locator("#delivery-table")).toContainText("Nulle part");
    await screenshot(page, "alerts-channels-1440");
    await page.setViewportSize({ width: 390, height: 844 });
    await noSideScroll(page);
    await screenshot(page, "alerts-channels-390");
    // Disabled: no more test button.
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.locator("li.channel[data-name='Nulle part'] .disable-channel").click();
    await expect(page.locator("li.channel[data-name='Nulle part']")).toHaveClass(/disabled/);
  } finally {
    receiver.close();
  }
});
