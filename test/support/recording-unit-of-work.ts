/**
 * Decorates a unit of work so that tests can see which events each committed `run` recorded, and
 * seed relationships the way services do.
 */
import type { IamEvent } from "../../src/iam/domain/events.js";
import type { TransactionContext, UnitOfWork } from "../../src/iam/ports/unit-of-work.js";

/** Remembers the events of every run that committed, in order. */
export class RecordingUnitOfWork implements UnitOfWork {
  readonly committed: IamEvent[] = [];

  constructor(private readonly inner: UnitOfWork) {}

  async run<T>(work: (tx: TransactionContext) => Promise<T>): Promise<T> {
    let recorded: IamEvent[] = [];
    const result = await this.inner.run((tx) => {
      recorded = []; // a retried attempt starts afresh
      return work({
        repositories: tx.repositories,
        record: (...events) => {
          recorded.push(...events);
          tx.record(...events);
        },
      });
    });
    this.committed.push(...recorded);
    return result;
  }

  /** Records events in a transaction of their own (seeding relationships the way services do). */
  async seed(...events: IamEvent[]): Promise<void> {
    await this.inner.run(async (tx) => tx.record(...events));
  }
}
