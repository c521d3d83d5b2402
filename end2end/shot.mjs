// Ad-hoc screenshots for a person to look at (not a test): node shot.mjs URL OUT WIDTH [hoverChart]
import { chromium } from "@playwright/test";
const [url, out, width, hover] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--headless", "--disable-gpu"] });
const page = await browser.newPage({ viewport: { width: Number(width), height: 900 } });
const errors = [];
page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") errors.push(m.text()); });
page.on("pageerror", (e) => errors.push(e.message));
await page.goto(url);
await page.waitForSelector("main[data-hydrated='true']");
await page.waitForTimeout(500);
if (hover) {
  const plot = page.locator(`#chart-${hover} .plot`);
  await plot.scrollIntoViewIfNeeded();
  const box = await plot.boundingBox();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.45);
  await page.waitForTimeout(200);
  await page.screenshot({ path: out, fullPage: false });
} else if (process.env.TILES) {
  const h = await page.evaluate(() => document.documentElement.scrollHeight);
  for (let y = 0, i = 0; y < h; y += 880, i++) {
    await page.evaluate((y) => window.scrollTo(0, y), y);
    await page.waitForTimeout(100);
    await page.screenshot({ path: out.replace(".png", `-${i}.png`) });
  }
} else {
  await page.screenshot({ path: out, fullPage: true });
}
console.log(JSON.stringify(errors));
await browser.close();
