import { defineConfig } from "@playwright/test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

// The server under test: the real datamag360 binary and the built site, given by
// scripts/test.sh (DATAMAG_BIN, DATAMAG_SITE_ROOT). Debian's Chromium, never a download.
const port = Number(process.env.E2E_PORT ?? 3917);
const bin = process.env.DATAMAG_BIN;
if (!bin) {
  throw new Error("DATAMAG_BIN is not set: run the browser tests through scripts/test.sh");
}

// A fresh data directory, filled by the real pipeline (`datamag360 backfill`) before the
// server starts. Set once in the main process; workers inherit it.
if (!process.env.E2E_DATA_DIR) {
  process.env.E2E_DATA_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "datamag360-e2e-"));
}
const dataDir = process.env.E2E_DATA_DIR;
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--headless",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--no-first-run",
      ],
    },
  },
  webServer: {
    command: `"${bin}" backfill --from ${day(-42)} --to ${day(0)} && exec "${bin}" serve --port ${port}`,
    url: `http://127.0.0.1:${port}/health`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      DATAMAG_SITE_ROOT: process.env.DATAMAG_SITE_ROOT ?? "",
      DATAMAG_DATA_DIR: dataDir,
      HOST: "127.0.0.1",
      RUST_LOG: "warn",
    },
  },
});
