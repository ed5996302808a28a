/**
 * A PostgreSQL server that goes away while the service runs: health turns 503, requests fail with
 * 503 (not 500), and the service recovers without a restart once the database is back.
 */
import { sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows, type DatabaseHandle } from "../../../src/platform/database/database.js";
import { openPostgres } from "../../../src/platform/database/postgres-database.js";
import { buildHttpServer, type HttpServer } from "../../../src/platform/http/http-server.js";
import { serviceHealthChecks } from "../../../src/platform/http/service-health-checks.js";
import type { SpiceDbEngine } from "../../../src/platform/spicedb/spicedb-engine.js";
import { HAS_POSTGRES_SERVER, createTestDatabase, type TestDatabase } from "../../support/test-database.js";
import { startTestSpiceDb } from "../../support/test-spicedb.js";
import { startTcpProxy, type TcpProxy } from "../../support/tcp-proxy.js";
import { captureLog, type CapturedLog } from "./http-test-kit.js";

const POOL_MAX = 4;

describe.skipIf(!HAS_POSTGRES_SERVER)("a PostgreSQL server that goes away while serving", () => {
  let database: TestDatabase;
  let spicedb: SpiceDbEngine;
  let proxy: TcpProxy;
  let handle: DatabaseHandle;
  let server: HttpServer;
  let log: CapturedLog;

  beforeAll(async () => {
    [database, spicedb] = await Promise.all([createTestDatabase("postgres"), startTestSpiceDb()]);
    const target = new URL(database.url ?? "");
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const viaProxy = new URL(target);
    viaProxy.hostname = "127.0.0.1";
    viaProxy.port = String(proxy.port);
    handle = await openPostgres({ ...database.config, url: viaProxy.toString(), poolMax: POOL_MAX });
    log = captureLog();
    server = await buildHttpServer({
      logger: log.logger,
      corsOrigins: [],
      health: serviceHealthChecks(handle, spicedb, "kartograph_graph"),
      routes: [
        (app) => {
          app.get("/test/tenants", async () => {
            const rows = await queryRows<{ count: string }>(handle.db, sql`SELECT count(*) AS count, pg_sleep(0.02) FROM tenants`);
            return { count: Number(rows[0]?.count) };
          });
        },
      ],
    });
  });
  afterAll(async () => {
    await server?.close();
    await handle?.close();
    await proxy?.close();
    await spicedb?.close();
    await database?.dispose();
  });

  /** Fills the pool with live connections, so that an outage hits connections in use and idle ones. */
  const warmPool = async () => {
    const responses = await Promise.all(Array.from({ length: POOL_MAX }, () => server.inject("/test/tenants")));
    expect(responses.map((r) => r.statusCode)).toEqual(Array(POOL_MAX).fill(200));
  };

  /** Statuses of `count` requests made until one succeeds (at most `count`). */
  const untilRecovered = async (count: number) => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < count; attempt++) {
      const response = await server.inject("/test/tenants");
      statuses.push(response.statusCode);
      if (response.statusCode === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return statuses;
  };

  it("answers 503 on health and requests while the server is unreachable, and recovers after", async () => {
    await warmPool();
    await proxy.cut();

    const during = await Promise.all(Array.from({ length: POOL_MAX + 2 }, () => server.inject("/test/tenants")));
    for (const response of during) {
      expect(response.statusCode).toBe(503);
      expect(response.json()).toEqual({ detail: "Service temporarily unavailable; please retry shortly" });
      expect(response.headers["retry-after"]).toBe("5");
    }
    const db = await server.inject("/health/db");
    expect(db.statusCode).toBe(503);
    expect(db.json()).toEqual({ detail: "Database connectivity failure: the database did not answer" });
    const ready = await server.inject("/health/ready");
    expect(ready.statusCode).toBe(503);
    expect(ready.json().checks).toEqual({ database: "unreachable", migrations: "unknown", spicedb: "ok" });
    expect((await server.inject("/health")).statusCode).toBe(200);

    await proxy.restore();
    expect((await untilRecovered(20)).at(-1)).toBe(200);
    expect((await server.inject("/health/db")).statusCode).toBe(200);
    expect((await server.inject("/health/ready")).statusCode).toBe(200);
    expect(log.records().filter((r) => r["msg"] === "unhandled error")).toEqual([]);
  });

  it("survives its sessions being terminated by the server (pg_terminate_backend): 503 at worst, then 200", async () => {
    await warmPool();
    const admin = new pg.Client({ connectionString: database.url ?? "" });
    await admin.connect();
    const name = new URL(database.url ?? "").pathname.slice(1);
    const terminated = await admin.query(
      "SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
      [name],
    );
    await admin.end();
    expect(terminated.rows.length).toBeGreaterThanOrEqual(1);

    const right = await Promise.all(Array.from({ length: POOL_MAX }, () => server.inject("/test/tenants")));
    for (const response of right) expect([200, 503]).toContain(response.statusCode);
    expect((await untilRecovered(20)).at(-1)).toBe(200);
    expect((await server.inject("/health/ready")).statusCode).toBe(200);
    expect(log.records().filter((r) => r["msg"] === "unhandled error")).toEqual([]);
  });
});
