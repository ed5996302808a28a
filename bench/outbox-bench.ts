/**
 * The relationship sync on the embedded default (PGlite + in-process SpiceDB): lag from commit to
 * the permission being applied by the worker (NOTIFY and poll-only), sustained apply throughput,
 * decision-cache hits and misses next to the raw embedded check, and loading 100,000
 * relationships at start.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { loadConfig } from "../src/platform/config/config.js";
import { queryRows, type DatabaseHandle } from "../src/platform/database/database.js";
import { migratePglite, openPglite } from "../src/platform/database/pglite-database.js";
import { createLogger } from "../src/platform/logging/logger.js";
import type { OutboxProbe } from "../src/platform/outbox/outbox-probe.js";
import { startSpiceDb, type SpiceDbEngine } from "../src/platform/spicedb/spicedb-engine.js";
import { DrizzleUnitOfWork } from "../src/iam/infrastructure/drizzle-unit-of-work.js";
import type { IamEvent } from "../src/iam/domain/events.js";
import { createOutboxRuntime, loadEmbeddedSpiceDb } from "../src/outbox-runtime.js";
import { median, percentile, sleep, timeMs, type BenchResult, type BenchScenario } from "./bench-kit.js";

const TENANT = "01J0000000000000000BENCHT1";
const WORKSPACE = "01J0000000000000000BENCHW1";
const silent = createLogger("silent", { pretty: false });

/** Notes when the worker committed entries, so lag needs no polling from the measuring side. */
class TimingProbe implements OutboxProbe {
  appliedAt: number[] = [];
  entriesApplied(): void {
    this.appliedAt.push(performance.now());
  }
  entryFailed(): void {}
  entryDeadLettered(): void {}
  drainFailed(): void {}
  entriesPurged(): void {}
  workerStarted(): void {}
  workerStopped(): void {}
}

const memberAdded = (userId: string): IamEvent => ({
  type: "WorkspaceMemberAdded",
  tenantId: TENANT,
  occurredAt: new Date(),
  workspaceId: WORKSPACE,
  memberId: userId,
  memberType: "user",
  role: "editor",
});

async function embedded(): Promise<{ database: DatabaseHandle; spicedb: SpiceDbEngine; close(): Promise<void> }> {
  const database = await openPglite(null);
  await migratePglite(database);
  const spicedb = await startSpiceDb({ endpoint: null, presharedKey: "", useTls: false, certPath: null });
  return { database, spicedb, close: async () => (spicedb.close(), await database.close()) };
}

async function lag(listen: boolean, commits: number, pollSeconds: number): Promise<number[]> {
  const { database, spicedb, close } = await embedded();
  try {
    const probe = new TimingProbe();
    const config = loadConfig({ LOG_LEVEL: "silent", KARTOGRAPH_OUTBOX_POLL_INTERVAL_SECONDS: String(pollSeconds) });
    const runtime = await createOutboxRuntime(config, database, spicedb, silent, { probe, listen });
    // No inline drain: this measures the worker alone, not the request's own read-your-writes path.
    const commitsOnly = new DrizzleUnitOfWork(database.db, null);
    await runtime.worker.start();
    const lags: number[] = [];
    for (let i = 0; i < commits; i++) {
      const before = probe.appliedAt.length;
      await commitsOnly.run(async (tx) => tx.record(memberAdded(`lag-user-${i}`)));
      const committedAt = performance.now();
      while (probe.appliedAt.length === before) await sleep(listen ? 0 : 5);
      lags.push((probe.appliedAt[before] ?? committedAt) - committedAt);
      await sleep(2);
    }
    await runtime.worker.stop();
    return lags;
  } finally {
    await close();
  }
}

const lagScenario: BenchScenario = {
  name: "outbox-lag",
  async run(): Promise<BenchResult[]> {
    const notify = await lag(true, 300, 30);
    const poll = await lag(false, 20, 1);
    return [
      { metric: "commit → applied by worker, NOTIFY, p50", value: median(notify), unit: "ms", note: "goal < 10 ms; 300 commits" },
      { metric: "commit → applied by worker, NOTIFY, p99", value: percentile(notify, 99), unit: "ms", note: "goal < 100 ms" },
      { metric: "commit → applied by worker, poll only (1 s), p50", value: median(poll), unit: "ms", note: "20 commits" },
      { metric: "commit → applied by worker, poll only (1 s), p99", value: percentile(poll, 99), unit: "ms" },
    ];
  },
};

const throughputScenario: BenchScenario = {
  name: "outbox-throughput",
  async run(): Promise<BenchResult[]> {
    const { database, spicedb, close } = await embedded();
    try {
      const events = 20_000;
      const commitsOnly = new DrizzleUnitOfWork(database.db, null);
      for (let i = 0; i < events; i += 500) {
        await commitsOnly.run(async (tx) => {
          for (let j = i; j < i + 500; j++) tx.record(memberAdded(`tp-user-${j}`));
        });
      }
      const probe = new TimingProbe();
      const config = loadConfig({ LOG_LEVEL: "silent", KARTOGRAPH_OUTBOX_BATCH_SIZE: "1000" });
      const runtime = await createOutboxRuntime(config, database, spicedb, silent, { probe });
      const ms = await timeMs(async () => {
        await runtime.worker.start();
        for (;;) {
          const rows = await queryRows<{ n: string }>(database.db, sql`SELECT count(*) AS n FROM outbox WHERE processed_at IS NULL`);
          if (Number(rows[0]?.n) === 0) break;
          await sleep(20);
        }
      });
      await runtime.worker.stop();
      return [{ metric: `apply ${events.toLocaleString("en-US")} queued events`, value: events / (ms / 1000), unit: "events/s", note: "goal ≥ 2,000/s" }];
    } finally {
      await close();
    }
  },
};

