import { test, expect, type Page, type ConsoleMessage } from "@playwright/test";
import { hydrated, screenshot, visit } from "./helpers";

// English everywhere `?lang=en` applies (home, pipeline, 404, errors, statuses, <html lang>),
// and the same pages on a phone: no sideways scroll from 360 px, touch targets ≥ 24 px.

function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (msg: ConsoleMessage) => {
    // The 404 page's document itself answers 404: Chromium logs that, it is expected.
    if (msg.text().includes("404 (Not Found)")) return;
    if (msg.type() === "error" || msg.type() === "warning") problems.push(`${msg.type()}: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
  return problems;
}

/** French letters and words that have no business on an English page. */
const FRENCH = /[àâçéèêëîïôûùüœ«»]|\b(le|la|les|des|du|et|au|une?|pour|avec|sans|magasins?|capteurs?|chargement|heures?|tâches?|aucune?|échecs?|données|tableau|accueil|retour|introuvable|relevés?|partitions dues)\b/i;

function frenchIn(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && FRENCH.test(l));
}

const pages = [
  { name: "home", url: "/", ready: "#query-button" },
  { name: "pipeline", url: "/pipeline", ready: "#grid table" },
  { name: "alerts", url: "/alerts", ready: ".status-tabs" },
  { name: "404", url: "/no-such-page", ready: "h1" },
];

for (const p of pages) {
  test(`${p.name} in English: <html lang>, no French text`, async ({ page }) => {
    const problems = watchConsole(page);
    const response = await page.goto(`${p.url}?lang=en`);
    expect(response?.status()).toBe(p.name === "404" ? 404 : 200);
    await hydrated(page);
    await expect(page.locator(p.ready).first()).toBeVisible();
    await expect(page.locator("html")).toHaveAttribute("lang", "en");
    const text = await page.locator("body").innerText();
    expect(frenchIn(text)).toEqual([]);
    // The description too.
    const description = await page.locator("meta[name='description']").getAttribute("content");
    expect(frenchIn(description ?? "")).toEqual([]);
    expect(problems).toEqual([]);
  });
}

test("the 404 page has the site navigation, in both languages", async ({ page }) => {
  const fr = await page.goto("/no-such-page");
  expect(fr?.status()).toBe(404);
  await hydrated(page);
  await expect(page.locator("html")).toHaveAttribute("lang", "fr");
  await expect(page.getByRole("heading", { name: "Page introuvable" })).toBeVisible();
  await expect(page.locator(".main-nav a")).toHaveText(["Tableau de bord", /^Alertes/, "Pipeline", "Simulateur"]);
  await page.getByRole("link", { name: "EN", exact: true }).click();
  await expect(page).toHaveURL(/no-such-page\?lang=en/);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await page.getByRole("link", { name: "Pipeline" }).click();
  await expect(page).toHaveURL(/\/pipeline\?lang=en$/);
  await expect(page.getByRole("heading", { name: "Data pipeline" })).toBeVisible();
});

test("<html lang> follows the language switch without a reload", async ({ page }) => {
  await visit(page, "/");
  await expect(page.locator("html")).toHaveAttribute("lang", "fr");
  await page.getByRole("link", { name: "EN", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Query the simulator" })).toBeVisible();
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await page.getByRole("link", { name: "FR", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Interroger le simulateur" })).toBeVisible();
  await expect(page.locator("html")).toHaveAttribute("lang", "fr");
});

test("the simulator's errors speak the page's language", async ({ page }) => {
  await visit(page, "/?lang=en");
  await page.locator("input[name='date']").fill("2020-06-01");
  await page.locator("#query-button").click();
  await expect(page.locator(".snapshot-result .error")).toHaveText("No data before 2021-01-01");
  await page.locator("input[name='date']").fill("2099-01-05");
  await page.locator("#query-button").click();
  await expect(page.locator(".snapshot-result .error")).toHaveText("This date is in the future");
  // Unreachable server: a human sentence, not the transport's error.
  await page.route("**/api/simulator_hour", (route) => route.abort("connectionrefused"));
  await page.locator("input[name='date']").fill("2024-10-14");
  await page.locator("#query-button").click();
  await expect(page.locator(".snapshot-result .error")).toHaveText(
    "The server did not answer. Check the connection and try again.",
  );
});

for (const p of pages) {
  for (const lang of ["fr", "en"]) {
    test(`${p.name} (${lang}) on a phone: no sideways scroll at 360 px, touch targets of 24 px`, async ({ page }) => {
      await page.setViewportSize({ width: 360, height: 740 });
      await visit(page, lang === "en" ? `${p.url}?lang=en` : p.url);
      await expect(page.locator(p.ready).first()).toBeVisible();
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(width).toBeLessThanOrEqual(360);
      const small = await page.evaluate(() =>
        [...document.querySelectorAll("a, button, select, input, summary, [role='button']")]
          .filter((el) => {
            const r = el.getBoundingClientRect();
            const style = getComputedStyle(el);
            return r.width > 0 && r.height > 0 && style.visibility !== "hidden";
          })
          .map((el) => {
            const r = el.getBoundingClientRect();
            return { what: `${el.tagName} ${(el.textContent ?? "").trim().slice(0, 40)}`, w: r.width, h: r.height };
          })
          .filter((t) => t.w < 24 || t.h < 24),
      );
      expect(small).toEqual([]);
      for (const w of [390, 1440]) {
        await page.setViewportSize({ width: w, height: w > 1000 ? 900 : 844 });
        await screenshot(page, `${p.name}-${lang}-${w}`);
      }
    });
  }
}
