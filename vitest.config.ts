import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // PGlite and the embedded SpiceDB are heavy: two workers fit the 2-core machine.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
