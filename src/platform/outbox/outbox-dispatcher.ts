/**
 * Drains the outbox of one tenant: claims its pending entries in sequence order under the tenant's
 * advisory lock, hands them to the registered handlers (fan-out in registration order), marks them
 * processed and bumps the authorization revision, all in one transaction.
 *
 * Both the worker and a request that wants its own writes applied before it answers
 * (read-your-writes) drain through here, so there is one idempotent path. Ordering is strict per
 * tenant: a failing entry blocks the entries behind it until it succeeds or is dead-lettered, so a
 * later change is never overtaken by an earlier one; while SpiceDB is unavailable it backs off
 * (up to the policy's maximum) for as long as the outage lasts, and is never dead-lettered for it.
 * An entry SpiceDB refuses outright does not block: the handler applies the rest and reports it,
 * and it is dead-lettered at once with SpiceDB's reason.
 */
import type { AppDatabase, AppTransaction } from "../database/database.js";
import { transactionEndingWith } from "../database/transaction-ending-with.js";
import { FreshSharedRun } from "../runtime/fresh-shared-run.js";
import { RecentSet } from "../../shared-kernel/recent-set.js";
import { isUnavailableError } from "../runtime/unavailable.js";
import { bumpAuthzRevision, readAuthzRevision, type AuthzRevisionSnapshot, type AuthzRevisionTracker } from "./authz-revision.js";
import { NOTHING_WRITTEN, PoisonEntryError, type HandledWrite, type OutboxEntry, type OutboxHandler } from "./outbox-entry.js";
import type { OutboxProbe } from "./outbox-probe.js";
import { claimPending, lockTenant, markFailed, markRetry, tryLockTenant, type ClaimedEntry } from "./outbox-store.js";

export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
}

export interface DispatcherOptions {
  /** Entries a drain of the worker claims at once. */
  readonly batchSize: number;
  /**
   * Entries a read-your-writes drain claims at once (default WRITER_BATCH_SIZE, never fewer than
   * batchSize). Its writer waits for all of its own entries anyway: one claim, one SpiceDB request
   * and one marking for a change of 150 entries cost less than two of each.
   */
  readonly writerBatchSize?: number;
  /**
   * Failed attempts before an entry is dead-lettered. Attempts that failed because the downstream
   * (SpiceDB) or the database was away do not count: an outage is not the entry's fault, and
   * dead-lettering it would leave a saved change unapplied until an operator re-drives it.
   */
  readonly maxRetries: number;
  readonly backoff: BackoffPolicy;
}

export interface DrainOptions {
  /** Wait for the tenant's lock (read-your-writes) instead of leaving the tenant to its holder. */
  readonly wait: boolean;
  /** Entries to claim at most (default the options' batchSize). */
  readonly batchSize?: number;
}

export interface DrainResult {
  readonly applied: number;
  /** Another drain holds the tenant's lock. */
  readonly lockBusy: boolean;
  /** A full batch was claimed: there may be more. */
  readonly more: boolean;
  /** The highest sequence claimed by this drain (null when none). */
  readonly highestSequence: number | null;
  /** The head entry failed or is backing off: nothing behind it can proceed before this time. */
  readonly blockedUntil: Date | null;
}

const LOCK_WAIT = "10s";
/**
 * A read-your-writes drain's claim: a user leaving a tenant with 100 workspace and 50 group roles
 * records 151 entries, a SCIM group of 500 members 501; SpiceDB takes up to 1,000 updates a request.
 */
export const WRITER_BATCH_SIZE = 1_000;
/** Sequences of entries recently applied here: a few batches of every busy tenant. */
const RECENTLY_HANDLED = 10_000;

function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 2000);
}

export class OutboxDispatcher {
  private readonly handlersByType = new Map<string, OutboxHandler[]>();
  /** Read-your-writes drains under way in this process, per tenant, with their callers' sequences (see drainThrough). */
  private readonly tenantDrains = new Map<string, FreshSharedRun<number[], boolean>>();
  /**
   * Sequences of the entries that drains of this process applied or dead-lettered and committed.
   * A writer whose commit a running drain already took finds its sequence here when that drain
   * ends, and needs no drain of its own (which would find nothing).
   */
  private readonly recentlyHandled = new RecentSet<number>(RECENTLY_HANDLED);

  constructor(
    private readonly db: AppDatabase,
    private readonly handlers: readonly OutboxHandler[],
    private readonly tracker: AuthzRevisionTracker,
    private readonly probe: OutboxProbe,
    private readonly options: DispatcherOptions,
  ) {
    for (const handler of handlers) {
      for (const type of handler.eventTypes) {
        const list = this.handlersByType.get(type) ?? [];
        if (!list.includes(handler)) list.push(handler);
        this.handlersByType.set(type, list);
      }
    }
  }

