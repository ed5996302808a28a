/**
 * INTERIM, until the lead's DrizzleUnitOfWork is on main: one transaction per `run`, then the
 * recorded events' relationships written to SpiceDB before `run` resolves (read-your-writes), for
 * the events the group service records. Replaced by the real unit of work when it lands.
 */
import type { IamEvent } from "../../src/iam/domain/events.js";
import { createRepositories } from "../../src/iam/infrastructure/repositories.js";
import type { TransactionContext, UnitOfWork } from "../../src/iam/ports/unit-of-work.js";
import type { AppDatabase } from "../../src/platform/database/database.js";
import type { AuthorizationPort, RelationshipUpdate } from "../../src/shared-kernel/authorization/authorization-port.js";

const groupRelation = (role: string) => (role === "admin" ? "admin" : "member_relation");

function updatesOf(event: IamEvent): RelationshipUpdate[] {
  const touch = (resource: [string, string], relation: string, subject: [string, string, string?]): RelationshipUpdate => ({
    operation: "touch",
    relationship: {
      resource: { type: resource[0], id: resource[1] },
      relation,
      subject: { type: subject[0], id: subject[1], ...(subject[2] ? { relation: subject[2] } : {}) },
    },
  });
  const remove = (...args: Parameters<typeof touch>): RelationshipUpdate => ({ ...touch(...args), operation: "delete" });
  switch (event.type) {
    case "GroupCreated":
      return [touch(["group", event.groupId], "tenant", ["tenant", event.tenantId])];
    case "GroupMemberAdded":
      return [touch(["group", event.groupId], groupRelation(event.role), ["user", event.userId])];
    case "GroupMemberRemoved":
      return [remove(["group", event.groupId], groupRelation(event.role), ["user", event.userId])];
    case "GroupMemberRoleChanged":
      return [
        remove(["group", event.groupId], groupRelation(event.oldRole), ["user", event.userId]),
        touch(["group", event.groupId], groupRelation(event.newRole), ["user", event.userId]),
      ];
    case "GroupDeleted":
      return [
        remove(["group", event.groupId], "tenant", ["tenant", event.tenantId]),
        ...event.members.map((m) => remove(["group", event.groupId], groupRelation(m.role), ["user", m.userId])),
      ];
    case "WorkspaceMemberAdded":
    case "WorkspaceMemberRemoved": {
      const subject: [string, string, string?] =
        event.memberType === "group" ? ["group", event.memberId, "member"] : ["user", event.memberId];
      const update = touch(["workspace", event.workspaceId], event.role, subject);
      return [event.type === "WorkspaceMemberAdded" ? update : { ...update, operation: "delete" }];
    }
    default:
      throw new Error(`interim unit of work does not translate ${event.type}`);
  }
}

export class InterimUnitOfWork implements UnitOfWork {
  /** Every event committed, in order, for assertions. */
  readonly committed: IamEvent[] = [];

  constructor(
    private readonly db: AppDatabase,
    private readonly authorization: AuthorizationPort,
  ) {}

  async run<T>(work: (tx: TransactionContext) => Promise<T>): Promise<T> {
    const events: IamEvent[] = [];
    const result = await this.db.transaction(async (tx) => {
      events.length = 0;
      return work({ repositories: createRepositories(tx), record: (...recorded) => events.push(...recorded) });
    });
    this.committed.push(...events);
    const updates = events.flatMap(updatesOf);
    if (updates.length > 0) await this.authorization.writeRelationships(updates);
    return result;
  }
}
