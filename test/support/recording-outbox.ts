/** Purpose-built fakes for outbox tests: a handler that records what it saw and can fail on cue. */
import { NOTHING_WRITTEN, type HandledWrite, type OutboxEntry, type OutboxHandler } from "../../src/platform/outbox/outbox-entry.js";
import type { OutboxProbe } from "../../src/platform/outbox/outbox-probe.js";
import type { DatabaseHandle } from "../../src/platform/database/database.js";
import { OUTBOX_CHANNEL } from "../../src/platform/outbox/outbox-store.js";

export class RecordingHandler implements OutboxHandler {
  readonly seen: OutboxEntry[] = [];
  /** How many entries each successful call took. */
  readonly batches: number[] = [];
  /** Entry event types that fail while `failuresLeft` > 0. */
  failuresLeft = 0;
  failOn: (entry: OutboxEntry) => boolean = () => true;
  /** The error a failing call throws. */
  failure: (entry: OutboxEntry) => Error = (entry) => new Error(`${this.name} refused ${entry.eventType}`);
  /** What each successful call reports having written downstream. */
  written: HandledWrite = NOTHING_WRITTEN;
  /** Awaited at the start of each call while set: holds a drain mid-way, with its entries claimed. */
  beforeHandle: (() => Promise<void>) | null = null;

  constructor(
    readonly name: string,
    readonly eventTypes: readonly string[],
    private readonly journal: string[] = [],
  ) {}

  /**
   * Holds calls at their start (their drain has claimed its entries) until `release`; `entered`
   * resolves when the first held call arrives. Calls after the release run straight through.
   */
  hold(): { entered: Promise<void>; release: () => void } {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const arrived = new Promise<void>((resolve) => (entered = resolve));
    this.beforeHandle = () => {
      entered();
      return gate;
    };
    return {
      entered: arrived,
      release: () => {
        this.beforeHandle = null;
        release();
      },
    };
  }

  async handle(entries: readonly OutboxEntry[]): Promise<HandledWrite> {
    if (this.beforeHandle !== null) await this.beforeHandle();
    for (const entry of entries) {
      if (this.failuresLeft > 0 && this.failOn(entry)) {
        this.failuresLeft--;
        throw this.failure(entry);
      }
    }
    this.seen.push(...entries);
    this.batches.push(entries.length);
    for (const entry of entries) this.journal.push(`${this.name}:${entry.sequence}`);
    return this.written;
  }
}

export class RecordingOutboxProbe implements OutboxProbe {
  readonly events: { name: string; fields: Record<string, unknown> }[] = [];
  private add(name: string, fields: Record<string, unknown>) {
    this.events.push({ name, fields });
  }
  entriesApplied(tenantId: string, count: number): void {
    this.add("entriesApplied", { tenantId, count });
  }
  entryFailed(entryId: string, eventType: string, error: string, retryCount: number, retryInMs: number): void {
    this.add("entryFailed", { entryId, eventType, error, retryCount, retryInMs });
  }
  entryDeadLettered(entryId: string, eventType: string, error: string): void {
    this.add("entryDeadLettered", { entryId, eventType, error });
  }
  drainFailed(tenantId: string, error: string): void {
    this.add("drainFailed", { tenantId, error });
  }
  entriesPurged(count: number, olderThanHours: number): void {
    this.add("entriesPurged", { count, olderThanHours });
  }
  workerStarted(mode: string): void {
    this.add("workerStarted", { mode });
  }
  workerStopped(): void {
    this.add("workerStopped", {});
  }
  named(name: string) {
    return this.events.filter((e) => e.name === name);
  }
}

/**
 * Tenants named by NOTIFY on the outbox channel while `during` runs (and a moment after, since a
 * notification is delivered after its commit), sorted.
 */
export async function outboxNotificationsDuring(handle: DatabaseHandle, during: () => Promise<unknown>): Promise<string[]> {
  const notified: string[] = [];
  const unlisten = await handle.listen(OUTBOX_CHANNEL, (tenantId) => notified.push(tenantId));
  try {
    await during();
    await new Promise((resolve) => setTimeout(resolve, 200));
  } finally {
    await unlisten();
  }
  return notified.sort();
}

