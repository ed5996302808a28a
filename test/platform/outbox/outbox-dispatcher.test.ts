import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { queryRows } from "../../../src/platform/database/database.js";
import { postgresErrorOf } from "../../../src/platform/database/database-errors.js";
import { AuthzRevisionTracker, readAuthzRevision } from "../../../src/platform/outbox/authz-revision.js";
import type { NewOutboxEntry } from "../../../src/platform/outbox/outbox-entry.js";
import { OutboxDispatcher } from "../../../src/platform/outbox/outbox-dispatcher.js";
import { appendOutboxEntries, claimPending, listDeadLetters, lockTenant, redriveDeadLetters } from "../../../src/platform/outbox/outbox-store.js";
import { RecordingHandler, RecordingOutboxProbe, outboxNotificationsDuring } from "../../support/recording-outbox.js";
import { TEST_DATABASE_KINDS, createTestDatabase, type TestDatabase } from "../../support/test-database.js";

const TENANT = "01J0000000000000000000TEN1";
const OTHER_TENANT = "01J0000000000000000000TEN2";

function entry(eventType: string, tenantId = TENANT, n = 0): NewOutboxEntry {
  return { tenantId, aggregateType: "test", aggregateId: `a${n}`, eventType, payload: { n }, occurredAt: new Date() };
}

