/**
 * The tracker's refresh is what keeps a cluster's cached decisions from predating a write that
 * returned on another process. Concurrent requests share reads, and the sharing must never hand a
 * request the answer of a read that went out before it arrived.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Queryable } from "../../../src/platform/database/database.js";
import { AuthzRevisionTracker, bumpAuthzRevision } from "../../../src/platform/outbox/authz-revision.js";
import { createTestDatabase, TEST_DATABASE_KINDS, type TestDatabase } from "../../support/test-database.js";

/**
 * A database whose statements run at once but whose answers are held until released, in order:
 * a read that is "on the wire" has seen the database as it was when it went out.
 */
function heldAnswers(db: Queryable) {
  const held: { release: () => void }[] = [];
  const answered: Promise<unknown>[] = [];
  let started = 0;
  let failNext = false;
  const proxy = new Proxy(db, {
    get(target, property, receiver) {
      if (property !== "execute") return Reflect.get(target, property, receiver) as unknown;
      return async (...args: unknown[]) => {
        started++;
        const fail = failNext;
        failNext = false;
        const answer = fail
          ? Promise.reject(new Error("connection terminated"))
          : // Drizzle's query is a thenable that runs again on every `then`: run it exactly once.
            Promise.resolve((target.execute as (...a: unknown[]) => PromiseLike<unknown>).apply(target, args));
        answered.push(answer.catch(() => undefined));
        await new Promise<void>((release) => held.push({ release }));
        return answer;
      };
    },
  });
  return {
    db: proxy,
    started: () => started,
    /** Resolves once every read sent so far has been answered by the database (still held). */
    answeredSoFar: () => Promise.all(answered),
    failNextRead: () => {
      failNext = true;
    },
    /**
     * Lets the oldest held answer through, then lets the event loop run. A read queued behind one
     * that just ended starts a few ticks later (later still on a busy machine): wait for it.
     */
    async releaseOldest(): Promise<void> {
      for (let waited = 0; held.length === 0 && waited < 2_000; waited += 5) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const next = held.shift();
      if (next === undefined) throw new Error("no read is on the wire");
      next.release();
      await new Promise((resolve) => setTimeout(resolve, 10));
    },
  };
}

describe.each(TEST_DATABASE_KINDS)("AuthzRevisionTracker.refresh (%s)", (kind) => {
  let database: TestDatabase;
  let tracker: AuthzRevisionTracker;

  beforeEach(async () => {
    database = await createTestDatabase(kind);
    tracker = new AuthzRevisionTracker();
  });

  afterEach(async () => {
    await database.dispose();
  });

  it("never answers a caller with a read that went out before it arrived", async () => {
    const wire = heldAnswers(database.handle.db);
    const early = tracker.refresh(wire.db);
    await wire.answeredSoFar();
    // A write returns elsewhere while the early read is on the wire; then a request arrives here.
    const written = await bumpAuthzRevision(database.handle.db, null, true);
    const late = tracker.refresh(wire.db);

    await wire.releaseOldest();
    expect((await early).revision).toBe(written.revision - 1);
    expect(wire.started()).toBe(2);
    await wire.releaseOldest();
    expect((await late).revision).toBe(written.revision);
    expect(tracker.current().revision).toBe(written.revision);
  });

  it("serves everyone who arrived during one read with a single next read", async () => {
    const wire = heldAnswers(database.handle.db);
    const first = tracker.refresh(wire.db);
    await wire.answeredSoFar();
    const written = await bumpAuthzRevision(database.handle.db, null, false);
    const waiting = [tracker.refresh(wire.db), tracker.refresh(wire.db), tracker.refresh(wire.db)];

    await wire.releaseOldest();
    await first;
    await wire.releaseOldest();
    const answers = await Promise.all(waiting);
    expect(answers.map((a) => a.revision)).toEqual([written.revision, written.revision, written.revision]);
    expect(wire.started()).toBe(2);
  });

  it("reads once per caller when callers do not overlap", async () => {
    const wire = heldAnswers(database.handle.db);
    for (let i = 0; i < 3; i++) {
      const refreshed = tracker.refresh(wire.db);
      await wire.releaseOldest();
      await refreshed;
    }
    expect(wire.started()).toBe(3);
  });

  it("fails the callers of a failed read and starts afresh for the next one", async () => {
    const wire = heldAnswers(database.handle.db);
    wire.failNextRead();
    const failing = tracker.refresh(wire.db);
    const waiting = tracker.refresh(wire.db);
    const failed = expect(failing).rejects.toThrow("connection terminated");
    await wire.releaseOldest();
    await failed;
    // The read queued behind the failed one still goes out and answers.
    await wire.releaseOldest();
    expect((await waiting).revision).toBe(0);

    const after = tracker.refresh(wire.db);
    await wire.releaseOldest();
    await expect(after).resolves.toMatchObject({ revision: 0 });
    expect(wire.started()).toBe(3);
  });
});
