// Chart interaction cost in Chromium (a benchmark, not a test): for the largest chart of
// a dashboard view, the time to handle one pointer move (hit test + tooltip and marker
// update) and the time of a full plotters redraw (legend hover brings a series forward).
//
//   node bench/charts.mjs 'http://127.0.0.1:3911/dashboard?from=…&to=…' [chart-id]
import { chromium } from "@playwright/test";

const [url, chartId = "visitors"] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--headless", "--disable-gpu"],
});
const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
const t0 = Date.now();
await page.goto(url);
await page.waitForSelector("main[data-hydrated='true']", { timeout: 120_000 });
console.log(`hydrated in ${Date.now() - t0} ms (navigation start to data-hydrated)`);
const plot = page.locator(`#chart-${chartId} .plot`);
await plot.scrollIntoViewIfNeeded();
await page.waitForTimeout(300);
const info = await plot.evaluate((p) => ({
  width: Number(p.getAttribute("data-width")),
  svgBytes: p.querySelector(".svg")?.innerHTML.length ?? 0,
  elements: p.querySelectorAll("svg *").length,
  firstDrawMs: Number(p.getAttribute("data-draw-ms")),
}));
console.log(`chart ${chartId}: ${info.width} px wide, ${info.elements} SVG elements, ${info.svgBytes} bytes; draw at hydration width ${info.firstDrawMs} ms`);

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return `median ${q(0.5).toFixed(2)} ms, p95 ${q(0.95).toFixed(2)} ms, max ${s[s.length - 1].toFixed(2)} ms (n=${s.length})`;
};

// 1. Pointer moves: dispatch, let the reactive updates run, force style and layout.
const hover = await plot.evaluate(async (p) => {
  const r = p.getBoundingClientRect();
  const out = [];
  // A macrotask turn without the 4 ms clamp of nested setTimeout.
  const channel = new MessageChannel();
  const turn = () => new Promise((res) => { channel.port1.onmessage = () => res(); channel.port2.postMessage(0); });
  for (let i = 0; i < 300; i++) {
    const x = r.left + 40 + ((i * 7.3) % (r.width - 60));
    const y = r.top + r.height * (0.2 + ((i * 13) % 60) / 100);
    const t = performance.now();
    p.dispatchEvent(new PointerEvent("pointermove", { clientX: x, clientY: y, bubbles: true, pointerType: "mouse" }));
    await new Promise((res) => queueMicrotask(res));
    await turn();
    void p.querySelector(".tooltip")?.getBoundingClientRect();
    out.push(performance.now() - t);
  }
  return out;
});
console.log(`pointer move → tooltip: ${stats(hover)}`);

// 2. Full redraws: hovering a legend entry redraws the chart with that series forward.
const items = page.locator(`#chart-${chartId} .legend-item`);
const n = await items.count();
const redraws = [];
for (let i = 0; i < Math.min(40, n * 4); i++) {
  await items.nth(i % n).hover();
  await page.waitForTimeout(30);
  redraws.push(Number(await plot.getAttribute("data-draw-ms")));
}
if (redraws.length) console.log(`full redraw (plotters, in the browser): ${stats(redraws)}`);
await browser.close();
