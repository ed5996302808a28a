/** What the workspace service reports, in the words of the domain (the pattern: probe-logger.ts). */
import type { ObservationContext } from "../../shared-kernel/observation-context.js";
import type { MemberType, WorkspaceRole } from "../domain/roles.js";
import { PinoProbe } from "./probe-logger.js";

export interface WorkspaceMemberFact {
  readonly workspaceId: string;
  readonly memberId: string;
  readonly memberType: MemberType;
}

export interface WorkspaceServiceProbe {
  withContext(context: ObservationContext): WorkspaceServiceProbe;
  workspaceCreated(fact: {
    workspaceId: string;
    tenantId: string;
    name: string;
    parentWorkspaceId: string | null;
    isRoot: boolean;
    creatorId: string | null;
  }): void;
  workspaceCreationFailed(fact: { tenantId: string; name: string; reason: string }): void;
  workspaceRetrieved(fact: { workspaceId: string }): void;
  workspaceNotFound(fact: { workspaceId: string }): void;
  workspacesListed(fact: { count: number }): void;
  workspaceRenamed(fact: { workspaceId: string; name: string }): void;
  workspaceDeleted(fact: { workspaceId: string }): void;
  workspaceDeletionFailed(fact: { workspaceId: string; reason: string }): void;
  workspaceAccessDenied(fact: { workspaceId: string; permission: string }): void;
  memberAdded(fact: WorkspaceMemberFact & { role: WorkspaceRole }): void;
  memberRemoved(fact: WorkspaceMemberFact): void;
  memberRoleChanged(fact: WorkspaceMemberFact & { role: WorkspaceRole }): void;
}

export class PinoWorkspaceServiceProbe extends PinoProbe implements WorkspaceServiceProbe {
  withContext(context: ObservationContext): WorkspaceServiceProbe {
    return new PinoWorkspaceServiceProbe(this.logger, context);
  }

  workspaceCreated(fact: Parameters<WorkspaceServiceProbe["workspaceCreated"]>[0]): void {
    this.info("workspace_created", fact, "workspace created");
  }
  workspaceCreationFailed(fact: { tenantId: string; name: string; reason: string }): void {
    this.warn("workspace_creation_failed", fact, "workspace creation failed");
  }
  workspaceRetrieved(fact: { workspaceId: string }): void {
    this.info("workspace_retrieved", fact, "workspace retrieved");
  }
  workspaceNotFound(fact: { workspaceId: string }): void {
    this.info("workspace_not_found", fact, "workspace not found");
  }
  workspacesListed(fact: { count: number }): void {
    this.info("workspaces_listed", fact, "workspaces listed");
  }
  workspaceRenamed(fact: { workspaceId: string; name: string }): void {
    this.info("workspace_renamed", fact, "workspace renamed");
  }
  workspaceDeleted(fact: { workspaceId: string }): void {
    this.info("workspace_deleted", fact, "workspace deleted");
  }
  workspaceDeletionFailed(fact: { workspaceId: string; reason: string }): void {
    this.warn("workspace_deletion_failed", fact, "workspace deletion failed");
  }
  workspaceAccessDenied(fact: { workspaceId: string; permission: string }): void {
    this.warn("workspace_access_denied", fact, "workspace access denied");
  }
  memberAdded(fact: WorkspaceMemberFact & { role: WorkspaceRole }): void {
    this.info("workspace_member_added", fact, "workspace member added");
  }
  memberRemoved(fact: WorkspaceMemberFact): void {
    this.info("workspace_member_removed", fact, "workspace member removed");
  }
  memberRoleChanged(fact: WorkspaceMemberFact & { role: WorkspaceRole }): void {
    this.info("workspace_member_role_changed", fact, "workspace member role changed");
  }
}
