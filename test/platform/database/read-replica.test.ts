/**
 * KARTOGRAPH_DB_READ_URL against a real streaming replica of the test server: read-only requests
 * read there once it has replayed to their fence, never older state than a write that returned
 * before them, whether the replica keeps up, is paused, or stops and starts again.
 *
 * One file, run in order: pausing or stopping the shared replica must not meet another suite.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "../../../src/platform/database/database.js";
import { openPostgres } from "../../../src/platform/database/postgres-database.js";
import type { SpiceDbEngine } from "../../../src/platform/spicedb/spicedb-engine.js";
import { parsePrometheusText, sampleValue } from "../../support/prometheus-text.js";
import { createTestDatabase, type TestDatabase } from "../../support/test-database.js";
import { startTestIamServer, type TestIamServer } from "../../support/test-iam-server.js";
import { startTestIdentity, type TestIdentity } from "../../support/test-identity.js";
import {
  CAN_STOP_REPLICA,
  TEST_REPLICA_URL,
  openWithReplica,
  pauseReplay,
  resumeReplay,
  startReplica,
  stopReplica,
} from "../../support/test-replica.js";
import { startTestSpiceDb } from "../../support/test-spicedb.js";

/** Create-then-get sequences per scenario, and how many run at once. */
const SEQUENCES = 1_000;
const CONCURRENCY = 20;

