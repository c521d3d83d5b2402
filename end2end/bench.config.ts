import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

// Delivery benchmark (outside CI): the browser tests' server and browser settings, the
// benchmark files of bench/. Run through scripts/bench-delivery.sh.
export default defineConfig({
  ...base,
  testDir: "./bench",
  testMatch: /.*\.bench\.ts/,
  timeout: 300_000,
});
