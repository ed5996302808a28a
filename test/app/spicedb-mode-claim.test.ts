/**
 * An in-process SpiceDB knows only what its own process applied: two processes each with their own
 * on one PostgreSQL database answered from stale indexes (a removed member kept reading for 45 s),
 * and one beside a cluster's processes took their changes and applied them to itself alone. Such a
 * process now refuses to start, with one line saying what to do instead.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createService, type Service } from "../../src/app.js";
import { loadConfig } from "../../src/platform/config/config.js";
import { createLogger } from "../../src/platform/logging/logger.js";
import { SpiceDbModeConflictError, claimSpiceDbMode, type SpiceDbModeClaim } from "../../src/platform/spicedb/spicedb-mode-claim.js";
import { HAS_POSTGRES_SERVER, createTestDatabase, type TestDatabase } from "../support/test-database.js";

describe.skipIf(!HAS_POSTGRES_SERVER)("the embedded SpiceDB over a PostgreSQL database", () => {
  let database: TestDatabase;
  let dataDir: string;
  const started: Service[] = [];

  const start = async () => {
    const config = loadConfig({ KARTOGRAPH_DB_URL: database.url ?? "", KARTOGRAPH_DATA_DIR: dataDir, LOG_LEVEL: "silent" });
    const service = await createService(config, createLogger("silent", { pretty: false }), { migrate: false });
    started.push(service);
    return service;
  };

  beforeAll(async () => {
    database = await createTestDatabase("postgres");
    dataDir = mkdtempSync(join(tmpdir(), "kiam-claim-"));
  });
  afterAll(async () => {
    for (const service of started) await service.close();
    await database?.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("is one process's: a second one stops at start, pointing at SPICEDB_ENDPOINT", async () => {
    const first = await start();
    const second = start();
    await expect(second).rejects.toBeInstanceOf(SpiceDbModeConflictError);
    await expect(second).rejects.toThrow(/set SPICEDB_ENDPOINT/);
    // The first one is unharmed.
    expect((await first.server.inject("/health/ready")).statusCode).toBe(200);
  });

  it("is free again once that process stops", async () => {
    await started.shift()?.close();
    const next = await start();
    expect((await next.server.inject("/health/ready")).statusCode).toBe(200);
    await started.shift()?.close();
  });

  describe("beside processes with a shared SpiceDB", () => {
    const claims: SpiceDbModeClaim[] = [];
    const claim = async (mode: "embedded" | "remote") => {
      const held = await claimSpiceDbMode(loadConfig({ KARTOGRAPH_DB_URL: database.url ?? "" }).database, mode);
      if (held !== null) claims.push(held);
      return held;
    };
    afterAll(async () => {
      for (const held of claims) await held.release();
    });

    it("lets any number of them share the database", async () => {
      expect(await claim("remote")).not.toBeNull();
      expect(await claim("remote")).not.toBeNull();
    });

    it("refuses an in-process SpiceDB there, pointing at their SPICEDB_ENDPOINT", async () => {
      await expect(claim("embedded")).rejects.toThrow(/through a shared SpiceDB.*set SPICEDB_ENDPOINT to the same SpiceDB/);
      await expect(start()).rejects.toBeInstanceOf(SpiceDbModeConflictError);
    });

    it("refuses them while an in-process SpiceDB serves the database, and frees it when they stop", async () => {
      for (const held of claims.splice(0)) await held.release();
      const embedded = await claim("embedded");
      await expect(claim("remote")).rejects.toThrow(/own in-process SpiceDB.*start it with SPICEDB_ENDPOINT/);
      await embedded?.release();
      claims.splice(claims.indexOf(embedded as SpiceDbModeClaim), 1);
      expect(await claim("remote")).not.toBeNull();
    });
  });
});
