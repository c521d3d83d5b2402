import { test, expect, type Page, type Browser } from "@playwright/test";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { screenshot, watchConsole } from "./helpers";

// Who sees what, in the browser: sign-in, wrong password, lockout, sign-out; a store
// manager of Paris and Lyon sees only those two everywhere (KPIs equal the database for
// them, store list, ranking, export) and gets 403 without a figure when they replay the
// dashboard's server function for Marseille, edit the export URL or open the pipeline
// page; a server bound to 0.0.0.0 with no account shows the set-up note and no figure,
// and its one-time link works once. Each scenario runs its own server (the suite's main
// server stays in local mode for the other specs).

const bin = process.env.DATAMAG_BIN!;
const site = process.env.DATAMAG_SITE_ROOT ?? "";
const python = process.env.DATAMAG_PYTHON || "python3";
const PASSWORD = "a long enough password";
const FROM = "2025-03-03";
const TO = "2025-03-09";
const PARIS = 1;
const LYON = 2;
const MARSEILLE = 3;

type Server = { proc: ChildProcess; port: number; dir: string; log: string[] };

function cli(dir: string, args: string[], input = "") {
  return execFileSync(bin, args, {
    env: { ...process.env, DATAMAG_DATA_DIR: dir, RUST_LOG: "warn" },
    input,
    encoding: "utf8",
  });
}

