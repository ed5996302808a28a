import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../../src/platform/database/database.js";
import { AuthzRevisionTracker } from "../../../src/platform/outbox/authz-revision.js";
import { NOTHING_WRITTEN, type HandledWrite, type NewOutboxEntry, type OutboxEntry, type OutboxHandler } from "../../../src/platform/outbox/outbox-entry.js";
import { OutboxDispatcher } from "../../../src/platform/outbox/outbox-dispatcher.js";
import { appendOutboxEntries } from "../../../src/platform/outbox/outbox-store.js";
import { OutboxWorker } from "../../../src/platform/outbox/outbox-worker.js";
import { openPostgres } from "../../../src/platform/database/postgres-database.js";
import type { DatabaseHandle } from "../../../src/platform/database/database.js";
import { RecordingHandler, RecordingOutboxProbe } from "../../support/recording-outbox.js";
import { HAS_POSTGRES_SERVER, TEST_DATABASE_KINDS, createTestDatabase, type TestDatabase } from "../../support/test-database.js";

const TENANTS = ["01J000000000000000000000T1", "01J000000000000000000000T2", "01J000000000000000000000T3"];

/** Counts every invocation per entry, and which worker made it. */
class CountingHandler implements OutboxHandler {
  readonly eventTypes = ["Counted"];
  constructor(
    readonly name: string,
    private readonly journal: { worker: string; entry: OutboxEntry }[],
  ) {}
  async handle(entries: readonly OutboxEntry[]): Promise<HandledWrite> {
    // Yield so that two workers genuinely interleave.
    await new Promise((resolve) => setImmediate(resolve));
    for (const entry of entries) this.journal.push({ worker: this.name, entry });
    return NOTHING_WRITTEN;
  }
}

