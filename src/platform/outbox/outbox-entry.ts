/** What a unit of work appends; the database assigns id and sequence. */
export interface NewOutboxEntry {
  readonly tenantId: string;
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly eventType: string;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly occurredAt: Date;
}

/** An outbox row as the worker and handlers see it. */
export interface OutboxEntry extends NewOutboxEntry {
  readonly id: string;
  readonly sequence: number;
  readonly retryCount: number;
}

/** What a handler did downstream. */
export interface HandledWrite {
  /** Freshness token of the downstream write (a ZedToken), or null. */
  readonly token: string | null;
  /** Whether it took anything away (deleted relationships): cached "allowed" decisions must go. */
  readonly revokes: boolean;
  /**
   * Entries the downstream system refused (entry id -> its reason), when the rest of the batch
   * went through: each is dead-lettered at once with that reason, and the others are applied.
   */
  readonly refused?: ReadonlyMap<string, string>;
}

export const NOTHING_WRITTEN: HandledWrite = { token: null, revokes: false };

/**
 * Applies entries to a downstream system (SpiceDB, for IAM). Must be idempotent: an entry can be
 * delivered again after a crash. Entries arrive in sequence order for one tenant; a handler may
 * combine them into fewer requests but must leave the same final state as applying them one by one.
 */
export interface OutboxHandler {
  readonly name: string;
  readonly eventTypes: readonly string[];
  handle(entries: readonly OutboxEntry[]): Promise<HandledWrite>;
}

/** An entry that can never succeed (malformed payload): dead-letter at once, do not retry. */
export class PoisonEntryError extends Error {
  override name = "PoisonEntryError";
}