async function start(port: number, host: string, users: [string, string, string][]): Promise<Server> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "datamag360-access-"));
  cli(dir, ["backfill", "--from", FROM, "--to", TO]);
  for (const [name, role, stores] of users) {
    cli(dir, ["user", "add", name, "--role", role, "--manages", stores, "--password-stdin"], PASSWORD + "\n");
  }
  const log: string[] = [];
  const proc = spawn(bin, ["serve", "--port", String(port), "--no-scheduler"], {
    env: { ...process.env, DATAMAG_DATA_DIR: dir, DATAMAG_SITE_ROOT: site, HOST: host, RUST_LOG: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  proc.stdout!.on("data", (b: Buffer) => log.push(...b.toString().split("\n")));
  proc.stderr!.on("data", (b: Buffer) => log.push(...b.toString().split("\n")));
  for (let i = 0; i < 300; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/health`);
      if (r.ok) return { proc, port, dir, log };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server on ${port} did not start: ${log.join("\n")}`);
}

/** Rows of the server's own SQLite warehouse, read by Python (independent of the server). */
function query(dir: string, sql: string, params: (string | number)[] = []): any[] {
  const script = `
import json, sqlite3, sys
d = sys.argv[1]
c = sqlite3.connect(d + "/warehouse.db")
c.execute("ATTACH DATABASE ? AS analytics", (d + "/warehouse-analytics.db",))
print(json.dumps(c.execute(sys.argv[2], json.loads(sys.argv[3])).fetchall()))
`;
  return JSON.parse(execFileSync(python, ["-c", script, dir, sql, JSON.stringify(params)], { encoding: "utf8" }));
}

async function signIn(page: Page, base: string, user: string, password: string, lang = "fr") {
  await page.goto(`${base}/login${lang === "en" ? "?lang=en" : ""}`);
  await page.locator("input[name=username]").fill(user);
  await page.locator("input[name=password]").fill(password);
  await page.locator("#sign-in").click();
}

let main: Server;
let open: Server;

test.beforeAll(async () => {
  main = await start(3931, "127.0.0.1", [
    ["lea", "manager", "Paris,Lyon"],
    ["sam", "analyst", ""],
    ["locky", "analyst", ""],
    ["ana", "admin", ""],
  ]);
  open = await start(3932, "0.0.0.0", []);
});

test.afterAll(async () => {
  main?.proc.kill();
  open?.proc.kill();
});

for (const lang of ["fr", "en"]) {
  test(`sign-in, wrong password and sign-out (${lang}, 390 px)`, async ({ page }) => {
    const problems = watchConsole(page);
    await page.setViewportSize({ width: 390, height: 844 });
    const base = `http://127.0.0.1:${main.port}`;
    const q = lang === "en" ? "&lang=en" : "";
    // A page asks for sign-in and comes back to where it was.
    await page.goto(`${base}/dashboard?from=${FROM}&to=${TO}${q}`);
    await expect(page).toHaveURL(/\/login\?next=/);
    await page.locator("input[name=username]").fill("sam");
    await page.locator("input[name=password]").fill("not the password");
    await page.locator("#sign-in").click();
    await expect(page.locator("#form-error")).toHaveAttribute("data-code", "invalid");
    await expect(page.locator("#form-error")).toContainText(
      lang === "en" ? "Wrong username or password" : "Identifiant ou mot de passe incorrect",
    );
    await screenshot(page, `access-login-error-${lang}-390`);
    await page.locator("input[name=password]").fill(PASSWORD);
    await page.locator("#sign-in").click();
    await expect(page).toHaveURL(new RegExp(`/dashboard\\?from=${FROM}&to=${TO}`));
    await expect(page.locator(".kpi").first()).toBeVisible();
    await expect(page.locator("#account-line")).toContainText("sam");
    await expect(page.locator("#account-line")).toContainText(lang === "en" ? "analyst" : "analyste");
    await screenshot(page, `access-dashboard-signed-in-${lang}-390`, false);
    const noScroll = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    expect(noScroll, "no sideways scroll at 390 px").toBe(true);
    await page.locator("#sign-out").click();
    await expect(page.locator("#signed-out")).toBeVisible();
    await expect(page.locator("#signed-out")).toContainText(lang === "en" ? "You are signed out" : "Vous êtes déconnecté");
    // The session is over on the server: the dashboard asks again.
    await page.goto(`${base}/dashboard?from=${FROM}&to=${TO}${q}`);
    await expect(page).toHaveURL(/\/login/);
    expect(problems.filter((p) => !p.includes("Failed to load resource"))).toEqual([]);
  });
}

test("repeated failures lock the account and say when to retry (fr, en)", async ({ page }) => {
  const base = `http://127.0.0.1:${main.port}`;
  for (let i = 0; i < 5; i++) {
    await signIn(page, base, "locky", "wrong password!");
    await expect(page.locator("#form-error")).toHaveAttribute("data-code", "invalid");
  }
  await signIn(page, base, "locky", "wrong password!");
  await expect(page.locator("#form-error")).toHaveAttribute("data-code", "locked");
  await expect(page.locator("#form-error")).toContainText("réessayez dans");
  // Even the right password waits now.
  await signIn(page, base, "locky", PASSWORD, "en");
  await expect(page.locator("#form-error")).toHaveAttribute("data-code", "locked");
  await expect(page.locator("#form-error")).toContainText("try again in");
  await screenshot(page, "access-locked-en-1440");
});

test("a manager of Paris and Lyon sees only those two, and 403 for Marseille", async ({ page }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  const base = `http://127.0.0.1:${main.port}`;
  await signIn(page, base, "lea", PASSWORD);
  await page.goto(`${base}/dashboard?from=${FROM}&to=${TO}&cmp=none`);
  await expect(page.locator("main[data-hydrated='true']")).toHaveCount(1);
  // The store list holds only theirs.
  const options = await page.locator("#filter-store option").allTextContents();
  expect(options.filter((o) => !/Tous|All/.test(o)).sort()).toEqual(["Lyon", "Paris"]);
  // KPIs equal the database for those two stores.
  const [[visitors]] = query(
    main.dir,
    "SELECT SUM(nb_visiteurs) FROM analytics.visiteurs WHERE date >= ? AND date <= ? AND store_id IN (1, 2)",
    [FROM, TO],
  );
  const [[tx, revenue]] = query(
    main.dir,
    "SELECT SUM(nb_transactions), SUM(chiffre_affaires_centimes) / 100.0 FROM analytics.transactions WHERE date >= ? AND date <= ? AND store_id IN (1, 2)",
    [FROM, TO],
  );
  const kpi = async (id: string) => Number(await page.locator(`.kpi[data-kpi=${id}]`).getAttribute("data-value"));
  expect(await kpi("visitors")).toBe(visitors);
  expect(await kpi("transactions")).toBe(tx);
  expect(Math.abs((await kpi("revenue")) - revenue)).toBeLessThan(0.005);
  // The ranking lists only them.
  const ranking = page.locator("[data-chart=ranking]");
  if ((await ranking.count()) > 0) {
    const text = await ranking.textContent();
    expect(text).not.toContain("Marseille");
    expect(text).not.toContain("Toulouse");
  }
  const html = await page.content();
  expect(html).not.toContain("Marseille");
  await screenshot(page, "access-manager-dashboard-1440");

  // The export holds only their rows.
  const csv = await (await page.request.get(`${base}/export.csv?from=${FROM}&to=${TO}`)).text();
  const stores = new Set(csv.trim().split("\n").slice(1).map((l) => Number(l.split(",")[2])));
  expect([...stores].sort()).toEqual([PARIS, LYON]);

  // Marseille, every way: the export URL edited, the server function replayed, the page.
  const edited = await page.request.get(`${base}/export.csv?from=${FROM}&to=${TO}&store=${MARSEILLE}`);
  expect(edited.status()).toBe(403);
  const editedBody = await edited.text();
  expect(editedBody).toContain("forbidden_store");
  const [[marseilleVisitors]] = query(
    main.dir,
    "SELECT SUM(nb_visiteurs) FROM analytics.visiteurs WHERE date >= ? AND date <= ? AND store_id = 3",
    [FROM, TO],
  );
  expect(editedBody).not.toContain(String(marseilleVisitors));
  const replay = await page.request.post(`${base}/api/dashboard`, {
    headers: { "Content-Type": "application/json", Origin: base },
    data: {
      query: { store: MARSEILLE, sensors: [], from: FROM, to: TO, h0: null, h1: null, cmp: null, sensors_for: null, lang: "fr" },
    },
  });
  expect(replay.status()).toBe(403);
  const replayBody = await replay.text();
  expect(replayBody).not.toContain(String(marseilleVisitors));
  expect(replayBody).not.toContain("Marseille");
  const pageResponse = await page.goto(`${base}/dashboard?store=${MARSEILLE}&from=${FROM}&to=${TO}`);
  expect(pageResponse?.status()).toBe(403);
  await expect(page.locator("body")).toContainText("ne fait pas partie de vos magasins");
  expect(await page.content()).not.toContain(String(marseilleVisitors));
  const pipeline = await page.goto(`${base}/pipeline?lang=en`);
  expect(pipeline?.status()).toBe(403);
  await expect(page.locator("#not-allowed")).toContainText("Access denied");
  await screenshot(page, "access-manager-pipeline-403-en-1440");
  // The pipeline page's data, asked directly.
  const view = await page.request.post(`${base}/api/pipeline_view`, { headers: { Origin: base } });
  expect(view.status()).toBe(403);
});

test("a cross-site form post is refused", async ({ page }) => {
  const base = `http://127.0.0.1:${main.port}`;
  const r = await page.request.post(`${base}/login`, {
    headers: { Origin: "https://evil.example", "Content-Type": "application/x-www-form-urlencoded" },
    data: `username=sam&password=${encodeURIComponent(PASSWORD)}`,
    maxRedirects: 0,
  });
  expect(r.status()).toBe(403);
});

for (const width of [1440, 390]) {
  test(`an anonymous visitor of a 0.0.0.0 server with no account sees the set-up note and no figure; the link works once (${width} px)`, async ({
    browser,
  }) => {
    const base = `http://127.0.0.1:${open.port}`;
    const context = await browser.newContext({ viewport: { width, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${base}/dashboard?from=${FROM}&to=${TO}`);
    await expect(page).toHaveURL(/\/login/);
    await expect(page.locator("#setup-note")).toBeVisible();
    await expect(page.locator(".kpi")).toHaveCount(0);
    await screenshot(page, `access-setup-note-${width}`);
    const exp = await page.request.get(`${base}/export.csv?from=${FROM}&to=${TO}`);
    expect(exp.status()).toBe(401);
    expect(await exp.text()).not.toMatch(/\n\d{4}-\d{2}-\d{2},/);
    await context.close();
  });
}

test("the set-up link creates the first admin once", async ({ browser }) => {
  const base = `http://127.0.0.1:${open.port}`;
  const line = open.log.find((l) => l.includes("setup_url="));
  expect(line, open.log.join("\n")).toBeTruthy();
  const url = line!.match(/setup_url=(\S+)/)![1];
  const first = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await first.newPage();
  await page.goto(url.replace(/^http:\/\/[^/]+/, base) + "&lang=en");
  await screenshot(page, "access-setup-form-en-390");
  await page.locator("input[name=username]").fill("chief");
  await page.locator("input[name=password]").fill(PASSWORD);
  await page.locator("input[name=confirm]").fill(PASSWORD);
  await page.locator("#create-admin").click();
  await expect(page).toHaveURL(/\/dashboard/);
  await expect(page.locator("#account-line")).toContainText("chief");
  await page.goto(`${base}/account?lang=en`);
  await expect(page.locator("#account-role")).toContainText("administrator");
  await expect(page.locator("main[data-hydrated='true']")).toHaveCount(1);
  // A personal token: created once on the page, it opens the export; revoked, it stops.
  await page.locator("#token-label").fill("Power BI");
  await page.locator("#create-token").click();
  const token = (await page.locator("#new-token").textContent())!.trim();
  expect(token).toMatch(/^dm360_[0-9a-f]{64}$/);
  await expect(page.locator("#token-list tbody tr")).toHaveCount(1);
  await screenshot(page, "access-account-en-390");
  const exportUrl = `${base}/export.csv?from=${FROM}&to=${TO}&access_token=${token}`;
  const anonymous = await browser.newContext();
  expect((await anonymous.request.get(exportUrl)).status()).toBe(200);
  await page.locator("#token-list .revoke").click();
  await expect(page.locator("#token-list tr.revoked")).toHaveCount(1);
  expect((await anonymous.request.get(exportUrl)).status()).toBe(401);
  await anonymous.close();
  await first.close();
  // The same link again, from another browser: refused, no account made.
  const second = await browser.newContext();
  const again = await second.newPage();
  await again.goto(url.replace(/^http:\/\/[^/]+/, base));
  await again.locator("input[name=username]").fill("intruder");
  await again.locator("input[name=password]").fill(PASSWORD);
  await again.locator("input[name=confirm]").fill(PASSWORD);
  await again.locator("#create-admin").click();
  await expect(again.locator("#form-error")).toHaveAttribute("data-code", "link");
  await second.close();
  expect(cli(open.dir, ["user", "list"])).not.toContain("intruder");
});

for (const lang of ["fr", "en"]) {
  test(`an admin manages accounts on /users and reads the audit log (${lang})`, async ({ page, browser }) => {
    await page.setViewportSize({ width: 1440, height: 900 });
    const base = `http://127.0.0.1:${main.port}`;
    const q = lang === "en" ? "?lang=en" : "";
    await signIn(page, base, "ana", PASSWORD, lang);
    await page.goto(`${base}/users${q}`);
    await expect(page.locator("main[data-hydrated='true']")).toHaveCount(1);
    const name = `zoe${lang}`;
    await page.locator("#new-username").fill(name);
    await page.locator("#new-role").selectOption("manager");
    await page.locator("#add-user .store-choice label", { hasText: "Nice" }).locator("input").check();
    await page.locator("#new-password").fill(PASSWORD);
    await page.locator("#add-user-submit").click();
    await expect(page.locator("#add-user-message")).toHaveClass(/note/);
    const row = page.locator(`li.user[data-user=${name}]`);
    await expect(row).toBeVisible();
    await screenshot(page, `access-users-${lang}-1440`);
    // The new manager sees Nice only.
    const other = await browser.newContext();
    const zoe = await other.newPage();
    await signIn(zoe, base, name, PASSWORD);
    const csv = await (await zoe.request.get(`${base}/export.csv?from=${FROM}&to=${TO}`)).text();
    expect(new Set(csv.trim().split("\n").slice(1).map((l) => l.split(",")[3]))).toEqual(new Set(["Nice"]));
    // Disabled by the admin: their session ends at once.
    await row.locator("input[type=checkbox]").first().check();
    await row.locator(".save-user").click();
    await expect(row.locator("p.note")).toBeVisible();
    expect((await zoe.request.get(`${base}/export.csv?from=${FROM}&to=${TO}`)).status()).toBe(401);
    await other.close();
    // The audit log names what happened, and exports whole.
    await page.reload();
    await expect(page.locator("#audit-log")).toContainText("user added");
    await expect(page.locator("#audit-log")).toContainText("user changed");
    const audit = await (await page.request.get(`${base}/admin/audit.csv`)).text();
    expect(audit.split("\n")[0]).toBe("at,username,address,action,detail");
    expect(audit).toContain(`user added`);
    expect(audit).toContain("sign-in failed");
  });
}

test("users page and audit export at 390 px, and refused to a manager", async ({ page, browser }) => {
  const base = `http://127.0.0.1:${main.port}`;
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, base, "ana", PASSWORD);
  await page.goto(`${base}/users`);
  await expect(page.locator("#users")).toBeVisible();
  await screenshot(page, "access-users-fr-390");
  const noScroll = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  expect(noScroll, "no sideways scroll at 390 px").toBe(true);
  const other = await browser.newContext();
  const lea = await other.newPage();
  await signIn(lea, base, "lea", PASSWORD);
  const r = await lea.goto(`${base}/users`);
  expect(r?.status()).toBe(403);
  await expect(lea.locator("#not-allowed")).toBeVisible();
  await expect(lea.locator("#not-allowed")).toContainText("réservée aux administrateurs");
  await lea.setViewportSize({ width: 1440, height: 900 });
  await screenshot(lea, "access-users-denied-fr-1440");
  await lea.setViewportSize({ width: 390, height: 844 });
  await screenshot(lea, "access-users-denied-fr-390");
  expect((await lea.request.get(`${base}/admin/audit.csv`)).status()).toBe(403);
  const call = await lea.request.post(`${base}/api/admin_users`, { headers: { Origin: base } });
  expect(call.status()).toBe(403);
  await other.close();
});

test("an admin loads days that were never collected from the dashboard; a manager has no such button", async ({ page, browser }) => {
  const base = `http://127.0.0.1:${main.port}`;
  const url = `${base}/dashboard?from=2025-02-24&to=${TO}&cmp=none`;
  const other = await browser.newContext();
  const lea = await other.newPage();
  await signIn(lea, base, "lea", PASSWORD);
  await lea.goto(url);
  await expect(lea.locator("li[data-reason=not-collected]")).toBeVisible();
  await expect(lea.locator(".load-days")).toHaveCount(0);
  await other.close();
  await signIn(page, base, "ana", PASSWORD);
  await page.goto(url);
  await expect(page.locator("main[data-hydrated='true']")).toHaveCount(1);
  await expect(page.locator("li[data-reason=not-collected] .load-days")).toBeVisible();
  await page.locator("li[data-reason=not-collected] .load-days").click();
  // The days load in the background (the page says they are being prepared); once done
  // the whole period is complete.
  await expect(async () => {
    await page.goto(url);
    await expect(page.locator("#incomplete")).toHaveCount(0, { timeout: 1000 });
  }).toPass({ timeout: 60_000 });
  const [[visitors]] = query(
    main.dir,
    "SELECT SUM(nb_visiteurs) FROM analytics.visiteurs WHERE date >= ? AND date <= ?",
    ["2025-02-24", TO],
  );
  expect(Number(await page.locator(".kpi[data-kpi=visitors]").getAttribute("data-value"))).toBe(visitors);
});
