import { test, expect, request, type Page } from "@playwright/test";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { screenshot, watchConsole } from "./helpers";

// Single sign-on end to end against a real OpenID provider (oidc-provider, started here
// with its development login pages: end2end/oidc/provider.mjs), not a mock. The server
// discovers the provider, sends the browser there with PKCE, exchanges the code and checks
// the signed ID token. The claims decide: an admin gets the admin pages; a manager of
// Paris and Lyon sees only those two (fr, en, 390 px); an unknown role, a manager without
// stores or a cancelled sign-in are refused with a message; a used callback URL replayed is
// refused; a user disabled on /users can no longer sign in with SSO; password accounts
// keep working beside it; a server without SSO shows no SSO button.

const bin = process.env.DATAMAG_BIN!;
const site = process.env.DATAMAG_SITE_ROOT ?? "";
const python = process.env.DATAMAG_PYTHON || "python3";
const PASSWORD = "a long enough password";
const FROM = "2025-03-03";
const TO = "2025-03-09";
const SERVER_PORT = 3961;
const PROVIDER_PORT = 3962;
const base = `http://127.0.0.1:${SERVER_PORT}`;
const issuer = `http://127.0.0.1:${PROVIDER_PORT}`;

type Proc = { proc: ChildProcess; log: string[] };
let provider: Proc;
let server: Proc;
let dir: string;

function spawnLogged(cmd: string, args: string[], env: NodeJS.ProcessEnv): Proc {
  const log: string[] = [];
  const proc = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  proc.stdout!.on("data", (b: Buffer) => log.push(...b.toString().split("\n")));
  proc.stderr!.on("data", (b: Buffer) => log.push(...b.toString().split("\n")));
  return { proc, log };
}

async function waitFor(url: string, p: Proc) {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer: ${p.log.join("\n")}`);
}

function cli(args: string[], input = "") {
  return execFileSync(bin, args, {
    env: { ...process.env, DATAMAG_DATA_DIR: dir, RUST_LOG: "warn" },
    input,
    encoding: "utf8",
  });
}

/** Rows of the server's own SQLite warehouse, read by Python (independent of the server). */
function query(sql: string, params: (string | number)[] = []): any[] {
  const script = `
import json, sqlite3, sys
d = sys.argv[1]
c = sqlite3.connect(d + "/warehouse.db")
c.execute("ATTACH DATABASE ? AS analytics", (d + "/warehouse-analytics.db",))
print(json.dumps(c.execute(sys.argv[2], json.loads(sys.argv[3])).fetchall()))
`;
  return JSON.parse(execFileSync(python, ["-c", script, dir, sql, JSON.stringify(params)], { encoding: "utf8" }));
}

test.beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "datamag360-sso-"));
  const secretFile = path.join(dir, "oidc-client-secret");
  const secret = `e2e-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  fs.writeFileSync(secretFile, secret + "\n");
  provider = spawnLogged("node", [path.join(__dirname, "..", "oidc", "provider.mjs")], {
    ...process.env,
    OIDC_PORT: String(PROVIDER_PORT),
    OIDC_REDIRECT_URI: `${base}/auth/oidc/callback`,
    OIDC_CLIENT_SECRET: secret,
  });
  await waitFor(`${issuer}/.well-known/openid-configuration`, provider);
  cli(["backfill", "--from", FROM, "--to", TO]);
  // A password account beside SSO.
  cli(["user", "add", "pat", "--role", "analyst", "--password-stdin"], PASSWORD + "\n");
  server = spawnLogged(bin, ["serve", "--port", String(SERVER_PORT), "--no-scheduler"], {
    ...process.env,
    DATAMAG_DATA_DIR: dir,
    DATAMAG_SITE_ROOT: site,
    HOST: "127.0.0.1",
    RUST_LOG: "warn",
    DATAMAG_OIDC_ISSUER: issuer,
    DATAMAG_OIDC_CLIENT_ID: "datamag360",
    DATAMAG_OIDC_CLIENT_SECRET_FILE: secretFile,
    DATAMAG_OIDC_SCOPES: "profile email datamag",
    DATAMAG_PUBLIC_URL: base,
  });
  await waitFor(`${base}/health`, server);
});

test.afterAll(async () => {
  server?.proc.kill();
  provider?.proc.kill();
});

