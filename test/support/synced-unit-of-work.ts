/**
 * The production unit of work and decision-cached authorization over a test database and an
 * embedded SpiceDB, wrapped so that tests can see which events each committed `run` recorded.
 */
import type { IamEvent } from "../../src/iam/domain/events.js";
import { DrizzleUnitOfWork } from "../../src/iam/infrastructure/drizzle-unit-of-work.js";
import { RelationshipSyncHandler } from "../../src/iam/infrastructure/relationship-sync-handler.js";
import type { TransactionContext, UnitOfWork } from "../../src/iam/ports/unit-of-work.js";
import type { AppDatabase } from "../../src/platform/database/database.js";
import { AuthzRevisionTracker } from "../../src/platform/outbox/authz-revision.js";
import { OutboxDispatcher } from "../../src/platform/outbox/outbox-dispatcher.js";
import { CachedAuthorization } from "../../src/platform/spicedb/cached-authorization.js";
import { permissionSchemaIsMonotonic, type SpiceDbEngine } from "../../src/platform/spicedb/spicedb-engine.js";
import { RecordingOutboxProbe } from "./recording-outbox.js";

/** Decorates a unit of work: remembers the events of every run that committed, in order. */
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

export async function createSyncedUnitOfWork(
  db: AppDatabase,
  spicedb: SpiceDbEngine,
): Promise<{ unitOfWork: RecordingUnitOfWork; authorization: CachedAuthorization }> {
  const tracker = new AuthzRevisionTracker();
  await tracker.refresh(db);
  const dispatcher = new OutboxDispatcher(db, [new RelationshipSyncHandler(spicedb.authorization)], tracker, new RecordingOutboxProbe(), {
    batchSize: 500,
    maxRetries: 3,
    backoff: { baseMs: 1, maxMs: 5 },
  });
  return {
    unitOfWork: new RecordingUnitOfWork(new DrizzleUnitOfWork(db, dispatcher)),
    authorization: new CachedAuthorization(spicedb.authorization, tracker, { monotonicSchema: permissionSchemaIsMonotonic() }),
  };
}