  backoffDelay(retryCount: number): number {
    return Math.min(this.options.backoff.maxMs, this.options.backoff.baseMs * 2 ** retryCount);
  }

  async drain(tenantId: string, options: DrainOptions): Promise<DrainResult> {
    const started = performance.now();
    const batchSize = options.batchSize ?? this.options.batchSize;
    // Every claimed entry was applied or dead-lettered, once the transaction commits.
    let handled: number[] = [];
    const { value: outcome, last: revision } = await transactionEndingWith(this.db, async (tx) => {
      const nothing = Promise.resolve(null);
      let claimed: ClaimedEntry[];
      let before: AuthzRevisionSnapshot;
      if (options.wait) {
        // Sent together: the claim runs once the lock is held, and sees what committed before.
        [, claimed, before] = await Promise.all([
          lockTenant(tx, tenantId, LOCK_WAIT),
          claimPending(tx, tenantId, batchSize),
          readAuthzRevision(tx),
        ]);
      } else if (!(await tryLockTenant(tx, tenantId))) {
        return { value: { applied: 0, lockBusy: true, more: false, highestSequence: null, blockedUntil: null }, last: nothing };
      } else {
        [claimed, before] = await Promise.all([claimPending(tx, tenantId, batchSize), readAuthzRevision(tx)]);
      }
      const head = claimed[0];
      const highestSequence = claimed.at(-1)?.entry.sequence ?? null;
      if (head === undefined) {
        return { value: { applied: 0, lockBusy: false, more: false, highestSequence, blockedUntil: null }, last: nothing };
      }
      // Only a failed head entry backs off; everything behind it waits for it.
      if (!head.due) {
        return { value: { applied: 0, lockBusy: false, more: false, highestSequence, blockedUntil: head.nextAttemptAt }, last: nothing };
      }
      const { applied, blockedUntil, written, toMark } = await this.apply(
        tx,
        claimed.map((c) => c.entry),
      );
      const more = claimed.length >= batchSize;
      if (blockedUntil === null) handled = claimed.map((c) => c.entry.sequence);
      return {
        value: { applied, lockBusy: false, more, highestSequence, blockedUntil },
        // Not awaited: marking the entries and moving the revision travel with the COMMIT.
        last: applied > 0 ? bumpAuthzRevision(tx, written.token, written.revokes, toMark, before.revision) : nothing,
      };
    });
    if (revision !== null) this.tracker.observe(revision);
    for (const sequence of handled) this.recentlyHandled.add(sequence);
    if (outcome.applied > 0) this.probe.entriesApplied(tenantId, outcome.applied, performance.now() - started);
    return outcome;
  }

  /**
   * Drains the tenant until every entry up to `sequence` is applied, dead-lettered or blocked.
   * Used after a commit so that the request's own relationship changes are visible when it answers.
   * Resolves to false when some of them could not be applied now (SpiceDB unavailable): the revision
   * is then moved anyway, so that no cached decision from before the commit is served again.
   *
   * Concurrent writers of a tenant in this process share drains: a drain under way may have claimed
   * before a writer committed, so the writer waits for the next drain, which starts when it ends,
   * aims at the highest sequence among its waiters and applies all their entries in one SpiceDB
   * request. Alone, a writer runs its own drain at once. A writer whose entries the drain under
   * way did take (it claimed after their commit) is answered when that drain ends.
   */
  drainThrough(tenantId: string, sequence: number): Promise<boolean> {
    if (this.recentlyHandled.has(sequence)) return Promise.resolve(true);
    let drains = this.tenantDrains.get(tenantId);
    if (drains === undefined) {
      drains = new FreshSharedRun<number[], boolean>(
        (targets) => this.drainThroughNow(tenantId, targets),
        (a, b) => [...a, ...b],
        () => this.tenantDrains.delete(tenantId),
      );
      this.tenantDrains.set(tenantId, drains);
    }
    return drains.run([sequence]);
  }

  /** A writer of this process is applying, or about to apply, the tenant's entries. */
  isDraining(tenantId: string): boolean {
    return this.tenantDrains.has(tenantId);
  }

  private async drainThroughNow(tenantId: string, targets: readonly number[]): Promise<boolean> {
    // A writer's entries are claimed in one drain: its highest sequence stands for all of them.
    const waiting = targets.filter((target) => !this.recentlyHandled.has(target));
    if (waiting.length === 0) return true;
    const sequence = Math.max(...waiting);
    try {
      // Each drain also takes entries committed behind the target (up to a batch): writers of this
      // tenant in other processes then find their work done when they get the lock.
      const batchSize = Math.max(this.options.batchSize, this.options.writerBatchSize ?? WRITER_BATCH_SIZE);
      for (let round = 0; round < 100; round++) {
        const result = await this.drain(tenantId, { wait: true, batchSize });
        if (result.blockedUntil !== null) break;
        if (!result.more || (result.highestSequence ?? 0) >= sequence) return true;
      }
    } catch (error) {
      await this.invalidateDecisions().catch(() => undefined);
      throw error;
    }
    await this.invalidateDecisions();
    return false;
  }