/** Signs in as `login` on the provider's pages, from the SSO button of `from`. */
async function ssoSignIn(page: Page, login: string, from = "/login") {
  await page.goto(`${base}${from}`);
  await page.locator("#sso-sign-in").click();
  await expect(page).toHaveURL(new RegExp(`^${issuer}/interaction/`));
  await page.locator("input[name=login]").fill(login);
  await page.locator("input[name=password]").fill("any password at the provider");
  await page.locator("button[type=submit]").click();
}

/** The callback URLs the browser was sent to. */
function callbacks(page: Page): string[] {
  const seen: string[] = [];
  page.on("request", (r) => {
    if (r.url().startsWith(`${base}/auth/oidc/callback`)) seen.push(r.url());
  });
  return seen;
}

for (const [lang, width] of [
  ["fr", 1440],
  ["en", 390],
] as const) {
  test(`the sign-in page offers single sign-on beside the password (${lang}, ${width} px)`, async ({ page }) => {
    const problems = watchConsole(page);
    await page.setViewportSize({ width, height: 900 });
    await page.goto(`${base}/login${lang === "en" ? "?lang=en" : ""}`);
    await expect(page.locator("main[data-hydrated='true']")).toHaveCount(1);
    const button = page.locator("#sso-sign-in");
    await expect(button).toHaveText(
      lang === "en" ? "Sign in with single sign-on" : "Se connecter avec l'authentification unique",
    );
    await expect(page.locator("#login-form")).toBeVisible();
    await screenshot(page, `sso-login-${lang}-${width}`);
    const noScroll = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    expect(noScroll, `no sideways scroll at ${width} px`).toBe(true);
    // The password account still signs in here.
    await page.locator("input[name=username]").fill("pat");
    await page.locator("input[name=password]").fill(PASSWORD);
    await page.locator("#sign-in").click();
    await expect(page).toHaveURL(/\/dashboard/);
    await expect(page.locator("#account-line")).toContainText("pat");
    expect(problems.filter((p) => !p.includes("Failed to load resource"))).toEqual([]);
  });
}

test("a server without SSO shows no SSO button", async ({ page }) => {
  // The suite's main server (playwright.config.ts) has no OIDC configuration.
  await page.goto("/login");
  await expect(page.locator("main[data-hydrated='true']")).toHaveCount(1);
  await expect(page.locator("#login-form")).toBeVisible();
  await expect(page.locator("#sso-sign-in")).toHaveCount(0);
});

test("an admin claim gets the admin pages, audited, linked by issuer and subject", async ({ page }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await ssoSignIn(page, "alice");
  await expect(page).toHaveURL(`${base}/dashboard`);
  await expect(page.locator("#account-line")).toContainText("alice");
  await expect(page.locator("#account-line")).toContainText("administrateur");
  const users = await page.goto(`${base}/users`);
  expect(users!.status()).toBe(200);
  await expect(page.locator("#users")).toBeVisible();
  await expect(page.locator("li.user[data-user=alice]")).toBeVisible();
  await expect(page.locator("#audit-log")).toContainText("sso, role admin");
  // The account is linked to the provider's subject, with no password.
  expect(query("SELECT role, oidc_issuer, oidc_subject, password_hash IS NULL FROM auth_users WHERE username = 'alice'")).toEqual([
    ["admin", issuer, "alice", 1],
  ]);
  const [[address]] = query("SELECT address FROM auth_audit WHERE username = 'alice' AND action = 'sign-in' ORDER BY id DESC LIMIT 1");
  expect(address).toBe("127.0.0.1");
  await screenshot(page, "sso-admin-users-1440", false);
});