function entries(count: number): NewOutboxEntry[] {
  return Array.from({ length: count }, (_, n) => ({
    tenantId: TENANTS[n % TENANTS.length] ?? "",
    aggregateType: "test",
    aggregateId: `agg-${n % 7}`,
    eventType: "Counted",
    payload: { n },
    occurredAt: new Date(),
  }));
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the outbox to drain");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const pending = async (database: DatabaseHandle) =>
  Number(
    (await queryRows<{ n: string }>(database.db, sql`SELECT count(*) AS n FROM outbox WHERE processed_at IS NULL`))[0]?.n,
  );

function workerOver(database: DatabaseHandle, name: string, journal: { worker: string; entry: OutboxEntry }[], listen: boolean) {
  const probe = new RecordingOutboxProbe();
  const dispatcher = new OutboxDispatcher(database.db, [new CountingHandler(name, journal)], new AuthzRevisionTracker(), probe, {
    batchSize: 25,
    maxRetries: 3,
    backoff: { baseMs: 5, maxMs: 50 },
  });
  // No grace after a NOTIFY: nothing here drains its own entries, and two workers must race.
  return new OutboxWorker(database, dispatcher, probe, { pollIntervalMs: listen ? 60_000 : 50, listen, writerGraceMs: 0 });
}

describe.each(TEST_DATABASE_KINDS)("outbox worker on %s", (kind) => {
  let database: TestDatabase;
  const workers: OutboxWorker[] = [];

  beforeAll(async () => {
    database = await createTestDatabase(kind);
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    await queryRows(database.handle.db, sql`DELETE FROM outbox`);
  });
  afterAll(async () => {
    await database?.dispose();
  });

  it("wakes on NOTIFY and applies new entries without waiting for a poll", async () => {
    const journal: { worker: string; entry: OutboxEntry }[] = [];
    const worker = workerOver(database.handle, "w", journal, true);
    workers.push(worker);
    await worker.start();
    await database.handle.db.transaction((tx) => appendOutboxEntries(tx, entries(6)));
    // The poll interval is a minute: only the notification can explain a drain within seconds.
    await waitFor(async () => (await pending(database.handle)) === 0, 10_000);
    expect(journal).toHaveLength(6);
  });

  const slowGraceWorker = (dispatcher: OutboxDispatcher, probe: RecordingOutboxProbe) =>
    new OutboxWorker(database.handle, dispatcher, probe, { pollIntervalMs: 60_000, listen: true, writerGraceMs: 60_000 });

  it("drains a notified tenant at once when no writer of this process is draining it", async () => {
    const journal: { worker: string; entry: OutboxEntry }[] = [];
    const probe = new RecordingOutboxProbe();
    const dispatcher = new OutboxDispatcher(database.handle.db, [new CountingHandler("w", journal)], new AuthzRevisionTracker(), probe, {
      batchSize: 25,
      maxRetries: 3,
      backoff: { baseMs: 5, maxMs: 50 },
    });
    const worker = slowGraceWorker(dispatcher, probe);
    workers.push(worker);
    await worker.start();
    await database.handle.db.transaction((tx) => appendOutboxEntries(tx, entries(3)));
    // A minute of grace and of poll interval: only an immediate look explains this.
    await waitFor(async () => (await pending(database.handle)) === 0, 10_000);
    expect(journal).toHaveLength(3);
  });

  // PGlite runs one transaction at a time: nothing else can commit while a drain is held open.
  it.skipIf(kind === "pglite")("leaves a tenant that a writer of this process is draining to that writer, looking again after the grace period", async () => {
    const handler = new RecordingHandler("writer", ["Counted"]);
    const held = handler.hold();
    const probe = new RecordingOutboxProbe();
    const dispatcher = new OutboxDispatcher(database.handle.db, [handler], new AuthzRevisionTracker(), probe, {
      batchSize: 25,
      maxRetries: 3,
      backoff: { baseMs: 5, maxMs: 50 },
    });
    const tenant = TENANTS[0] ?? "";
    const one = (n: number) => [{ ...entries(1)[0]!, tenantId: tenant, payload: { n } }];

    const own = await database.handle.db.transaction((tx) => appendOutboxEntries(tx, one(0)));
    const writer = dispatcher.drainThrough(tenant, own.get(tenant) ?? 0);
    await held.entered;
    // Listening only now: the writer's own NOTIFY must not reach the worker before it drains.
    const worker = slowGraceWorker(dispatcher, probe);
    workers.push(worker);
    await worker.start();
    // Commits of other writers notify while this process is draining the tenant.
    for (let n = 1; n <= 3; n++) await database.handle.db.transaction((tx) => appendOutboxEntries(tx, one(n)));
    await new Promise((resolve) => setTimeout(resolve, 300));
    held.release();
    expect(await writer).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 500));
    // The held drain had claimed only its own entry; the worker has not raced for the others.
    expect(handler.seen.map((e) => e.payload["n"])).toEqual([0]);
    expect(await pending(database.handle)).toBe(3);
  });

  it("retries a tenant whose drain failed (database away) within a second, not at the next poll", async () => {
    const journal: { worker: string; entry: OutboxEntry }[] = [];
    const probe = new RecordingOutboxProbe();
    /** The database is away for the first two drains. */
    class BlippingDispatcher extends OutboxDispatcher {
      failuresLeft = 2;
      override drain(...args: Parameters<OutboxDispatcher["drain"]>) {
        if (this.failuresLeft-- > 0) return Promise.reject(new Error("Connection terminated unexpectedly"));
        return super.drain(...args);
      }
    }
    const dispatcher = new BlippingDispatcher(database.handle.db, [new CountingHandler("w", journal)], new AuthzRevisionTracker(), probe, {
      batchSize: 25,
      maxRetries: 3,
      backoff: { baseMs: 5, maxMs: 50 },
    });
    const worker = new OutboxWorker(database.handle, dispatcher, probe, { pollIntervalMs: 60_000, listen: false, writerGraceMs: 0 });
    workers.push(worker);
    await database.handle.db.transaction((tx) => appendOutboxEntries(tx, entries(3)));
    const started = Date.now();
    await worker.start(); // its first poll finds the tenants; their drains fail twice
    await waitFor(async () => (await pending(database.handle)) === 0, 10_000);
    // 250 ms, then 500 ms: well inside a minute's poll.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(probe.events.filter((e) => e.name === "drainFailed").length).toBeGreaterThanOrEqual(2);
  });

  it("falls back to polling when notifications are off", async () => {
    const journal: { worker: string; entry: OutboxEntry }[] = [];
    const worker = workerOver(database.handle, "w", journal, false);
    workers.push(worker);
    await worker.start();
    await database.handle.db.transaction((tx) => appendOutboxEntries(tx, entries(4)));
    await waitFor(async () => (await pending(database.handle)) === 0);
    expect(journal).toHaveLength(4);
  });

  /** A polling worker (every 20 ms) with the given retention, purging at every poll. */
  async function startRetainingWorker(probe: RecordingOutboxProbe, retentionHours: number): Promise<void> {
    const dispatcher = new OutboxDispatcher(database.handle.db, [new CountingHandler("w", [])], new AuthzRevisionTracker(), probe, {
      batchSize: 25,
      maxRetries: 3,
      backoff: { baseMs: 5, maxMs: 50 },
    });
    const worker = new OutboxWorker(database.handle, dispatcher, probe, { pollIntervalMs: 20, listen: false, retentionHours, purgeEveryMs: 0 });
    workers.push(worker);
    await worker.start();
  }

  it("deletes applied entries past their retention, and keeps recent ones, pending ones and dead letters", async () => {
    await database.handle.db.transaction((tx) => appendOutboxEntries(tx, entries(8)));
    // Entries 0-3: applied two days ago; 4: applied now; 5: dead letter from two days ago; 6-7: pending.
    await queryRows(
      database.handle.db,
      sql`UPDATE outbox SET processed_at = now() - interval '2 days' WHERE (payload->>'n')::int < 4`,
    );
    await queryRows(database.handle.db, sql`UPDATE outbox SET processed_at = now() WHERE (payload->>'n')::int = 4`);
    await queryRows(
      database.handle.db,
      sql`UPDATE outbox SET failed_at = now() - interval '2 days', next_attempt_at = now() + interval '1 day'
          WHERE (payload->>'n')::int = 5`,
    );
    // Pending entries wait for the future, so the worker leaves them where they are.
    await queryRows(database.handle.db, sql`UPDATE outbox SET next_attempt_at = now() + interval '1 day' WHERE (payload->>'n')::int > 5`);
    const probe = new RecordingOutboxProbe();
    await startRetainingWorker(probe, 24);
    await waitFor(async () => probe.named("entriesPurged").length > 0);
    const left = await queryRows<{ n: number }>(database.handle.db, sql`SELECT (payload->>'n')::int AS n FROM outbox ORDER BY sequence`);
    expect(left.map((row) => Number(row.n))).toEqual([4, 5, 6, 7]);
    expect(probe.named("entriesPurged")[0]?.fields).toEqual({ count: 4, olderThanHours: 24 });
  });

  it("keeps applied entries forever when retention is 0", async () => {
    await database.handle.db.transaction((tx) => appendOutboxEntries(tx, entries(3)));
    await queryRows(database.handle.db, sql`UPDATE outbox SET processed_at = now() - interval '400 days'`);
    const probe = new RecordingOutboxProbe();
    await startRetainingWorker(probe, 0);
    // Several polls go by.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(probe.named("entriesPurged")).toEqual([]);
    expect(await queryRows(database.handle.db, sql`SELECT id FROM outbox`)).toHaveLength(3);
  });
});

