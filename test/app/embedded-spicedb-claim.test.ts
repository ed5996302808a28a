/**
 * An in-process SpiceDB knows only what its own process applied: two processes each with their own
 * on one PostgreSQL database answered from stale indexes (a removed member kept reading for 45 s).
 * The second one now refuses to start, with one line saying what to do instead.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createService, SharedEmbeddedSpiceDbError, type Service } from "../../src/app.js";
import { loadConfig } from "../../src/platform/config/config.js";
import { createLogger } from "../../src/platform/logging/logger.js";
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
    await expect(second).rejects.toBeInstanceOf(SharedEmbeddedSpiceDbError);
    await expect(second).rejects.toThrow(/set SPICEDB_ENDPOINT/);
    // The first one is unharmed.
    expect((await first.server.inject("/health/ready")).statusCode).toBe(200);
  });

  it("is free again once that process stops", async () => {
    await started.shift()?.close();
    const next = await start();
    expect((await next.server.inject("/health/ready")).statusCode).toBe(200);
  });
});
