/**
 * The unit of work over Drizzle: the rows a service writes and the events it records commit in one
 * PostgreSQL transaction. After the commit it drains the touched tenants' outbox up to its own
 * entries, on the same path the worker uses, so that its relationship changes are in SpiceDB when
 * the request answers (read-your-writes). If that fails (SpiceDB down), the change stays committed,
 * the worker is told at once (in process, and by NOTIFY) and applies it as soon as SpiceDB answers,
 * and the request fails with ChangeNotYetInEffectError (503): it must not answer success for a
 * grant or a removal that does not hold yet. Changes that touch no relationship (a rename) answer
 * success whatever SpiceDB does.
 */
import type { AppDatabase } from "../../platform/database/database.js";
import { DEADLOCK_DETECTED, SERIALIZATION_FAILURE, postgresErrorOf } from "../../platform/database/database-errors.js";
import { transactionEndingWith } from "../../platform/database/transaction-ending-with.js";
import { appendOutboxEntries, wakeOutboxWorkers } from "../../platform/outbox/outbox-store.js";
import type { IamEvent } from "../domain/events.js";
import type { TransactionContext, UnitOfWork } from "../ports/unit-of-work.js";
import { ChangeNotYetInEffectError } from "../../platform/outbox/change-not-in-effect.js";
import { toOutboxEntry } from "./event-serialization.js";
import { translate } from "./relationship-translator.js";
import { createRepositories } from "./repositories.js";
import { currentChangeOrigin } from "../../shared-kernel/change-origin.js";
import { auditEventsOf, namesCarriedBy } from "./audit-entries.js";
import { auditWritesOf } from "./audit-recording.js";
import { pinReadsToPrimary } from "../../platform/database/replica/read-scope.js";

/** Applies a tenant's committed outbox entries up to a sequence (the dispatcher's drainThrough). */
export interface CommittedChangesApplier {
  drainThrough(tenantId: string, sequence: number): Promise<boolean>;
}

export interface UnitOfWorkOptions {
  /** Told when applying a tenant's committed changes failed (for the log). */
  readonly onApplyFailure?: (tenantId: string, error: unknown) => void;
  /** Hands a tenant this writer could not apply to the process's worker, which retries it soon. */
  readonly handOver?: (tenantId: string) => void;
  /**
   * Whether to record the change's audit events in its transaction (default: always). Asked per
   * change, so that the bench can switch recording off and on in one warmed service to measure it.
   */
  readonly recordAudit?: () => boolean;
  /** Told after a commit that wrote audit events, with how many (wakes the process's sealer). */
  readonly onAudited?: (count: number) => void;
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
    private readonly options: UnitOfWorkOptions = {},
  ) {}

  async run<T>(work: (tx: TransactionContext) => Promise<T>): Promise<T> {
    const { result, highestSequences, relationshipTenants, audited } = await this.commit(work);
    // Inside a read-only request (an invitation bound at sign-in), its later reads must see this.
    pinReadsToPrimary();
    if (audited > 0) this.options.onAudited?.(audited);
    if (this.applier === null) return result;
    let notInEffect: ChangeNotYetInEffectError | null = null;
    for (const [tenantId, sequence] of highestSequences) {
      let failure: unknown = null;
      try {
        // False: some entries wait (SpiceDB unavailable, a failed entry backing off).
        if (!(await this.applier.drainThrough(tenantId, sequence))) failure = "not applied";
      } catch (error) {
        failure = error;
        this.options.onApplyFailure?.(tenantId, error);
      }
      if (failure === null) continue;
      await this.handOver(tenantId);
      if (relationshipTenants.has(tenantId)) notInEffect ??= new ChangeNotYetInEffectError(tenantId, failure);
    }
    // Committed is committed: the caller learns that it does not hold yet, not that it failed.
    if (notInEffect !== null) throw notInEffect;
    return result;
  }

  /**
   * Tells the workers about entries this writer could not apply: its commit sent no NOTIFY (it said
   * it would apply them). The process's own worker first, which needs no database to hear it (the
   * database may be what failed); then NOTIFY for the others, best effort.
   */
  private async handOver(tenantId: string): Promise<void> {
    this.options.handOver?.(tenantId);
    await wakeOutboxWorkers(this.db, tenantId).catch(() => undefined);
  }

  private async commit<T>(work: (tx: TransactionContext) => Promise<T>) {
    for (let attempt = 1; ; attempt++) {
      try {
        const { value, last } = await transactionEndingWith(this.db, async (tx) => {
          const events: IamEvent[] = [];
          // Audit events a repository wrote itself (a directory's profile change), for onAudited.
          let auditedByRepositories = 0;
          const context: TransactionContext = {
            repositories: createRepositories(tx, "postgres", { onAudited: (count) => (auditedByRepositories += count) }),
            record: (...recorded) => {
              events.push(...recorded);
            },
          };
          const result = await work(context);
          // The audit record commits with the change or not at all: its rows travel in the outbox INSERT.
          const audit = events.length === 0 || this.options.recordAudit?.() === false ? [] : events;
          const auditEvents = auditEventsOf(audit, currentChangeOrigin(), namesCarriedBy(audit));
          // Not awaited: the outbox rows travel with the COMMIT. A writer that applies its own
          // entries after the commit says so in the same INSERT, and its commit wakes no worker.
          const appended = appendOutboxEntries(tx, events.map(toOutboxEntry), auditEvents.length > 0 ? auditWritesOf(auditEvents) : null, {
            writerApplies: this.applier !== null,
          });
          // Tenants whose relationships this change touches: only they can be "not in effect".
          const relationshipTenants = new Set(events.filter((event) => translate(event).length > 0).map((event) => event.tenantId));
          return {
            value: { result, relationshipTenants, audited: auditEvents.length + auditedByRepositories },
            last: appended,
          };
        });
        return { result: value.result, relationshipTenants: value.relationshipTenants, audited: value.audited, highestSequences: last };
      } catch (error) {
        // A deadlock or serialization failure says nothing about the request: run it again.
        if (attempt >= MAX_ATTEMPTS || !isRetryable(error)) throw error;
      }
    }
  }
}
