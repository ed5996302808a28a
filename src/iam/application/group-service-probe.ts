/**
 * What the group service reports about its work, in domain terms. The service never logs
 * directly; tests use a recording probe to assert on what happened.
 */
import type { ObservationContext } from "../../shared-kernel/observation-context.js";
import type { GroupRole } from "../domain/roles.js";

export type GroupPermission = "view" | "manage";
export type GroupOperation =
  | "create"
  | "list"
  | "get"
  | "rename"
  | "delete"
  | "add_member"
  | "change_member_role"
  | "remove_member"
  | "list_members";

export interface GroupServiceProbe {
  /** The same probe reporting under `context` (request id, user, tenant). */
  withContext(context: ObservationContext): GroupServiceProbe;
  groupCreated(groupId: string, name: string): void;
  groupRenamed(groupId: string, name: string): void;
  /** `workspaceGrantsRemoved`: the workspace roles the group held, removed with it. */
  groupDeleted(groupId: string, workspaceGrantsRemoved: number): void;
  memberAdded(groupId: string, userId: string, role: GroupRole): void;
  memberRoleChanged(groupId: string, userId: string, role: GroupRole): void;
  memberRemoved(groupId: string, userId: string): void;
  /** The caller could view the group but lacked the permission; invisible groups are not reported. */
  permissionDenied(groupId: string, permission: GroupPermission): void;
  /** The last-admin rule refused a change (of the group, or of a workspace the group administers). */
  lastAdminProtected(groupId: string, operation: GroupOperation, reason: string): void;
  /** Something unexpected failed (not a refusal the caller can fix). */
  operationFailed(operation: GroupOperation, groupId: string | null, error: unknown): void;
}

import type { ProbeLogger } from "./probe-logger.js";

export type { ProbeLogger };

/** The default probe: one structured log line per fact, context merged under the probe's own fields. */
export class PinoGroupServiceProbe implements GroupServiceProbe {
  constructor(
    private readonly logger: ProbeLogger,
    private readonly context: ObservationContext,
  ) {}

  withContext(context: ObservationContext): GroupServiceProbe {
    return new PinoGroupServiceProbe(this.logger, context);
  }

  groupCreated(groupId: string, name: string): void {
    this.logger.info(this.fields({ event: "group_created", group_id: groupId, group_name: name }), "group created");
  }

  groupRenamed(groupId: string, name: string): void {
    this.logger.info(this.fields({ event: "group_renamed", group_id: groupId, group_name: name }), "group renamed");
  }

  groupDeleted(groupId: string, workspaceGrantsRemoved: number): void {
    this.logger.info(
      this.fields({ event: "group_deleted", group_id: groupId, workspace_grants_removed: workspaceGrantsRemoved }),
      "group deleted",
    );
  }

  memberAdded(groupId: string, userId: string, role: GroupRole): void {
    this.logger.info(
      this.fields({ event: "group_member_added", group_id: groupId, member_user_id: userId, role }),
      "group member added",
    );
  }

  memberRoleChanged(groupId: string, userId: string, role: GroupRole): void {
    this.logger.info(
      this.fields({ event: "group_member_role_changed", group_id: groupId, member_user_id: userId, role }),
      "group member role changed",
    );
  }

  memberRemoved(groupId: string, userId: string): void {
    this.logger.info(
      this.fields({ event: "group_member_removed", group_id: groupId, member_user_id: userId }),
      "group member removed",
    );
  }

  permissionDenied(groupId: string, permission: GroupPermission): void {
    this.logger.warn(
      this.fields({ event: "group_permission_denied", group_id: groupId, permission }),
      "group permission denied",
    );
  }

  lastAdminProtected(groupId: string, operation: GroupOperation, reason: string): void {
    this.logger.warn(
      this.fields({ event: "group_last_admin_protected", group_id: groupId, operation, reason }),
      "last admin protected",
    );
  }

  operationFailed(operation: GroupOperation, groupId: string | null, error: unknown): void {
    this.logger.error(
      this.fields({ event: "group_operation_failed", operation, group_id: groupId, err: error }),
      "group operation failed",
    );
  }

  private fields(own: Record<string, unknown>): Record<string, unknown> {
    return this.context.mergeInto(own);
  }
}
