import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // With KARTOGRAPH_TEST_SPICEDB_BINARY: one migrated SpiceDB datastore per run to copy from.
    globalSetup: ["test/support/spicedb-global-setup.ts"],
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // PGlite and the embedded SpiceDB are heavy: two workers fit the 2-core machine.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
