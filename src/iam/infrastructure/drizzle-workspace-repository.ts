/**
 * Workspaces in PostgreSQL. Member rows are the source of truth for workspace roles; SpiceDB only
 * indexes them. Constraint violations become domain errors here, so a race the database notices
 * still answers 409 or 400, never 500.
 */
import { and, asc, eq, or, sql, type SQL } from "drizzle-orm";
import { queryRows, type Queryable } from "../../platform/database/database.js";
import { FOREIGN_KEY_VIOLATION, postgresErrorOf, violates } from "../../platform/database/database-errors.js";
import { groups, workspaceMembers, workspaces } from "../../platform/database/schema.js";
import { ConflictError, InvalidInputError, NotFoundError } from "../domain/errors.js";
import type { MemberType, WorkspaceRole } from "../domain/roles.js";
import { Workspace, type WorkspaceMember } from "../domain/workspace.js";
import type { WorkspaceRecord, WorkspaceRepository } from "../ports/workspace-repository.js";
import { arrayText } from "../../platform/database/array-text.js";

type WorkspaceRow = typeof workspaces.$inferSelect;
type MemberRow = typeof workspaceMembers.$inferSelect;

const columns = {
  id: workspaces.id,
  tenantId: workspaces.tenantId,
  name: workspaces.name,
  parentWorkspaceId: workspaces.parentWorkspaceId,
  isRoot: workspaces.isRoot,
  createdAt: workspaces.createdAt,
  updatedAt: workspaces.updatedAt,
};

