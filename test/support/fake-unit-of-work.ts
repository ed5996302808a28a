/**
 * FAKE UnitOfWork for tests, until the outbox unit of work (lead) lands on main. It runs the work
 * in one real database transaction and keeps the recorded events in `events` (no outbox rows).
 * After commit it writes the SpiceDB relationships of API key events itself — test setup only; in
 * the service the event translator derives them.
 */
import type { IamEvent } from "../../src/iam/domain/events.js";
import { createRepositories } from "../../src/iam/infrastructure/repositories.js";
import type { TransactionContext, UnitOfWork } from "../../src/iam/ports/unit-of-work.js";
import type { DatabaseHandle } from "../../src/platform/database/database.js";
import type { AuthorizationPort, RelationshipUpdate } from "../../src/shared-kernel/authorization/authorization-port.js";

export class FakeUnitOfWork implements UnitOfWork {
  readonly events: IamEvent[] = [];

  constructor(
    private readonly database: DatabaseHandle,
    private readonly authorization: AuthorizationPort,
  ) {}

  async run<T>(work: (tx: TransactionContext) => Promise<T>): Promise<T> {
    const recorded: IamEvent[] = [];
    const result = await this.database.db.transaction(async (transaction) =>
      work({ repositories: createRepositories(transaction), record: (...events) => recorded.push(...events) }),
    );
    this.events.push(...recorded);
    const updates = recorded.flatMap(relationshipsOf);
    if (updates.length > 0) await this.authorization.writeRelationships(updates);
    return result;
  }
}

function relationshipsOf(event: IamEvent): RelationshipUpdate[] {
  if (event.type !== "ApiKeyCreated") return [];
  const resource = { type: "api_key", id: event.apiKeyId };
  return [
    { operation: "touch", relationship: { resource, relation: "owner", subject: { type: "user", id: event.userId } } },
    { operation: "touch", relationship: { resource, relation: "tenant", subject: { type: "tenant", id: event.tenantId } } },
  ];
}