describe.skipIf(TEST_REPLICA_URL === null)("reads on a streaming replica", () => {
  let database: TestDatabase;
  let handle: DatabaseHandle;
  let spicedb: SpiceDbEngine;
  let identity: TestIdentity;
  let app: TestIamServer;
  let root = "";

  const call = async (method: "GET" | "POST", url: string, payload?: object) =>
    app.server.inject({ method, url, headers: { authorization: `Bearer ${await identity.tokenFor("alice")}` }, ...(payload ? { payload } : {}) });

  const reads = async () => {
    const samples = parsePrometheusText((await app.server.inject({ method: "GET", url: "/metrics" })).body);
    const count = (servedBy: string, reason: string) => sampleValue(samples, "kartograph_db_reads_total", { served_by: servedBy, reason });
    return {
      replica: count("replica", "fence_reached"),
      fenceTimeout: count("primary", "fence_timeout"),
      unavailable: count("primary", "replica_unavailable"),
      failed: count("primary", "replica_failed"),
    };
  };

  const readiness = async () => (await app.server.inject({ method: "GET", url: "/health/ready" })).json<{ status: string; replica?: { state: string; lag_bytes: number | null } }>();

  /** `count` sequences of create, then at once get, `CONCURRENCY` at a time; the statuses that were not 201 then 200. */
  const createThenGet = async (count: number, onEach?: (done: number) => Promise<void>) => {
    const wrong: string[] = [];
    let next = 0;
    let done = 0;
    const lane = async () => {
      while (next < count) {
        const n = next++;
        const created = await call("POST", "/iam/workspaces", { name: `ws-${n}-${Math.random()}`, parent_workspace_id: root });
        if (created.statusCode !== 201) {
          wrong.push(`create ${created.statusCode} ${created.body}`);
          continue;
        }
        const id = created.json<{ id: string }>().id;
        const got = await call("GET", `/iam/workspaces/${id}`);
        if (got.statusCode !== 200) wrong.push(`get ${got.statusCode} ${got.body}`);
        await onEach?.(++done);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, lane));
    return wrong;
  };

  /** Whether, within 20 s, some create-then-get finds its read served by the replica again (the monitor checks every second, and a resumed replica first replays what it missed). */
  const readsComeBackToReplica = async () => {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const mark = (await reads()).replica;
      expect(await createThenGet(20)).toEqual([]);
      // And reads with no write of their own just before: on a loaded machine a replica that has
      // just come back may stay more than the fence's 50 ms behind every write, while a read whose
      // fence stands still is served by it as soon as it has caught up.
      for (let i = 0; i < 5; i++) expect((await call("GET", "/iam/workspaces")).statusCode).toBe(200);
      if ((await reads()).replica > mark) return true;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return false;
  };

  beforeAll(async () => {
    [database, spicedb, identity] = await Promise.all([createTestDatabase("postgres"), startTestSpiceDb(), startTestIdentity()]);
    handle = await openWithReplica(database);
    app = await startTestIamServer({ database: handle, spicedb, identity, env: { KARTOGRAPH_IAM_BOOTSTRAP_ADMIN_USERNAMES: '["alice"]' } });
    const listed = (await call("GET", "/iam/workspaces")).json<{ workspaces: { id: string; parent_workspace_id: string | null }[] }>();
    root = listed.workspaces.find((w) => w.parent_workspace_id === null)!.id;
  }, 60_000);

  afterAll(async () => {
    await resumeReplay().catch(() => undefined);
    await app?.close();
    await handle?.close();
    await identity?.close();
    await spicedb?.close();
    await database?.dispose();
  });

  it("serves a read-only request's reads from the replica once it has replayed to the request's fence", async () => {
    expect(handle.replica).not.toBeNull();
    const before = await reads();
    const wrong = await createThenGet(SEQUENCES);
    expect(wrong).toEqual([]);
    const after = await reads();
    // Most gets find the replica caught up within the fence timeout; each of the others went to the primary.
    expect(after.replica - before.replica).toBeGreaterThan(SEQUENCES / 2);
    const ready = await readiness();
    expect(ready.status).toBe("ok");
    expect(ready.replica?.state).toMatch(/^(ok|lagging)$/);
  }, 120_000);

  it("sends every read to the primary while replay is paused, answers them all correctly, and says so", async () => {
    await pauseReplay();
    try {
      const before = await reads();
      const wrong = await createThenGet(SEQUENCES);
      expect(wrong).toEqual([]);
      const after = await reads();
      expect(after.replica - before.replica).toBe(0);
      expect(after.fenceTimeout - before.fenceTimeout).toBeGreaterThanOrEqual(SEQUENCES);
      const ready = await readiness();
      expect(ready.status).toBe("ok");
      expect(ready.replica?.state).toBe("lagging");
      expect(ready.replica?.lag_bytes).toBeGreaterThan(0);
    } finally {
      await resumeReplay();
    }
    // Once it has replayed what it missed, the replica serves reads again.
    expect(await readsComeBackToReplica()).toBe(true);
  }, 180_000);

  it.skipIf(!CAN_STOP_REPLICA)("answers every request while the replica stops and starts, and reads move back to it", async () => {
    const before = await reads();
    let stopped = false;
    const wrong = await createThenGet(300, async (done) => {
      if (done === 100 && !stopped) {
        stopped = true;
        stopReplica();
        const down = await readiness();
        expect(down.status).toBe("degraded");
        expect(down.replica?.state).toBe("unreachable");
      }
      if (done === 200) startReplica();
    });
    expect(wrong).toEqual([]);
    const during = await reads();
    expect(during.unavailable + during.failed - before.unavailable - before.failed).toBeGreaterThan(0);
    expect(await readsComeBackToReplica()).toBe(true);
    expect((await readiness()).replica?.state).toMatch(/^(ok|lagging)$/);
  }, 180_000);

  it("keeps reads on the primary, with a warning, when KARTOGRAPH_DB_READ_URL points at the primary itself", async () => {
    const same = await openPostgres({ ...database.config, url: database.url!, readUrl: database.url! });
    try {
      expect(same.replica).toBeNull();
      expect(same.readDb).toBe(same.db);
      expect(same.notices).toEqual(["KARTOGRAPH_DB_READ_URL points at the primary itself; every read goes to the primary"]);
    } finally {
      await same.close();
    }
  });

  it("refuses a read URL that names another database on the replica", async () => {
    // TEST_REPLICA_URL names the replica's "postgres" database, not this test's.
    await expect(openWithReplica(database, { readUrl: TEST_REPLICA_URL! })).rejects.toThrow(/names the database "postgres" on the replica.*Name the same database in both/);
  });

  it("starts with reads on the primary when the replica does not answer, and says so", async () => {
    const unreachable = await openWithReplica(database, { readUrl: "postgresql://nobody:nothing@127.0.0.1:9/none" });
    try {
      expect(unreachable.notices[0]).toMatch(/^KARTOGRAPH_DB_READ_URL does not answer/);
      expect(unreachable.replica?.monitor.isUsable()).toBe(false);
      expect((await unreachable.replica!.health()).state).toBe("unreachable");
    } finally {
      await unreachable.close();
    }
  });
});
