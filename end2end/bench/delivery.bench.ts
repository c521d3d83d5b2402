import { test, expect, type Browser } from "@playwright/test";

// Delivery figures on the build scripts/run.sh serves (see scripts/bench-delivery.sh):
// time from navigation start to a hydrated dashboard (cold and warm cache), bytes of the
// wasm transferred on a first visit, bytes transferred by a reload.

const RUNS = Number(process.env.BENCH_RUNS ?? 7);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Records when `main[data-hydrated='true']` appears, in ms since navigation start. */
const observeHydration = () => {
  const w = window as unknown as { __hydratedAt?: number };
  new MutationObserver(() => {
    if (w.__hydratedAt === undefined && document.querySelector("main[data-hydrated='true']")) {
      w.__hydratedAt = performance.now();
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-hydrated"], childList: true });
};

async function visit(browser: Browser, url: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.addInitScript(observeHydration);
  const transfers = async () =>
    page.evaluate(() =>
      [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")].map((e) => {
        const r = e as PerformanceResourceTiming;
        return { name: r.name, transfer: r.transferSize, encoded: r.encodedBodySize, decoded: r.decodedBodySize };
      }),
    );
  await page.goto(url);
  await page.waitForFunction(() => (window as unknown as { __hydratedAt?: number }).__hydratedAt !== undefined);
  const cold = await page.evaluate(() => (window as unknown as { __hydratedAt: number }).__hydratedAt);
  const first = await transfers();
  await page.reload();
  await page.waitForFunction(() => (window as unknown as { __hydratedAt?: number }).__hydratedAt !== undefined);
  const warm = await page.evaluate(() => (window as unknown as { __hydratedAt: number }).__hydratedAt);
  const reload = await transfers();
  await context.close();
  return { cold, warm, first, reload };
}

test("dashboard delivery figures", async ({ browser }) => {
  const url = process.env.BENCH_URL ?? "/dashboard";
  const cold: number[] = [];
  const warm: number[] = [];
  let wasm = 0, wasmRaw = 0, firstTotal = 0, reloadTotal = 0;
  for (let i = 0; i < RUNS; i++) {
    const r = await visit(browser, url);
    cold.push(r.cold);
    warm.push(r.warm);
    const w = r.first.find((e) => e.name.endsWith(".wasm"));
    wasm = w?.transfer ?? -1;
    wasmRaw = w?.decoded ?? -1;
    firstTotal = r.first.reduce((a, e) => a + e.transfer, 0);
    reloadTotal = r.reload.reduce((a, e) => a + e.transfer, 0);
  }
  const out = {
    url,
    runs: RUNS,
    hydrated_cold_ms: { median: median(cold), min: Math.min(...cold), max: Math.max(...cold), all: cold.map(Math.round) },
    hydrated_reload_ms: { median: median(warm), min: Math.min(...warm), max: Math.max(...warm), all: warm.map(Math.round) },
    wasm_transferred_bytes: wasm,
    wasm_decoded_bytes: wasmRaw,
    first_visit_transferred_bytes: firstTotal,
    reload_transferred_bytes: reloadTotal,
  };
  console.log("BENCH " + JSON.stringify(out));
  expect(wasm).toBeGreaterThan(0);
});