for (const [lang, width] of [
  ["fr", 1440],
  ["en", 390],
] as const) {
  test(`a manager of Paris and Lyon by SSO sees only those two (${lang}, ${width} px)`, async ({ page }) => {
    await page.setViewportSize({ width, height: 900 });
    const q = lang === "en" ? "&lang=en" : "";
    // The dashboard asks for sign-in, and SSO comes back to it.
    await page.goto(`${base}/dashboard?from=${FROM}&to=${TO}&cmp=none${q}`);
    await expect(page).toHaveURL(/\/login\?next=/);
    await page.locator("#sso-sign-in").click();
    await page.locator("input[name=login]").fill("lea");
    await page.locator("input[name=password]").fill("any password at the provider");
    await page.locator("button[type=submit]").click();
    await expect(page).toHaveURL(new RegExp(`/dashboard\\?from=${FROM}&to=${TO}&cmp=none`));
    await expect(page.locator("main[data-hydrated='true']")).toHaveCount(1);
    await expect(page.locator("#account-line")).toContainText("lea");
    await expect(page.locator("#account-line")).toContainText(lang === "en" ? "store manager" : "responsable de magasin");
    const options = await page.locator("#filter-store option").allTextContents();
    expect(options.filter((o) => !/Tous|All/.test(o)).sort()).toEqual(["Lyon", "Paris"]);
    const [[visitors]] = query(
      "SELECT SUM(nb_visiteurs) FROM analytics.visiteurs WHERE date >= ? AND date <= ? AND store_id IN (1, 2)",
      [FROM, TO],
    );
    const [[tx]] = query(
      "SELECT SUM(nb_transactions) FROM analytics.transactions WHERE date >= ? AND date <= ? AND store_id IN (1, 2)",
      [FROM, TO],
    );
    const kpi = async (id: string) => Number(await page.locator(`.kpi[data-kpi=${id}]`).getAttribute("data-value"));
    expect(await kpi("visitors")).toBe(visitors);
    expect(await kpi("transactions")).toBe(tx);
    expect(await page.content()).not.toContain("Marseille");
    await screenshot(page, `sso-manager-dashboard-${lang}-${width}`, false);
    if (width === 390) {
      const noScroll = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
      expect(noScroll, "no sideways scroll at 390 px").toBe(true);
    }
    // Marseille stays out of reach, as for a password account.
    const edited = await page.request.get(`${base}/export.csv?from=${FROM}&to=${TO}&store=3`);
    expect(edited.status()).toBe(403);
    expect(query("SELECT role, stores FROM auth_users WHERE username = 'lea'")).toEqual([["manager", "1,2"]]);
  });
}

for (const [login, code, claim, lang, text] of [
  ["max", "sso_role", "datamag_role", "fr", "n'a pas de rôle DataMag360 reconnu"],
  ["nobody", "sso_role", "datamag_role", "en", "has no DataMag360 role it recognises"],
  ["nora", "sso_no_stores", "datamag_stores", "fr", "un responsable de magasin doit avoir au moins un magasin"],
] as const) {
  test(`${login}'s claims are refused with a message (${code}, ${lang})`, async ({ page }) => {
    await ssoSignIn(page, login, lang === "en" ? "/login?lang=en" : "/login");
    await expect(page).toHaveURL(/\/login\?error=/);
    const error = page.locator("#form-error");
    await expect(error).toHaveAttribute("data-code", code);
    await expect(error).toContainText(text);
    await expect(error).toContainText(claim);
    // No session was opened, no account made.
    expect((await page.request.get(`${base}/export.csv?from=${FROM}&to=${TO}`)).status()).toBe(401);
    expect(query("SELECT COUNT(*) FROM auth_users WHERE username = ?", [login])).toEqual([[0]]);
    const [[action, detail]] = query(
      "SELECT action, detail FROM auth_audit WHERE username = ? ORDER BY id DESC LIMIT 1",
      [login],
    );
    expect(action).toBe("sign-in failed");
    expect(detail).toContain(claim);
    await screenshot(page, `sso-refused-${code}-${lang}-1440`);
  });
}

test("a used callback URL replayed is refused, in this browser and another", async ({ page, browser }) => {
  const seen = callbacks(page);
  await ssoSignIn(page, "alice");
  await expect(page).toHaveURL(`${base}/dashboard`);
  expect(seen.length).toBe(1);
  const used = seen[0];
  expect(used).toContain("state=");
  expect(used).toContain("code=");
  // The same browser, the same URL: the state was taken.
  await page.goto(used);
  await expect(page).toHaveURL(/\/login\?error=sso_state/);
  await expect(page.locator("#form-error")).toContainText("a expiré, a déjà servi");
  // Another browser (no state cookie), the same URL: refused, no session.
  const other = await browser.newContext();
  const p2 = await other.newPage();
  await p2.goto(used);
  await expect(p2).toHaveURL(/\/login\?error=sso_state/);
  expect((await p2.request.get(`${base}/export.csv?from=${FROM}&to=${TO}`)).status()).toBe(401);
  await other.close();
  const [[n]] = query("SELECT COUNT(*) FROM auth_audit WHERE action = 'sign-in failed' AND detail LIKE '%already used%'");
  expect(n).toBeGreaterThanOrEqual(2);
});

/** An attacker's sign-in as `login`, begun outside the victim's browser and stopped
 * before the callback (each redirect followed by hand): the callback URL it would use. */