function recordOf(row: Pick<WorkspaceRow, keyof typeof columns>): WorkspaceRecord {
  return {
    id: row.id,
    tenantId: row.tenantId,
    name: row.name,
    parentWorkspaceId: row.parentWorkspaceId,
    isRoot: row.isRoot,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function memberOf(row: Pick<MemberRow, "memberId" | "memberType" | "role">): WorkspaceMember {
  return { memberId: row.memberId, memberType: row.memberType as MemberType, role: row.role as WorkspaceRole };
}

function prepareFindById(db: Queryable) {
  return db
    .select(columns)
    .from(workspaces)
    .where(and(eq(workspaces.id, sql.placeholder("id")), eq(workspaces.tenantId, sql.placeholder("tenantId"))))
    .prepare("workspace_by_id");
}

/** A workspace as `listByIds` has PostgreSQL write it into JSON: the columns of `columns`, in order. */
type WorkspaceTuple = [string, string, string, string | null, boolean, string, string];

export interface WorkspaceRepositoryOptions {
  /**
   * Have PostgreSQL answer a list as one JSON text value instead of one row per workspace. PGlite
   * decodes every field of every row in JavaScript (a buffer copy and a text decode each): for
   * 1,000 workspaces that took 18-25 ms, against 6-7 ms for one JSON value parsed natively. A server's
   * rows arrive cheaper than its JSON is built (4.2 against 6.1 ms), so only the embedded mode uses it.
   */
  readonly listsAsJson?: boolean;
}

export class DrizzleWorkspaceRepository implements WorkspaceRepository {
  /** Built on first use: GET by id is the hottest read, and building its SQL each time cost more than running it. */
  private findByIdQuery: ReturnType<typeof prepareFindById> | null = null;

  constructor(
    private readonly db: Queryable,
    private readonly options: WorkspaceRepositoryOptions = {},
  ) {}

  async findById(tenantId: string, id: string): Promise<WorkspaceRecord | null> {
    this.findByIdQuery ??= prepareFindById(this.db);
    const rows = await this.findByIdQuery.execute({ id, tenantId });
    return rows[0] ? recordOf(rows[0]) : null;
  }

  async findRoot(tenantId: string): Promise<WorkspaceRecord | null> {
    const rows = await this.db
      .select(columns)
      .from(workspaces)
      .where(and(eq(workspaces.tenantId, tenantId), eq(workspaces.isRoot, true)));
    return rows[0] ? recordOf(rows[0]) : null;
  }

  async listByIds(tenantId: string, ids: readonly string[]): Promise<WorkspaceRecord[]> {
    if (ids.length === 0) return [];
    if (this.options.listsAsJson) return this.listByIdsAsJson(tenantId, ids);
    // One statement whatever the number of ids: `= ANY($1)` binds a single array parameter.
    const rows = await this.db
      .select(columns)
      .from(workspaces)
      .where(and(sql`${workspaces.id} = ANY(${arrayText(ids)}::varchar[])`, eq(workspaces.tenantId, tenantId)));
    return rows.map(recordOf);
  }

  private async listByIdsAsJson(tenantId: string, ids: readonly string[]): Promise<WorkspaceRecord[]> {
    const [row] = await queryRows<{ list: string }>(
      this.db,
      sql`SELECT coalesce(json_agg(json_build_array(id, tenant_id, name, parent_workspace_id, is_root, created_at, updated_at)), '[]')::text AS list
          FROM ${workspaces}
          WHERE id = ANY(${arrayText(ids)}::varchar[]) AND tenant_id = ${tenantId}`,
    );
    const tuples = JSON.parse(row?.list ?? "[]") as WorkspaceTuple[];
    return tuples.map(([id, rowTenantId, name, parentWorkspaceId, isRoot, createdAt, updatedAt]) => ({
      id,
      tenantId: rowTenantId,
      name,
      parentWorkspaceId,
      isRoot,
      // Parsed as Drizzle parses a timestamptz column: the same instant, to the millisecond.
      createdAt: new Date(createdAt),
      updatedAt: new Date(updatedAt),
    }));
  }

  async listMembers(tenantId: string, id: string): Promise<WorkspaceMember[] | null> {
    const rows = await this.db
      .select({ memberId: workspaceMembers.memberId, memberType: workspaceMembers.memberType, role: workspaceMembers.role, tenantId: workspaces.tenantId })
      .from(workspaces)
      .leftJoin(workspaceMembers, eq(workspaceMembers.workspaceId, workspaces.id))
      .where(and(eq(workspaces.id, id), eq(workspaces.tenantId, tenantId)));
    if (rows.length === 0) return null;
    return rows.flatMap((row) =>
      row.memberId !== null && row.memberType !== null && row.role !== null
        ? [memberOf({ memberId: row.memberId, memberType: row.memberType, role: row.role })]
        : [],
    );
  }

  async hasChildren(id: string): Promise<boolean> {
    const rows = await this.db
      .select({ id: workspaces.id })
      .from(workspaces)
      .where(eq(workspaces.parentWorkspaceId, id))
      .limit(1);
    return rows.length > 0;
  }

  async loadForUpdate(tenantId: string, id: string): Promise<Workspace | null> {
    const rows = await this.db
      .select(columns)
      .from(workspaces)
      .where(and(eq(workspaces.id, id), eq(workspaces.tenantId, tenantId)))
      .for("update");
    const row = rows[0];
    return row ? Workspace.rehydrate(recordOf(row), await this.membersForUpdate([row.id]).then((m) => m.get(row.id) ?? [])) : null;
  }

  async loadRootForUpdate(tenantId: string): Promise<Workspace | null> {
    const rows = await this.db
      .select(columns)
      .from(workspaces)
      .where(and(eq(workspaces.tenantId, tenantId), eq(workspaces.isRoot, true)))
      .for("update");
    const row = rows[0];
    return row ? Workspace.rehydrate(recordOf(row), await this.membersForUpdate([row.id]).then((m) => m.get(row.id) ?? [])) : null;
  }

  async loadAllForUpdate(tenantId: string): Promise<Workspace[]> {
    const rows = await this.db
      .select(columns)
      .from(workspaces)
      .where(eq(workspaces.tenantId, tenantId))
      .orderBy(asc(workspaces.id))
      .for("update");
    return this.hydrate(rows);
  }

  async loadAroundUserForUpdate(tenantId: string, userId: string): Promise<Workspace[]> {
    const rows = await this.db
      .select(columns)
      .from(workspaces)
      .where(
        and(
          eq(workspaces.tenantId, tenantId),
          sql`EXISTS (SELECT 1 FROM ${workspaceMembers} WHERE ${workspaceMembers.workspaceId} = ${workspaces.id}
                AND ${workspaceMembers.memberType} = 'user' AND ${workspaceMembers.memberId} = ${userId})`,
        ),
      )
      .orderBy(asc(workspaces.id))
      .for("update");
    // Their own rows and the admins': a departure from 100 workspaces of 1,000 members each reads 100
    // rows and the admins, not 100,000.
    const around = or(and(eq(workspaceMembers.memberType, "user"), eq(workspaceMembers.memberId, userId)), eq(workspaceMembers.role, "admin"));
    const members = await this.membersForUpdate(rows.map((row) => row.id), around);
    return rows.map((row) => Workspace.rehydrateAround(recordOf(row), members.get(row.id) ?? []));
  }

  private async hydrate(rows: Pick<WorkspaceRow, keyof typeof columns>[]): Promise<Workspace[]> {
    const members = await this.membersForUpdate(rows.map((r) => r.id));
    return rows.map((row) => Workspace.rehydrate(recordOf(row), members.get(row.id) ?? []));
  }

  /** Member rows of the workspaces, locked: last-admin checks read them under this lock. */
  private async membersForUpdate(ids: readonly string[], only?: SQL): Promise<Map<string, WorkspaceMember[]>> {
    const byWorkspace = new Map<string, WorkspaceMember[]>();
    if (ids.length === 0) return byWorkspace;
    const ofWorkspaces = sql`${workspaceMembers.workspaceId} = ANY(${arrayText(ids)}::varchar[])`;
    const rows = await this.db
      .select({ workspaceId: workspaceMembers.workspaceId, memberId: workspaceMembers.memberId, memberType: workspaceMembers.memberType, role: workspaceMembers.role })
      .from(workspaceMembers)
      .where(only === undefined ? ofWorkspaces : and(ofWorkspaces, only))
      .orderBy(asc(workspaceMembers.workspaceId), asc(workspaceMembers.memberType), asc(workspaceMembers.memberId))
      .for("update");
    for (const row of rows) {
      const list = byWorkspace.get(row.workspaceId) ?? [];
      list.push(memberOf(row));
      byWorkspace.set(row.workspaceId, list);
    }
    return byWorkspace;
  }

  async save(workspace: Workspace): Promise<void> {
    const changes = workspace.changes();
    const state = workspace.snapshot();
    try {
      if (changes.isNew && changes.deletes.length === 0 && changes.upserts.length > 0) {
        await this.insertWithMembers(workspace);
        workspace.markPersisted();
        return;
      }
      if (changes.isNew) {
        await this.db.insert(workspaces).values({ ...state });
      } else if (changes.renamed) {
        await this.db
          .update(workspaces)
          .set({ name: state.name, updatedAt: state.updatedAt })
          .where(eq(workspaces.id, state.id));
      }
      await this.writeMembers(workspace);
    } catch (error) {
      throw translateWriteError(error, state.name, state.parentWorkspaceId);
    }
    workspace.markPersisted();
  }

  async saveAll(batch: readonly Workspace[]): Promise<void> {
    const removalsOnly: Workspace[] = [];
    for (const workspace of batch) {
      const { isNew, renamed, upserts } = workspace.changes();
      if (isNew || renamed || upserts.length > 0) await this.save(workspace);
      else removalsOnly.push(workspace);
    }
    const removed = removalsOnly.flatMap((workspace) =>
      workspace.changes().deletes.map((member) => ({ workspace_id: workspace.id, member_type: member.memberType, member_id: member.memberId })),
    );
    if (removed.length > 0) {
      await queryRows(
        this.db,
        sql`DELETE FROM ${workspaceMembers} wm
            USING jsonb_to_recordset(${JSON.stringify(removed)}::jsonb) AS gone (workspace_id varchar, member_type varchar, member_id varchar)
            WHERE wm.workspace_id = gone.workspace_id AND wm.member_type = gone.member_type AND wm.member_id = gone.member_id`,
      );
    }
    for (const workspace of removalsOnly) workspace.markPersisted();
  }

  /**
   * A new workspace and its first members in one statement: creating a workspace is the commonest
   * write, and each statement is a round trip. The row is only inserted when its parent is a
   * workspace of the same tenant (the foreign key alone would accept another tenant's); the
   * members' foreign key is checked at the end of the statement, when the workspace row exists.
   */
  private async insertWithMembers(workspace: Workspace): Promise<void> {
    const state = workspace.snapshot();
    const members = workspace.changes().upserts.map((m) => sql`(${m.memberType}, ${m.memberId}, ${m.role})`);
    const inserted = await queryRows<{ workspace_id: string }>(
      this.db,
      sql`
      WITH created AS (
        INSERT INTO ${workspaces} (id, tenant_id, name, parent_workspace_id, is_root, created_at, updated_at)
        SELECT ${state.id}::varchar, ${state.tenantId}::varchar, ${state.name}::varchar, ${state.parentWorkspaceId}::varchar,
               ${state.isRoot}::boolean, ${state.createdAt.toISOString()}::timestamptz, ${state.updatedAt.toISOString()}::timestamptz
        WHERE ${state.parentWorkspaceId}::varchar IS NULL
           OR EXISTS (SELECT 1 FROM ${workspaces} parent WHERE parent.id = ${state.parentWorkspaceId} AND parent.tenant_id = ${state.tenantId})
        RETURNING id)
      INSERT INTO ${workspaceMembers} (workspace_id, member_type, member_id, role)
      SELECT created.id, m.member_type, m.member_id, m.role
      FROM created, (VALUES ${sql.join(members, sql`, `)}) AS m (member_type, member_id, role)
      RETURNING workspace_id`,
    );
    if (inserted.length === 0) throw new NotFoundError(`Parent workspace ${state.parentWorkspaceId ?? ""} not found`);
  }

  private async writeMembers(workspace: Workspace): Promise<void> {
    const { upserts, deletes } = workspace.changes();
    for (const removed of deletes) {
      await this.db
        .delete(workspaceMembers)
        .where(
          and(
            eq(workspaceMembers.workspaceId, workspace.id),
            eq(workspaceMembers.memberType, removed.memberType),
            eq(workspaceMembers.memberId, removed.memberId),
          ),
        );
    }
    if (upserts.length > 0) {
      await this.db
        .insert(workspaceMembers)
        .values(upserts.map((m) => ({ workspaceId: workspace.id, memberType: m.memberType, memberId: m.memberId, role: m.role })))
        .onConflictDoUpdate({
          target: [workspaceMembers.workspaceId, workspaceMembers.memberType, workspaceMembers.memberId],
          set: { role: sql`excluded.role` },
        });
    }
  }

  async insertIfAbsent(workspace: Workspace): Promise<boolean> {
    // ON CONFLICT DO NOTHING keeps the transaction usable when a concurrent start-up won the race.
    const inserted = await this.db
      .insert(workspaces)
      .values({ ...workspace.snapshot() })
      .onConflictDoNothing()
      .returning({ id: workspaces.id });
    if (inserted.length === 0) return false;
    try {
      await this.writeMembers(workspace);
    } catch (error) {
      throw translateWriteError(error, workspace.name, workspace.parentWorkspaceId);
    }
    workspace.markPersisted();
    return true;
  }

  async delete(list: readonly Workspace[]): Promise<void> {
    for (const workspace of list) {
      try {
        await this.db.delete(workspaces).where(eq(workspaces.id, workspace.id));
      } catch (error) {
        if (violates(error, "fk_workspaces_parent")) throw new ConflictError("Cannot delete workspace with children");
        throw error;
      }
    }
  }

  async groupExists(tenantId: string, groupId: string): Promise<boolean> {
    const rows = await this.db
      .select({ id: groups.id })
      .from(groups)
      .where(and(eq(groups.id, groupId), eq(groups.tenantId, tenantId)));
    return rows.length > 0;
  }
}

function translateWriteError(error: unknown, name: string, parentId: string | null): unknown {
  if (violates(error, "uq_workspaces_tenant_name")) return new ConflictError(`Workspace '${name}' already exists in tenant`);
  if (violates(error, "uq_workspaces_one_root_per_tenant")) return new ConflictError("The tenant already has a root workspace");
  if (violates(error, "fk_workspaces_parent")) return new NotFoundError(`Parent workspace ${parentId ?? ""} not found`);
  if (violates(error, "fk_workspace_members_group")) return new InvalidInputError("Group does not exist");
  if (violates(error, "fk_workspace_members_user")) return new InvalidInputError("User does not exist");
  if (postgresErrorOf(error)?.code === FOREIGN_KEY_VIOLATION) return new NotFoundError("Tenant not found");
  return error;
}
