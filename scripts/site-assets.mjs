#!/usr/bin/env node
// Finishes a built site folder for delivery, once at build time:
//   1. gives the JS glue, the wasm and the stylesheet in pkg/ a content hash in their name
//      (datamag360.<hash>.js, .wasm, .css) and writes site/hash.txt (`js: <hash>` …), the
//      file Leptos' <HydrationScripts> and <HashedStylesheet> read;
//   2. writes a brotli (.br) and a gzip (.gz) copy beside every file over 1 KiB, which the
//      server sends as they are (no compression per request).
// Usage: node scripts/site-assets.mjs SITE_DIR OUTPUT_NAME [--fast]
// --fast: quicker, larger compression (brotli 5, gzip 6) for large debug wasm files.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync, renameSync, readdirSync, statSync, existsSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, gzipSync, constants } from "node:zlib";

const [site, name, flag] = process.argv.slice(2);
if (!site || !name) {
  console.error("usage: site-assets.mjs SITE_DIR OUTPUT_NAME [--fast]");
  process.exit(2);
}
const fast = flag === "--fast";
const pkg = join(site, "pkg");

// wasm-bindgen names the wasm `<name>_bg.wasm`; Leptos expects `<name>.<hash>.wasm`.
const inputs = { js: `${name}.js`, wasm: `${name}_bg.wasm`, css: `${name}.css` };
const lines = [];
for (const [kind, file] of Object.entries(inputs)) {
  const path = join(pkg, file);
  if (!existsSync(path)) {
    console.error(`site-assets: ${path} is missing`);
    process.exit(1);
  }
  // 20 hex digits (80 bits) of SHA-256: plenty to tell builds apart.
  const hash = createHash("sha256").update(readFileSync(path)).digest("hex").slice(0, 20);
  renameSync(path, join(pkg, `${name}.${hash}.${kind}`));
  lines.push(`${kind}: ${hash}`);
}
writeFileSync(join(site, "hash.txt"), lines.join("\n") + "\n");

const compressible = /\.(js|mjs|wasm|css|svg|html|json|txt|xml|map)$/;
function walk(dir) {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    const st = statSync(path);
    if (st.isDirectory()) {
      walk(path);
      continue;
    }
    if (entry.endsWith(".br") || entry.endsWith(".gz")) {
      unlinkSync(path); // stale copies of an earlier build
      continue;
    }
    if (!compressible.test(entry) || st.size < 1024) continue;
    const data = readFileSync(path);
    const br = brotliCompressSync(data, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: fast ? 5 : constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
      },
    });
    const gz = gzipSync(data, { level: fast ? 6 : 9 });
    // A compressed copy larger than the file would only cost the client.
    if (br.length < data.length) writeFileSync(path + ".br", br);
    if (gz.length < data.length) writeFileSync(path + ".gz", gz);
    console.error(`site-assets: ${path}: ${data.length} B, brotli ${br.length} B, gzip ${gz.length} B`);
  }
}
walk(site);
