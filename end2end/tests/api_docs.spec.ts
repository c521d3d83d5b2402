import { test, expect } from "@playwright/test";

// /docs: Swagger UI compiled into the binary, built from our own /openapi.json. It must
// render in the browser with every request it makes staying on this machine (no CDN, no
// online validator).
test("/docs renders the API from the binary, with no request leaving 127.0.0.1", async ({ page }) => {
  const offMachine: string[] = [];
  const problems: string[] = [];
  page.on("request", (req) => {
    const url = new URL(req.url());
    if (url.protocol !== "data:" && url.protocol !== "blob:" && url.hostname !== "127.0.0.1") {
      offMachine.push(req.url());
    }
  });
  page.on("pageerror", (err) => problems.push(err.message));

  const response = await page.goto("/docs");
  expect(response?.status()).toBe(200);
  await expect(page).toHaveURL(/\/docs\/$/);
  await expect(page.locator(".swagger-ui .info .title")).toContainText("DataMag360 API");
  for (const path of ["/visiteurs", "/transactions", "/releves"]) {
    await expect(page.locator(`.opblock-summary-path[data-path='${path}']`)).toBeVisible();
  }

  // Open /visiteurs and try it: the request goes to this server and shows its answer.
  await page.locator(".opblock-summary-path[data-path='/visiteurs']").click();
  await page.getByRole("button", { name: "Try it out" }).first().click();
  await page.locator("tr[data-param-name='city_store'] input").fill("Paris");
  await page.getByRole("button", { name: "Execute" }).first().click();
  // The live answer's row (the table's first row is its header).
  await expect(page.locator(".live-responses-table tr.response td.response-col_status").first())
    .toContainText("200");
  await expect(page.locator(".live-responses-table .highlight-code").first()).toContainText("visiteurs");

  await page.waitForLoadState("networkidle");
  expect(offMachine, offMachine.join("\n")).toEqual([]);
  expect(problems, problems.join("\n")).toEqual([]);
});