async function callbackBegunElsewhere(login: string): Promise<string> {
  const api = await request.newContext();
  let res = await api.get(`${base}/auth/oidc/start`, { maxRedirects: 0 });
  let url = new URL(res.headers()["location"], base).toString();
  for (let i = 0; i < 10 && !url.startsWith(`${base}/auth/oidc/callback`); i++) {
    if (/^\/interaction\/[^/]+$/.test(new URL(url).pathname)) {
      res = await api.post(url, { form: { prompt: "login", login, password: "x" }, maxRedirects: 0 });
    } else {
      res = await api.get(url, { maxRedirects: 0 });
    }
    url = new URL(res.headers()["location"], url).toString();
  }
  await api.dispose();
  return url;
}

test("a callback begun in another browser is refused (login CSRF)", async ({ page }) => {
  // The attacker begins a sign-in as themself and feeds its callback URL to the victim's
  // browser, which has no state cookie for it.
  const stolen = await callbackBegunElsewhere("alice");
  expect(stolen).toContain("state=");
  expect(stolen).toContain("code=");
  await page.goto(stolen);
  await expect(page).toHaveURL(/\/login\?error=sso_state/);
  expect((await page.request.get(`${base}/export.csv?from=${FROM}&to=${TO}`)).status()).toBe(401);
  const [[detail]] = query("SELECT detail FROM auth_audit WHERE action = 'sign-in failed' ORDER BY id DESC LIMIT 1");
  expect(detail).toContain("not this browser's");
});

test("cancelled at the provider (access_denied) is explained", async ({ page }) => {
  await page.goto(`${base}/login?lang=en`);
  await page.locator("#sso-sign-in").click();
  await expect(page).toHaveURL(new RegExp(`^${issuer}/interaction/`));
  await page.getByText("[ Cancel ]").click();
  await expect(page).toHaveURL(/\/login\?error=sso_denied/);
  await expect(page.locator("#form-error")).toContainText("did not give its consent");
});

test("a user disabled on /users can no longer sign in with SSO", async ({ page, browser }) => {
  // Paul signs in once (his account is made), then an admin disables him.
  const paulContext = await browser.newContext();
  const paul = await paulContext.newPage();
  await ssoSignIn(paul, "paul");
  await expect(paul).toHaveURL(`${base}/dashboard`);
  await ssoSignIn(page, "alice");
  await page.goto(`${base}/users`);
  await expect(page.locator("main[data-hydrated='true']")).toHaveCount(1);
  const row = page.locator("li.user[data-user=paul]");
  await row.locator("input[type=checkbox]").first().check();
  await row.locator(".save-user").click();
  await expect(row.locator("p.note")).toBeVisible();
  // His session ended, and the provider's word no longer lets him in.
  expect((await paul.request.get(`${base}/export.csv?from=${FROM}&to=${TO}`)).status()).toBe(401);
  await paulContext.close();
  const again = await browser.newContext();
  const p2 = await again.newPage();
  await ssoSignIn(p2, "paul");
  await expect(p2).toHaveURL(/\/login\?error=disabled/);
  await expect(p2.locator("#form-error")).toContainText("Ce compte est désactivé");
  await again.close();
});

test("a sign-in begun on one replica finishes on another (shared warehouse)", async ({ page }) => {
  // Replica B shares A's warehouse and public address (as behind a load balancer): the
  // browser begins at B, the provider sends it back to the public address (A), and A
  // finds the sign-in B stored.
  const portB = SERVER_PORT + 2;
  const b = spawnLogged(bin, ["serve", "--port", String(portB), "--no-scheduler"], {
    ...process.env,
    DATAMAG_DATA_DIR: dir,
    DATAMAG_SITE_ROOT: site,
    HOST: "127.0.0.1",
    RUST_LOG: "warn",
    DATAMAG_OIDC_ISSUER: issuer,
    DATAMAG_OIDC_CLIENT_ID: "datamag360",
    DATAMAG_OIDC_CLIENT_SECRET_FILE: path.join(dir, "oidc-client-secret"),
    DATAMAG_OIDC_SCOPES: "profile email datamag",
    DATAMAG_PUBLIC_URL: base,
  });
  try {
    await waitFor(`http://127.0.0.1:${portB}/health`, b);
    const seen = callbacks(page);
    await page.goto(`http://127.0.0.1:${portB}/login`);
    await page.locator("#sso-sign-in").click();
    await page.locator("input[name=login]").fill("alice");
    await page.locator("input[name=password]").fill("any password at the provider");
    await page.locator("button[type=submit]").click();
    await expect(page).toHaveURL(`${base}/dashboard`);
    await expect(page.locator("#account-line")).toContainText("alice");
    expect(seen.length).toBe(1);
  } finally {
    b.proc.kill();
  }
});
