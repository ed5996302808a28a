import type { IamEvent } from "../domain/events.js";
import type { Repositories } from "./repositories.js";

/** What a service sees inside a transaction: repositories bound to it, and an event recorder. */
export interface TransactionContext {
  readonly repositories: Repositories;
  /** Events are stored in the outbox in recording order when the transaction commits. */
  record(...events: readonly IamEvent[]): void;
}

/**
 * Runs work in one database transaction: the rows it writes and the events it records commit
 * together or not at all. When `run` resolves, the relationship changes of the recorded events
 * have been applied to SpiceDB (read-your-writes) unless SpiceDB was unreachable, in which case the
 * outbox worker applies them later.
 */
export interface UnitOfWork {
  run<T>(work: (tx: TransactionContext) => Promise<T>): Promise<T>;
}