const cacheScenario: BenchScenario = {
  name: "decision-cache",
  async run(): Promise<BenchResult[]> {
    const { database, spicedb, close } = await embedded();
    try {
      const config = loadConfig({ LOG_LEVEL: "silent" });
      const runtime = await createOutboxRuntime(config, database, spicedb, silent);
      await runtime.unitOfWork.run(async (tx) => {
        for (let i = 0; i < 100; i++) tx.record(memberAdded(`cache-user-${i}`));
      });
      const check = (i: number) => ({
        resource: { type: "workspace", id: WORKSPACE },
        permission: "edit",
        subject: { type: "user", id: `cache-user-${i % 100}` },
      });
      const raw = 2_000;
      const rawMs = await timeMs(async () => {
        for (let i = 0; i < raw; i++) await spicedb.authorization.check(check(i), { kind: "full" });
      });
      const hits = 200_000;
      for (let i = 0; i < 100; i++) await runtime.authorization.check(check(i));
      const hitMs = await timeMs(async () => {
        for (let i = 0; i < hits; i++) await runtime.authorization.check(check(i));
      });
      const misses = 2_000;
      let revision = runtime.tracker.current().revision;
      const missMs = await timeMs(async () => {
        for (let i = 0; i < misses; i++) {
          // A new revoking revision every time: every check is a miss that goes to SpiceDB with the ZedToken.
          revision++;
          runtime.tracker.observe({ revision, zedToken: runtime.tracker.current().zedToken, revokedRevision: revision });
          await runtime.authorization.check(check(i));
        }
      });
      const rawRate = raw / (rawMs / 1000);
      return [
        { metric: "cached decisions (hits)", value: hits / (hitMs / 1000), unit: "checks/s", baseline: { label: "raw embedded check, full consistency", value: rawRate }, note: "goal ≥ 20,000/s" },
        { metric: "cache miss (ZedToken consistency)", value: (missMs / misses) * 1000, unit: "µs/check", baseline: { label: "raw embedded check", value: (rawMs / raw) * 1000 } },
      ];
    } finally {
      await close();
    }
  },
};

const loadScenario: BenchScenario = {
  name: "embedded-load-100k",
  async run(): Promise<BenchResult[]> {
    const dir = mkdtempSync(join(tmpdir(), "kiam-bench-load-"));
    try {
      const database = await openPglite(dir);
      await migratePglite(database);
      // 1 tenant, 25,000 workspaces (workspace#tenant + workspace#parent) and 50,000 grants = 100,000 relationships.
      await queryRows(database.db, sql`INSERT INTO tenants (id, name) VALUES (${TENANT}, 'bench')`);
      await queryRows(database.db, sql`INSERT INTO users (id, username) SELECT 'u' || g, 'user' || g FROM generate_series(1, 50000) g`);
      await queryRows(database.db, sql`INSERT INTO workspaces (id, tenant_id, name, is_root) VALUES (${WORKSPACE}, ${TENANT}, 'root', true)`);
      await queryRows(
        database.db,
        sql`INSERT INTO workspaces (id, tenant_id, name, parent_workspace_id)
            SELECT '01J' || lpad(g::text, 23, '0'), ${TENANT}, 'w' || g, ${WORKSPACE} FROM generate_series(1, 24999) g`,
      );
      await queryRows(
        database.db,
        sql`INSERT INTO workspace_members (workspace_id, member_type, member_id, role)
            SELECT CASE WHEN g <= 24999 THEN '01J' || lpad(g::text, 23, '0') ELSE ${WORKSPACE} END, 'user', 'u' || g, 'member'
            FROM generate_series(1, 50000) g
            WHERE g <= 24999 OR g > 24999`,
      );
      await database.close();

      const openMs = await timeMs(async () => (await openPglite(dir)).close());
      let loaded = 0;
      let reopened: DatabaseHandle | null = null;
      let engine: SpiceDbEngine | null = null;
      const startMs = await timeMs(async () => {
        reopened = await openPglite(dir);
        engine = await startSpiceDb({ endpoint: null, presharedKey: "", useTls: false, certPath: null });
        loaded = (await loadEmbeddedSpiceDb(reopened, engine)).loaded;
      });
      (engine as SpiceDbEngine | null)?.close();
      await (reopened as DatabaseHandle | null)?.close();
      return [
        { metric: `embedded start with ${loaded.toLocaleString("en-US")} relationships (open + load)`, value: startMs, unit: "ms", baseline: { label: "PGlite open alone", value: openMs }, note: "goal < 10 s" },
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export const scenarios: BenchScenario[] = [lagScenario, throughputScenario, cacheScenario, loadScenario];