  /** Moves the authorization revision without a SpiceDB write: cached decisions are dropped everywhere. */
  async invalidateDecisions(): Promise<void> {
    this.tracker.observe(await bumpAuthzRevision(this.db, null, true));
  }

  private handlersOf(entry: OutboxEntry): OutboxHandler[] {
    return this.handlersByType.get(entry.eventType) ?? [];
  }

  /**
   * Runs the handlers over the claimed entries; returns how many were applied and their ids,
   * which the caller marks applied in the statement that bumps the revision.
   */
  private async apply(
    tx: AppTransaction,
    entries: readonly OutboxEntry[],
  ): Promise<{ applied: number; blockedUntil: Date | null; written: HandledWrite; toMark: string[] }> {
    const known: OutboxEntry[] = [];
    for (const entry of entries) {
      if (this.handlersOf(entry).length === 0) {
        // Nothing can ever handle it: dead-letter at once instead of retrying.
        const error = `No handler registered for event type ${entry.eventType}`;
        await markFailed(tx, entry.id, error);
        this.probe.entryDeadLettered(entry.id, entry.eventType, error);
      } else {
        known.push(entry);
      }
    }
    if (known.length === 0) return { applied: 0, blockedUntil: null, written: NOTHING_WRITTEN, toMark: [] };

    // Fast path: each handler takes all its entries at once (one SpiceDB request per batch).
    try {
      const written = await this.runHandlers(known);
      const toMark = await this.deadLetterRefused(tx, known, written);
      return { applied: toMark.length, blockedUntil: null, written, toMark };
    } catch {
      // Find the entry at fault: replay one by one (handlers are idempotent).
    }

    const done: string[] = [];
    let written = NOTHING_WRITTEN;
    for (const entry of known) {
      try {
        const own = await this.runHandlers([entry]);
        written = combine(written, own);
        done.push(...(await this.deadLetterRefused(tx, [entry], own)));
      } catch (error) {
        const text = errorText(error);
        const outage = isUnavailableError(error);
        if (error instanceof PoisonEntryError || (!outage && entry.retryCount + 1 >= this.options.maxRetries)) {
          await markFailed(tx, entry.id, text);
          this.probe.entryDeadLettered(entry.id, entry.eventType, text);
          continue;
        }
        // An outage is no fault of the entry: it is tried again a base delay later however long
        // SpiceDB has been away, so that it applies within about two seconds of SpiceDB answering again
        // (a growing delay left it waiting up to the maximum, 30 s, after a long outage).
        const delay = outage ? this.options.backoff.baseMs : this.backoffDelay(entry.retryCount);
        await markRetry(tx, entry.id, text, delay);
        this.probe.entryFailed(entry.id, entry.eventType, text, entry.retryCount + 1, delay);
        // The failed attempt may have half-applied a deletion downstream: count it as revoking.
        return { applied: done.length, blockedUntil: new Date(Date.now() + delay), written: { ...written, revokes: true }, toMark: done };
      }
    }
    // Replays after a failed batch: the batch may have half-applied a deletion downstream.
    return { applied: done.length, blockedUntil: null, written: { ...written, revokes: true }, toMark: done };
  }

  /**
   * Dead-letters, with the downstream reason, the entries a handler reported refused (the rest of
   * their batch went through); returns the ids of the others, to be marked applied.
   */
  private async deadLetterRefused(tx: AppTransaction, entries: readonly OutboxEntry[], written: HandledWrite): Promise<string[]> {
    const applied: string[] = [];
    for (const entry of entries) {
      const reason = written.refused?.get(entry.id);
      if (reason === undefined) {
        applied.push(entry.id);
        continue;
      }
      const text = errorText(reason);
      await markFailed(tx, entry.id, text);
      this.probe.entryDeadLettered(entry.id, entry.eventType, text);
    }
    return applied;
  }

  /** Fan-out in registration order; the last downstream token wins. */
  private async runHandlers(entries: readonly OutboxEntry[]): Promise<HandledWrite> {
    let written = NOTHING_WRITTEN;
    for (const handler of this.handlers) {
      const mine = entries.filter((entry) => this.handlersOf(entry).includes(handler));
      if (mine.length > 0) written = combine(written, await handler.handle(mine));
    }
    return written;
  }
}

function combine(before: HandledWrite, next: HandledWrite): HandledWrite {
  const refused = before.refused === undefined ? next.refused : next.refused === undefined ? before.refused : new Map([...before.refused, ...next.refused]);
  return { token: next.token ?? before.token, revokes: before.revokes || next.revokes, ...(refused === undefined ? {} : { refused }) };
}
