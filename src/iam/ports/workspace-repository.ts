/** Persistence of the workspace aggregate. Every read is scoped to one tenant. */
import type { Workspace, WorkspaceMember, WorkspaceState } from "../domain/workspace.js";

/** A workspace as read for display (no members). */
export type WorkspaceRecord = WorkspaceState;

export interface WorkspaceRepository {
  findById(tenantId: string, id: string): Promise<WorkspaceRecord | null>;
  findRoot(tenantId: string): Promise<WorkspaceRecord | null>;
  /** The workspaces among `ids` that belong to the tenant, in one query. */
  listByIds(tenantId: string, ids: readonly string[]): Promise<WorkspaceRecord[]>;
  listMembers(tenantId: string, id: string): Promise<WorkspaceMember[] | null>;
  hasChildren(id: string): Promise<boolean>;
  /** Loads the workspace with its members, locking its row (FOR UPDATE) until the transaction ends. */
  loadForUpdate(tenantId: string, id: string): Promise<Workspace | null>;
  loadRootForUpdate(tenantId: string): Promise<Workspace | null>;
  /** Every workspace of the tenant with its members, locked (for the tenant cascade). */
  loadAllForUpdate(tenantId: string): Promise<Workspace[]>;
  /**
   * The workspaces of the tenant where the user holds a direct role, locked, in id order, each
   * loaded around the user (`Workspace.rehydrateAround`: their membership and the admins only).
   */
  loadAroundUserForUpdate(tenantId: string, userId: string): Promise<Workspace[]>;
  /**
   * Writes a new or changed workspace and its member rows. A duplicate name is a ConflictError; a
   * parent that does not exist in the workspace's tenant is a NotFoundError, a member that does not
   * exist an InvalidInputError.
   */
  save(workspace: Workspace): Promise<void>;
  /**
   * Saves many workspaces as `save` does: those whose only change is members removed (a member's
   * departure from the tenant) all in one statement, the others one by one.
   */
  saveAll(workspaces: readonly Workspace[]): Promise<void>;
  /** Inserts a new workspace unless a unique constraint says it exists already; true when inserted. */
  insertIfAbsent(workspace: Workspace): Promise<boolean>;
  /** Deletes the rows of the workspaces, in the order given (children before parents). */
  delete(workspaces: readonly Workspace[]): Promise<void>;
  /** True when the group exists in the tenant (for group grants). */
  groupExists(tenantId: string, groupId: string): Promise<boolean>;
}
