import { test, expect } from "@playwright/test";
import { hydrated, screenshot, visit, watchConsole } from "./helpers";

test("the home page is French, hydrates, and queries the simulator", async ({ page, request }) => {
  const problems = watchConsole(page);
  await page.goto("/");
  await expect(page.locator("html")).toHaveAttribute("lang", "fr");
  await expect(page.getByRole("heading", { name: "Interroger le simulateur" })).toBeVisible();

  // Only the WebAssembly sets `data-hydrated`: server-rendered HTML says "false".
  await hydrated(page);

  // Pick Lyon and 15h, then submit: the form works only once hydrated (no page reload).
  await page.locator("select[name='city_store']").selectOption("Lyon");
  await page.locator("select[name='hour']").selectOption("15");
  const date = await page.locator("input[name='date']").inputValue();
  expect(date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  await page.locator("#query-button").click();
  await expect(page.locator("#snapshot")).toBeVisible();
  await expect(page.locator(".snapshot-title")).toContainText(`Lyon — ${date} 15:00:00`);

  // The figures shown are the API's figures for the same store-hour.
  const [y, m, d] = date.split("-").map(Number);
  const api = await request.get(
    `/transactions?city_store=Lyon&year=${y}&month=${m}&day=${d}&hour=15`,
  );
  expect(api.status()).toBe(200);
  const sales = await api.json();
  await expect(page.locator("#snapshot-transactions")).toHaveText(String(sales.transactions));
  // French money, thousands grouped (issue 27: numbers in the page's language everywhere).
  await expect(page.locator("#snapshot-revenue")).toHaveText(
    `${Number(sales.chiffre_affaires).toLocaleString("fr-FR", { minimumFractionDigits: 2, maximumFractionDigits: 2 })} €`,
  );
  // 10 sensors in Lyon.
  await expect(page.locator(".sensor-table tbody tr")).toHaveCount(10);

  await screenshot(page, "home-desktop");
  expect(problems).toEqual([]);
});

test("a bad date gets a clear French message", async ({ page }) => {
  const problems = watchConsole(page);
  await visit(page, "/");
  await page.locator("input[name='date']").fill("2020-06-01");
  await page.locator("#query-button").click();
  await expect(page.locator(".snapshot-result .error")).toContainText("Pas de données avant le");
  expect(problems).toEqual([]);
});

test("English is one click away and stays in the URL", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto("/");
  await page.getByRole("link", { name: "EN", exact: true }).click();
  await expect(page).toHaveURL(/lang=en/);
  await expect(page.getByRole("heading", { name: "Query the simulator" })).toBeVisible();
  await screenshot(page, "home-phone-en");
});
