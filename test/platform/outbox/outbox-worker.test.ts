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
import { RecordingOutboxProbe } from "../../support/recording-outbox.js";
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
  return new OutboxWorker(database, dispatcher, probe, { pollIntervalMs: listen ? 60_000 : 50, listen });
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

  it("falls back to polling when notifications are off", async () => {
    const journal: { worker: string; entry: OutboxEntry }[] = [];
    const worker = workerOver(database.handle, "w", journal, false);
    workers.push(worker);
    await worker.start();
    await database.handle.db.transaction((tx) => appendOutboxEntries(tx, entries(4)));
    await waitFor(async () => (await pending(database.handle)) === 0);
    expect(journal).toHaveLength(4);
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
