/** What the tenant service reports, in the words of the domain (the pattern: probe-logger.ts). */
import type { ObservationContext } from "../../shared-kernel/observation-context.js";
import type { TenantRole } from "../domain/roles.js";
import { PinoProbe } from "./probe-logger.js";

export interface TenantServiceProbe {
  withContext(context: ObservationContext): TenantServiceProbe;
  tenantCreated(fact: { tenantId: string; name: string; creatorId: string | null; rootWorkspaceId: string }): void;
  tenantCreationFailed(fact: { name: string; reason: string }): void;
  tenantRetrieved(fact: { tenantId: string }): void;
  tenantNotFound(fact: { tenantId: string }): void;
  tenantsListed(fact: { count: number }): void;
  tenantDeleted(fact: { tenantId: string; workspaces: number; groups: number; apiKeys: number }): void;
  tenantDeletionFailed(fact: { tenantId: string; reason: string }): void;
  tenantAccessDenied(fact: { tenantId: string; permission: string }): void;
  memberAdded(fact: { tenantId: string; userId: string; role: TenantRole }): void;
  memberRemoved(fact: { tenantId: string; userId: string; workspaces: number; groups: number; apiKeys: number }): void;
  memberRoleChanged(fact: { tenantId: string; userId: string; role: TenantRole }): void;
  membersListed(fact: { tenantId: string; count: number }): void;
  defaultTenantEnsured(fact: { tenantId: string; created: boolean; rootWorkspaceCreated: boolean }): void;
  defaultTenantJoined(fact: { tenantId: string; userId: string; role: TenantRole }): void;
  invitationRecorded(fact: { tenantId: string; email: string; role: TenantRole }): void;
  invitationRevoked(fact: { tenantId: string; email: string }): void;
  invitationBound(fact: { tenantId: string; userId: string; role: TenantRole }): void;
}

export class PinoTenantServiceProbe extends PinoProbe implements TenantServiceProbe {
  withContext(context: ObservationContext): TenantServiceProbe {
    return new PinoTenantServiceProbe(this.logger, context);
  }

  tenantCreated(fact: { tenantId: string; name: string; creatorId: string | null; rootWorkspaceId: string }): void {
    this.info("tenant_created", fact, "tenant created");
  }
  tenantCreationFailed(fact: { name: string; reason: string }): void {
    this.warn("tenant_creation_failed", fact, "tenant creation failed");
  }
  tenantRetrieved(fact: { tenantId: string }): void {
    this.info("tenant_retrieved", fact, "tenant retrieved");
  }
  tenantNotFound(fact: { tenantId: string }): void {
    this.info("tenant_not_found", fact, "tenant not found");
  }
  tenantsListed(fact: { count: number }): void {
    this.info("tenants_listed", fact, "tenants listed");
  }
  tenantDeleted(fact: { tenantId: string; workspaces: number; groups: number; apiKeys: number }): void {
    this.info("tenant_deleted", fact, "tenant deleted with its workspaces, groups and API keys");
  }
  tenantDeletionFailed(fact: { tenantId: string; reason: string }): void {
    this.warn("tenant_deletion_failed", fact, "tenant deletion failed");
  }
  tenantAccessDenied(fact: { tenantId: string; permission: string }): void {
    this.warn("tenant_access_denied", fact, "tenant access denied");
  }
  memberAdded(fact: { tenantId: string; userId: string; role: TenantRole }): void {
    this.info("tenant_member_added", fact, "tenant member added");
  }
  memberRemoved(fact: { tenantId: string; userId: string; workspaces: number; groups: number; apiKeys: number }): void {
    this.info("tenant_member_removed", fact, "tenant member removed with their roles and API keys in the tenant");
  }
  memberRoleChanged(fact: { tenantId: string; userId: string; role: TenantRole }): void {
    this.info("tenant_member_role_changed", fact, "tenant member role changed");
  }
  membersListed(fact: { tenantId: string; count: number }): void {
    this.info("tenant_members_listed", fact, "tenant members listed");
  }
  defaultTenantEnsured(fact: { tenantId: string; created: boolean; rootWorkspaceCreated: boolean }): void {
    this.info("default_tenant_ensured", fact, "default tenant ready");
  }
  defaultTenantJoined(fact: { tenantId: string; userId: string; role: TenantRole }): void {
    this.info("default_tenant_joined", fact, "user joined the default tenant");
  }
  invitationRecorded(fact: { tenantId: string; email: string; role: TenantRole }): void {
    this.info("tenant_invitation_recorded", fact, "invitation to the tenant recorded");
  }
  invitationRevoked(fact: { tenantId: string; email: string }): void {
    this.info("tenant_invitation_revoked", fact, "invitation to the tenant revoked");
  }
  invitationBound(fact: { tenantId: string; userId: string; role: TenantRole }): void {
    this.info("tenant_invitation_bound", fact, "invitation bound: the user joined the tenant");
  }
}
