import { test, expect, type Page } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";
import { hydrated, visit } from "./helpers";

// How the front end travels: hashed file names, precompressed files from disk, a year of
// immutable caching, 304 answers to conditional page requests, and a reload that fetches
// almost nothing.

const site = process.env.DATAMAG_SITE_ROOT ?? "";

/** The `/pkg/…` files a page references. */
async function assets(page: Page): Promise<{ js: string; wasm: string; css: string }> {
  const html = await page.content();
  const find = (ext: string) => {
    const m = html.match(new RegExp(`/pkg/datamag360\\.([0-9a-f]{16,})\\.${ext}`));
    expect(m, `a hashed .${ext} in the page`).not.toBeNull();
    return m![0];
  };
  return { js: find("js"), wasm: find("wasm"), css: find("css") };
}

test("pages reference hashed files that are precompressed and cached for a year", async ({ page, request }) => {
  await visit(page, "/");
  const files = await assets(page);
  // The names are the ones the build wrote (site/hash.txt).
  const hashes = fs.readFileSync(path.join(site, "hash.txt"), "utf8");
  for (const [kind, url] of Object.entries(files)) {
    const hash = new RegExp(`^${kind}: *(\\w+)$`, "m").exec(hashes)?.[1];
    expect(url).toBe(`/pkg/datamag360.${hash}.${kind}`);
  }

  for (const [encoding, accept] of [["br", "br, gzip"], ["gzip", "gzip"]]) {
    const res = await request.get(files.wasm, { headers: { "accept-encoding": accept } });
    expect(res.status()).toBe(200);
    const h = res.headers();
    expect(h["content-encoding"]).toBe(encoding);
    expect(h["content-type"]).toBe("application/wasm");
    expect(h["cache-control"]).toBe("public, max-age=31536000, immutable");
    // Sent as written at build time (the bytes of the .br/.gz file), not compressed now.
    const onDisk = fs.statSync(path.join(site, `${files.wasm}.${encoding === "br" ? "br" : "gz"}`)).size;
    expect(Number(h["content-length"])).toBe(onDisk);
  }
  for (const url of [files.js, files.css]) {
    const res = await request.get(url, { headers: { "accept-encoding": "br" } });
    expect(res.status()).toBe(200);
    expect(res.headers()["content-encoding"]).toBe("br");
    expect(res.headers()["cache-control"]).toContain("immutable");
  }
  // An unknown file is a plain 404, never cached for a year.
  const missing = await request.get("/pkg/datamag360.0000000000000000.wasm");
  expect(missing.status()).toBe(404);
  expect(missing.headers()["cache-control"]).not.toContain("immutable");
});

test("pages answer a conditional request with 304", async ({ request }) => {
  for (const url of ["/", "/pipeline?lang=en", "/dashboard"]) {
    const first = await request.get(url);
    expect(first.status()).toBe(200);
    const etag = first.headers()["etag"];
    expect(etag, `${url} has an ETag`).toMatch(/^W\/"[0-9a-f]+"$/);
    const again = await request.get(url, { headers: { "if-none-match": etag } });
    expect(again.status(), url).toBe(304);
    expect((await again.body()).length).toBe(0);
    // A stale tag gets the page.
    const stale = await request.get(url, { headers: { "if-none-match": 'W/"0"' } });
    expect(stale.status()).toBe(200);
  }
  // Other files of the site answer If-Modified-Since.
  const icon = await request.get("/favicon.svg");
  expect(icon.status()).toBe(200);
  const since = icon.headers()["last-modified"];
  expect(since).toBeTruthy();
  const cached = await request.get("/favicon.svg", { headers: { "if-modified-since": since } });
  expect(cached.status()).toBe(304);
});

test("a reload transfers under 50 KB: the wasm, script and stylesheet come from the cache", async ({ page }) => {
  await visit(page, "/dashboard");
  await page.reload();
  await hydrated(page);
  const entries = await page.evaluate(() =>
    [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")].map((e) => ({
      name: e.name,
      transfer: (e as PerformanceResourceTiming).transferSize,
    })),
  );
  const total = entries.reduce((a, e) => a + e.transfer, 0);
  expect(total, JSON.stringify(entries)).toBeLessThan(50_000);
  for (const e of entries.filter((e) => /\/pkg\//.test(e.name))) {
    expect(e.transfer, `${e.name} from the cache`).toBe(0);
  }
});