describe.skipIf(!HAS_POSTGRES_SERVER)("two workers over one PostgreSQL outbox", () => {
  let database: TestDatabase;
  let second: DatabaseHandle;

  beforeAll(async () => {
    database = await createTestDatabase("postgres");
    // A second pool and LISTEN session: as separate as another process.
    second = await openPostgres({ ...database.config, url: database.url ?? "" });
  });
  afterAll(async () => {
    await second?.close();
    await database?.dispose();
  });

  it("handles every entry exactly once, in sequence order per tenant", async () => {
    const journal: { worker: string; entry: OutboxEntry }[] = [];
    const a = workerOver(database.handle, "a", journal, true);
    const b = workerOver(second, "b", journal, true);
    await Promise.all([a.start(), b.start()]);
    // Many small transactions, as requests would commit them.
    const all = entries(300);
    for (let i = 0; i < all.length; i += 10) {
      await database.handle.db.transaction((tx) => appendOutboxEntries(tx, all.slice(i, i + 10)));
    }
    await waitFor(async () => (await pending(database.handle)) === 0);
    await Promise.all([a.stop(), b.stop()]);

    const handled = journal.map((j) => j.entry.sequence);
    expect(new Set(handled).size).toBe(300);
    expect(handled).toHaveLength(300);
    for (const tenant of TENANTS) {
      const order = journal.filter((j) => j.entry.tenantId === tenant).map((j) => j.entry.sequence);
      expect(order).toEqual([...order].sort((x, y) => x - y));
    }
    // Both took part (otherwise the test proves nothing about sharing).
    expect(new Set(journal.map((j) => j.worker)).size).toBe(2);
  });
});