describe.each(TEST_DATABASE_KINDS)("outbox dispatcher on %s", (kind) => {
  let database: TestDatabase;
  let journal: string[];
  let first: RecordingHandler;
  let second: RecordingHandler;
  let probe: RecordingOutboxProbe;
  let tracker: AuthzRevisionTracker;
  let dispatcher: OutboxDispatcher;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await database?.dispose();
  });
  beforeEach(async () => {
    await queryRows(database.handle.db, sql`DELETE FROM outbox`);
    journal = [];
    first = new RecordingHandler("first", ["Shared", "OnlyFirst"], journal);
    second = new RecordingHandler("second", ["Shared"], journal);
    probe = new RecordingOutboxProbe();
    tracker = new AuthzRevisionTracker();
    dispatcher = new OutboxDispatcher(database.handle.db, [first, second], tracker, probe, {
      batchSize: 50,
      maxRetries: 3,
      backoff: { baseMs: 1, maxMs: 4 },
    });
  });

  const append = (entries: NewOutboxEntry[]) => database.handle.db.transaction((tx) => appendOutboxEntries(tx, entries));
  const pendingCount = async () =>
    Number(
      (
        await queryRows<{ n: string }>(
          database.handle.db,
          sql`SELECT count(*) AS n FROM outbox WHERE processed_at IS NULL AND failed_at IS NULL`,
        )
      )[0]?.n,
    );

  it("fans each entry out to every handler of its type, in registration order and sequence order", async () => {
    await append([entry("Shared", TENANT, 1), entry("OnlyFirst", TENANT, 2), entry("Shared", TENANT, 3)]);
    const result = await dispatcher.drain(TENANT, { wait: true });
    expect(result.applied).toBe(3);
    expect(first.seen.map((e) => e.payload["n"])).toEqual([1, 2, 3]);
    expect(second.seen.map((e) => e.payload["n"])).toEqual([1, 3]);
    expect(journal[0]?.startsWith("first:")).toBe(true);
    expect(await pendingCount()).toBe(0);
  });

  it("bumps the authorization revision in the same transaction and tells the tracker", async () => {
    const before = await readAuthzRevision(database.handle.db);
    await append([entry("Shared")]);
    await dispatcher.drain(TENANT, { wait: true });
    const after = await readAuthzRevision(database.handle.db);
    expect(after.revision).toBe(before.revision + 1);
    expect(tracker.current().revision).toBe(after.revision);
  });

  it("marks a revision as revoking only when a handler deleted something", async () => {
    await append([entry("Shared")]);
    await dispatcher.drain(TENANT, { wait: true });
    const granted = await readAuthzRevision(database.handle.db);
    expect(granted.revokedRevision).toBeLessThan(granted.revision);

    second.written = { token: null, revokes: true };
    await append([entry("Shared")]);
    await dispatcher.drain(TENANT, { wait: true });
    const revoked = await readAuthzRevision(database.handle.db);
    expect(revoked.revokedRevision).toBe(revoked.revision);
    expect(tracker.current()).toEqual(revoked);
  });

  it("counts a bump by a process that does not say whether it revoked (an older version) as revoking", async () => {
    await append([entry("Shared")]);
    await dispatcher.drain(TENANT, { wait: true });
    // What an older version's drain does: move the revision, nothing else.
    await queryRows(database.handle.db, sql`UPDATE authz_revision SET revision = revision + 1 WHERE id = 1`);
    const undeclared = await readAuthzRevision(database.handle.db);
    expect(undeclared.revokedRevision).toBe(undeclared.revision);
    await append([entry("Shared")]);
    await dispatcher.drain(TENANT, { wait: true });
    const next = await readAuthzRevision(database.handle.db);
    expect(next.revision).toBe(undeclared.revision + 1);
    expect(next.revokedRevision).toBe(next.revision);
  });

  it("counts a batch replayed after a failure as revoking: the failed attempt may have half-applied", async () => {
    first.failuresLeft = 1;
    first.failOn = (e) => e.payload["n"] === 2;
    await append([entry("Shared", TENANT, 1), entry("Shared", TENANT, 2)]);
    await dispatcher.drain(TENANT, { wait: true });
    const after = await readAuthzRevision(database.handle.db);
    expect(after.revokedRevision).toBe(after.revision);
  });

  // PGlite has one connection: nothing can commit while a drain's transaction is open.
  it.skipIf(kind !== "postgres")("finds entries committed while it waited for the tenant's lock due at once", async () => {
    await database.handle.db.transaction(async (tx) => {
      await queryRows(tx, sql`SELECT now()`);
      await new Promise((resolve) => setTimeout(resolve, 20));
      await append([entry("Shared")]); // another connection: committed after this transaction began
      const claimed = await claimPending(tx, TENANT, 10);
      expect(claimed.map((c) => c.due)).toEqual([true]);
    });
  });

  it.skipIf(kind !== "postgres")("gives up waiting for a tenant's lock after the timeout instead of hanging", async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked = () => {};
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holder = database.handle.db.transaction(async (tx) => {
      await lockTenant(tx, TENANT, "10s");
      locked();
      await held;
    });
    await isLocked;
    try {
      const started = Date.now();
      const failure = await database.handle.db.transaction((tx) => lockTenant(tx, TENANT, "100ms")).catch((error: unknown) => error);
      expect(postgresErrorOf(failure)?.code).toBe("55P03"); // lock_not_available
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      release();
      await holder;
    }
  });

  it("only drains the tenant it is asked for", async () => {
    await append([entry("Shared", TENANT), entry("Shared", OTHER_TENANT)]);
    await dispatcher.drain(TENANT, { wait: true });
    expect(first.seen.map((e) => e.tenantId)).toEqual([TENANT]);
    expect(await pendingCount()).toBe(1);
  });

  it("dead-letters an entry of an unknown type at once and goes on with the rest", async () => {
    await append([entry("Nobody", TENANT, 1), entry("Shared", TENANT, 2)]);
    const result = await dispatcher.drain(TENANT, { wait: true });
    expect(result.applied).toBe(1);
    const dead = await listDeadLetters(database.handle.db);
    expect(dead).toHaveLength(1);
    expect(dead[0]?.eventType).toBe("Nobody");
    expect(dead[0]?.lastError).toMatch(/No handler registered for event type Nobody/);
    expect(dead[0]?.retryCount).toBe(1);
  });

  it("retries a failing entry with growing delays, blocking those behind it, then dead-letters it", async () => {
    first.failuresLeft = 100;
    first.failOn = (e) => e.payload["n"] === 1;
    await append([entry("Shared", TENANT, 1), entry("Shared", TENANT, 2)]);

    const delays: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      // Wait out the back-off (1, 2, 4 ms) so the head is due again.
      await new Promise((resolve) => setTimeout(resolve, 10));
      const result = await dispatcher.drain(TENANT, { wait: true });
      if (attempt < 2) {
        expect(result.applied).toBe(0);
        expect(result.blockedUntil).not.toBeNull();
        expect(second.seen).toHaveLength(0);
      }
    }
    for (const failure of probe.named("entryFailed")) delays.push(Number(failure.fields["retryInMs"]));
    expect(delays).toEqual([1, 2]);
    const dead = await listDeadLetters(database.handle.db);
    expect(dead.map((d) => d.lastError)).toEqual(["first refused Shared"]);
    // Once the poison entry is out of the way, the one behind it is applied.
    expect(second.seen.map((e) => e.payload["n"])).toEqual([2]);
    expect(await pendingCount()).toBe(0);
  });

  it("never dead-letters an entry for an outage of SpiceDB, however long, and applies it when SpiceDB is back", async () => {
    first.failuresLeft = 16; // two per drain (the batch, then the head alone): 8 attempts, more than maxRetries (3)
    first.failOn = (e) => e.payload["n"] === 1;
    first.failure = () => Object.assign(new Error("SpiceDB WriteRelationships failed: 14 UNAVAILABLE"), { name: "AuthorizationUnavailableError" });
    await append([entry("Shared", TENANT, 1), entry("Shared", TENANT, 2)]);
    for (let attempt = 0; attempt < 8; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 10)); // past the back-off (at most 4 ms)
      expect((await dispatcher.drain(TENANT, { wait: true })).applied).toBe(0);
    }
    expect(await listDeadLetters(database.handle.db)).toEqual([]);
    expect(probe.named("entryFailed").map((failure) => failure.fields["retryCount"])).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // Each try waits the base delay, not a growing one: the entry applies soon after SpiceDB is back.
    expect(probe.named("entryFailed").map((failure) => failure.fields["retryInMs"])).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect((await dispatcher.drain(TENANT, { wait: true })).applied).toBe(2);
    expect(await pendingCount()).toBe(0);
  });

  it("still dead-letters a refused entry after its retries when it had waited out an outage before", async () => {
    let outage = true;
    first.failuresLeft = 100;
    first.failOn = (e) => e.payload["n"] === 1;
    first.failure = () => (outage ? Object.assign(new Error("SpiceDB is away"), { name: "AuthorizationUnavailableError" }) : new Error("refused"));
    await append([entry("Shared", TENANT, 1), entry("Shared", TENANT, 2)]);
    for (let attempt = 0; attempt < 4; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      await dispatcher.drain(TENANT, { wait: true });
    }
    expect(await listDeadLetters(database.handle.db)).toEqual([]);
    outage = false;
    await new Promise((resolve) => setTimeout(resolve, 10));
    await dispatcher.drain(TENANT, { wait: true });
    expect((await listDeadLetters(database.handle.db)).map((d) => d.lastError)).toEqual(["refused"]);
    expect(second.seen.map((e) => e.payload["n"])).toEqual([2]);
  });

  it("re-drives dead letters on request", async () => {
    await append([entry("Nobody")]);
    await dispatcher.drain(TENANT, { wait: true });
    expect(await listDeadLetters(database.handle.db)).toHaveLength(1);
    expect(await redriveDeadLetters(database.handle.db, null)).toBe(1);
    expect(await listDeadLetters(database.handle.db)).toHaveLength(0);
    expect(await pendingCount()).toBe(1);
  });

  it("applies a transient failure once it clears, nothing lost", async () => {
    // Fails the batch attempt and the one-by-one retry of the head entry: an outage, not a poison entry.
    first.failuresLeft = 2;
    await append([entry("Shared", TENANT, 1), entry("Shared", TENANT, 2)]);
    const firstTry = await dispatcher.drain(TENANT, { wait: true });
    expect(firstTry.applied).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const secondTry = await dispatcher.drain(TENANT, { wait: true });
    expect(secondTry.applied).toBe(2);
    expect(second.seen.map((e) => e.payload["n"])).toEqual([1, 2]);
    expect(await listDeadLetters(database.handle.db)).toHaveLength(0);
  });

  it("applies a request's own entries together with those committed behind them, in one handler call", async () => {
    const highest = await append([entry("Shared", TENANT, 1)]);
    await append([entry("Shared", TENANT, 2)]);
    expect(await dispatcher.drainThrough(TENANT, highest.get(TENANT) ?? 0)).toBe(true);
    expect(first.seen.map((e) => e.payload["n"])).toEqual([1, 2]);
    expect(await pendingCount()).toBe(0);
  });

  it("wakes the workers once for each tenant an insert names, and not for a writer that applies its entries itself", async () => {
    const notifiedDuring = (during: () => Promise<unknown>) => outboxNotificationsDuring(database.handle, during);
    const mixed = [entry("Shared", TENANT, 1), entry("Shared", OTHER_TENANT, 2), entry("Shared", TENANT, 3)];
    expect(await notifiedDuring(() => append(mixed))).toEqual([TENANT, OTHER_TENANT].sort());
    const applying = () => database.handle.db.transaction((tx) => appendOutboxEntries(tx, mixed, null, { writerApplies: true }));
    expect(await notifiedDuring(applying)).toEqual([]);
    expect(await pendingCount()).toBe(6);
  });

  const withBatches = (batchSize: number, writerBatchSize?: number) =>
    new OutboxDispatcher(database.handle.db, [first, second], tracker, probe, {
      batchSize,
      ...(writerBatchSize === undefined ? {} : { writerBatchSize }),
      maxRetries: 3,
      backoff: { baseMs: 1, maxMs: 4 },
    });

  it("keeps draining past full batches until the request's own entries are applied", async () => {
    const small = withBatches(2, 2);
    const highest = await append([1, 2, 3, 4, 5].map((n) => entry("OnlyFirst", TENANT, n)));
    expect(await small.drainThrough(TENANT, highest.get(TENANT) ?? 0)).toBe(true);
    expect(first.seen.map((e) => e.payload["n"])).toEqual([1, 2, 3, 4, 5]);
    expect(first.batches).toEqual([2, 2, 1]);
  });

  it("claims a writer's entries beyond the worker's batch in one drain, while the worker keeps to its batch", async () => {
    const small = withBatches(2);
    const highest = await append([1, 2, 3, 4, 5].map((n) => entry("OnlyFirst", TENANT, n)));
    expect((await small.drain(TENANT, { wait: false })).applied).toBe(2);
    expect(await small.drainThrough(TENANT, highest.get(TENANT) ?? 0)).toBe(true);
    expect(first.batches).toEqual([2, 3]);
    expect(await pendingCount()).toBe(0);
  });

  it("answers concurrent writers only once each one's own entries are applied", async () => {
    const writers = await Promise.all(
      [1, 2, 3, 4, 5, 6, 7, 8].map(async (n) => {
        const highest = await append([entry("OnlyFirst", TENANT, n)]);
        const done = await dispatcher.drainThrough(TENANT, highest.get(TENANT) ?? 0);
        // Checked the moment this writer is answered, before the others may finish the job.
        const [own] = await queryRows<{ processed: boolean }>(
          database.handle.db,
          sql`SELECT processed_at IS NOT NULL AS processed FROM outbox WHERE aggregate_id = ${`a${n}`}`,
        );
        return { done, processed: own?.processed };
      }),
    );
    expect(writers).toEqual(Array.from({ length: 8 }, () => ({ done: true, processed: true })));
    expect(first.seen.map((e) => e.payload["n"]).sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  /** A dispatcher whose database counts the transactions it opens (one per drain). */
  const countingTransactions = () => {
    let opened = 0;
    const db = new Proxy(database.handle.db, {
      get(target, property, receiver) {
        if (property === "transaction") opened++;
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    const counted = new OutboxDispatcher(db, [first, second], tracker, probe, { batchSize: 50, maxRetries: 3, backoff: { baseMs: 1, maxMs: 4 } });
    return { counted, transactions: () => opened };
  };

  it("answers a writer whose entry the drain under way had already claimed when it ends, with no drain of its own", async () => {
    const held = first.hold();
    const { counted, transactions } = countingTransactions();
    const mine = (await append([entry("OnlyFirst", TENANT, 1)])).get(TENANT) ?? 0;
    const theirs = (await append([entry("OnlyFirst", TENANT, 2)])).get(TENANT) ?? 0;

    const early = counted.drainThrough(TENANT, mine);
    await held.entered; // the drain has claimed both committed entries and is applying them
    let pendingWhenAnswered: number | null = null;
    const late = counted.drainThrough(TENANT, theirs).then(async (done) => {
      pendingWhenAnswered = await pendingCount();
      return done;
    });
    held.release();

    expect(await early).toBe(true);
    expect(await late).toBe(true);
    expect(pendingWhenAnswered).toBe(0);
    expect(first.seen.map((e) => Number(e.payload["n"]))).toEqual([1, 2]);
    expect(transactions()).toBe(1);
    // Asked again later, for an entry this process applied: nothing left to do.
    expect(await counted.drainThrough(TENANT, theirs)).toBe(true);
    expect(transactions()).toBe(1);
  });

  // PGlite runs one transaction at a time: a writer cannot commit while a drain is held open.
  it.skipIf(kind === "pglite")("makes a writer who commits during a drain wait for the next one, shared with the others", async () => {
    const held = first.hold();
    const { counted, transactions } = countingTransactions();

    const early = counted.drainThrough(TENANT, (await append([entry("OnlyFirst", TENANT, 1)])).get(TENANT) ?? 0);
    await held.entered; // the first drain has claimed entry 1 and is applying it
    const late = await Promise.all([2, 3, 4].map((n) => append([entry("OnlyFirst", TENANT, n)])));
    const answered: number[] = [];
    const waiting = late.map((highest) =>
      counted.drainThrough(TENANT, highest.get(TENANT) ?? 0).then(async (done) => {
        answered.push(await pendingCount());
        return done;
      }),
    );
    held.release();

    expect(await early).toBe(true);
    expect(await Promise.all(waiting)).toEqual([true, true, true]);
    // Nobody who committed after the first drain claimed was answered while its entry was pending.
    expect(answered).toEqual([0, 0, 0]);
    expect(first.seen.map((e) => Number(e.payload["n"])).sort()).toEqual([1, 2, 3, 4]);
    // One drain for the early writer, one shared by the three late ones.
    expect(transactions()).toBe(2);
  });
});
