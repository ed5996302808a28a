/**
 * The unit of work over Drizzle: the rows a service writes and the events it records commit in one
 * PostgreSQL transaction. After the commit it drains the touched tenants' outbox up to its own
 * entries, on the same path the worker uses, so that its relationship changes are in SpiceDB when
 * the request answers (read-your-writes). If that fails (SpiceDB down), the change stays committed
 * and the worker applies it once SpiceDB answers again.
 */
import type { AppDatabase } from "../../platform/database/database.js";
import { DEADLOCK_DETECTED, SERIALIZATION_FAILURE, postgresErrorOf } from "../../platform/database/database-errors.js";
import { transactionEndingWith } from "../../platform/database/transaction-ending-with.js";
import { appendOutboxEntries, declareWriterApplies, wakeOutboxWorkers } from "../../platform/outbox/outbox-store.js";
import type { IamEvent } from "../domain/events.js";
import type { TransactionContext, UnitOfWork } from "../ports/unit-of-work.js";
import { toOutboxEntry } from "./event-serialization.js";
import { bumpGroupListVersions } from "./group-list-version.js";
import { createRepositories } from "./repositories.js";

/** Applies a tenant's committed outbox entries up to a sequence (the dispatcher's drainThrough). */
export interface CommittedChangesApplier {
  drainThrough(tenantId: string, sequence: number): Promise<boolean>;
}

export interface ApplyFailureReporter {
  (tenantId: string, error: unknown): void;
}

const MAX_ATTEMPTS = 3;

function isRetryable(error: unknown): boolean {
  const code = postgresErrorOf(error)?.code;
  return code === SERIALIZATION_FAILURE || code === DEADLOCK_DETECTED;
}

export class DrizzleUnitOfWork implements UnitOfWork {
  constructor(
    private readonly db: AppDatabase,
    private readonly applier: CommittedChangesApplier | null,
    private readonly onApplyFailure: ApplyFailureReporter = () => undefined,
  ) {}

  async run<T>(work: (tx: TransactionContext) => Promise<T>): Promise<T> {
    const { result, highestSequences } = await this.commit(work);
    if (this.applier !== null) {
      for (const [tenantId, sequence] of highestSequences) {
        try {
          // False: some entries wait (SpiceDB unavailable, a failed entry backing off).
          if (!(await this.applier.drainThrough(tenantId, sequence))) await this.handOver(tenantId);
        } catch (error) {
          // Committed is committed: the worker retries; the caller still gets its success.
          this.onApplyFailure(tenantId, error);
          await this.handOver(tenantId);
        }
      }
    }
    return result;
  }

  /**
   * Wakes the workers for entries this writer could not apply: its commit sent no NOTIFY (it said
   * it would apply them). Best effort: without it they wait for the next poll.
   */
  private async handOver(tenantId: string): Promise<void> {
    await wakeOutboxWorkers(this.db, tenantId).catch(() => undefined);
  }

  private async commit<T>(work: (tx: TransactionContext) => Promise<T>) {
    for (let attempt = 1; ; attempt++) {
      try {
        const { value, last } = await transactionEndingWith(this.db, async (tx) => {
          const events: IamEvent[] = [];
          const context: TransactionContext = {
            repositories: createRepositories(tx),
            record: (...recorded) => {
              events.push(...recorded);
            },
          };
          const result = await work(context);
          // Late, so the version row is locked only for the commit: no lock is awaited after it.
          await bumpGroupListVersions(tx, events);
          // Not awaited: the outbox rows travel with the COMMIT. A writer that applies its own
          // entries after the commit says so first, and its commit then wakes no worker.
          const declared = this.applier !== null && events.length > 0 ? declareWriterApplies(tx) : Promise.resolve();
          const appended = appendOutboxEntries(tx, events.map(toOutboxEntry));
          return { value: result, last: Promise.all([declared, appended]).then(([, highest]) => highest) };
        });
        return { result: value, highestSequences: last };
      } catch (error) {
        // A deadlock or serialization failure says nothing about the request: run it again.
        if (attempt >= MAX_ATTEMPTS || !isRetryable(error)) throw error;
      }
    }
  }
}
