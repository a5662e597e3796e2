// End-to-end tests: a real `aura up` (gateway, worker, sweeper on the embedded default) and
// Debian's Chromium driven by playwright-core. One file at a time: they share one AURA.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["e2e/**/*.e2e.ts"],
    environment: "node",
    globalSetup: ["e2e/globalSetup.ts"],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 240_000,
  },
});
