/**
 * Recording probes for the services: every call is kept, with the context it was bound to, so
 * tests can assert on what the services reported. No mocking library involved.
 */
import { ObservationContext } from "../../src/shared-kernel/observation-context.js";
import type { ApiKeyServiceProbe } from "../../src/iam/application/api-key-service-probe.js";
import type { GroupServiceProbe } from "../../src/iam/application/group-service-probe.js";
import type { TenantServiceProbe } from "../../src/iam/application/tenant-service-probe.js";
import type { WorkspaceServiceProbe } from "../../src/iam/application/workspace-service-probe.js";

export interface ProbeCall {
  readonly name: string;
  readonly fact: Record<string, unknown>;
  readonly context: Record<string, unknown>;
}

class Recorder {
  constructor(
    readonly calls: ProbeCall[] = [],
    protected readonly context: ObservationContext = ObservationContext.empty,
  ) {}

  protected push(name: string, fact: object): void {
    this.calls.push({ name, fact: { ...fact }, context: this.context.asRecord() });
  }

  names(): string[] {
    return this.calls.map((c) => c.name);
  }

  named(name: string): ProbeCall[] {
    return this.calls.filter((c) => c.name === name);
  }

  clear(): void {
    this.calls.length = 0;
  }
}

type Fact<P, K extends keyof P> = P[K] extends (fact: infer F) => void ? F : never;

export class RecordingWorkspaceServiceProbe extends Recorder implements WorkspaceServiceProbe {
  withContext(context: ObservationContext): WorkspaceServiceProbe {
    return new RecordingWorkspaceServiceProbe(this.calls, context);
  }
  workspaceCreated(fact: Fact<WorkspaceServiceProbe, "workspaceCreated">): void {
    this.push("workspaceCreated", fact);
  }
  workspaceCreationFailed(fact: Fact<WorkspaceServiceProbe, "workspaceCreationFailed">): void {
    this.push("workspaceCreationFailed", fact);
  }
  workspaceRetrieved(fact: Fact<WorkspaceServiceProbe, "workspaceRetrieved">): void {
    this.push("workspaceRetrieved", fact);
  }
  workspaceNotFound(fact: Fact<WorkspaceServiceProbe, "workspaceNotFound">): void {
    this.push("workspaceNotFound", fact);
  }
  workspacesListed(fact: Fact<WorkspaceServiceProbe, "workspacesListed">): void {
    this.push("workspacesListed", fact);
  }
  workspaceRenamed(fact: Fact<WorkspaceServiceProbe, "workspaceRenamed">): void {
    this.push("workspaceRenamed", fact);
  }
  workspaceDeleted(fact: Fact<WorkspaceServiceProbe, "workspaceDeleted">): void {
    this.push("workspaceDeleted", fact);
  }
  workspaceDeletionFailed(fact: Fact<WorkspaceServiceProbe, "workspaceDeletionFailed">): void {
    this.push("workspaceDeletionFailed", fact);
  }
  workspaceAccessDenied(fact: Fact<WorkspaceServiceProbe, "workspaceAccessDenied">): void {
    this.push("workspaceAccessDenied", fact);
  }
  memberAdded(fact: Fact<WorkspaceServiceProbe, "memberAdded">): void {
    this.push("memberAdded", fact);
  }
  memberRemoved(fact: Fact<WorkspaceServiceProbe, "memberRemoved">): void {
    this.push("memberRemoved", fact);
  }
  memberRoleChanged(fact: Fact<WorkspaceServiceProbe, "memberRoleChanged">): void {
    this.push("memberRoleChanged", fact);
  }
}

export class RecordingTenantServiceProbe extends Recorder implements TenantServiceProbe {
  withContext(context: ObservationContext): TenantServiceProbe {
    return new RecordingTenantServiceProbe(this.calls, context);
  }
  tenantCreated(fact: Fact<TenantServiceProbe, "tenantCreated">): void {
    this.push("tenantCreated", fact);
  }
  tenantCreationFailed(fact: Fact<TenantServiceProbe, "tenantCreationFailed">): void {
    this.push("tenantCreationFailed", fact);
  }
  tenantRetrieved(fact: Fact<TenantServiceProbe, "tenantRetrieved">): void {
    this.push("tenantRetrieved", fact);
  }
  tenantNotFound(fact: Fact<TenantServiceProbe, "tenantNotFound">): void {
    this.push("tenantNotFound", fact);
  }
  tenantsListed(fact: Fact<TenantServiceProbe, "tenantsListed">): void {
    this.push("tenantsListed", fact);
  }
  tenantDeleted(fact: Fact<TenantServiceProbe, "tenantDeleted">): void {
    this.push("tenantDeleted", fact);
  }
  tenantDeletionFailed(fact: Fact<TenantServiceProbe, "tenantDeletionFailed">): void {
    this.push("tenantDeletionFailed", fact);
  }
  tenantAccessDenied(fact: Fact<TenantServiceProbe, "tenantAccessDenied">): void {
    this.push("tenantAccessDenied", fact);
  }
  memberAdded(fact: Fact<TenantServiceProbe, "memberAdded">): void {
    this.push("memberAdded", fact);
  }
  memberRemoved(fact: Fact<TenantServiceProbe, "memberRemoved">): void {
    this.push("memberRemoved", fact);
  }
  memberRoleChanged(fact: Fact<TenantServiceProbe, "memberRoleChanged">): void {
    this.push("memberRoleChanged", fact);
  }
  membersListed(fact: Fact<TenantServiceProbe, "membersListed">): void {
    this.push("membersListed", fact);
  }
  defaultTenantEnsured(fact: Fact<TenantServiceProbe, "defaultTenantEnsured">): void {
    this.push("defaultTenantEnsured", fact);
  }
  defaultTenantJoined(fact: Fact<TenantServiceProbe, "defaultTenantJoined">): void {
    this.push("defaultTenantJoined", fact);
  }
  invitationRecorded(fact: Fact<TenantServiceProbe, "invitationRecorded">): void {
    this.push("invitationRecorded", fact);
  }
  invitationRevoked(fact: Fact<TenantServiceProbe, "invitationRevoked">): void {
    this.push("invitationRevoked", fact);
  }
  invitationBound(fact: Fact<TenantServiceProbe, "invitationBound">): void {
    this.push("invitationBound", fact);
  }
}

export class RecordingGroupServiceProbe extends Recorder implements GroupServiceProbe {
  withContext(context: ObservationContext): GroupServiceProbe {
    return new RecordingGroupServiceProbe(this.calls, context);
  }
  groupCreated(fact: Fact<GroupServiceProbe, "groupCreated">): void {
    this.push("groupCreated", fact);
  }
  groupsListed(fact: Fact<GroupServiceProbe, "groupsListed">): void {
    this.push("groupsListed", fact);
  }
  groupRenamed(fact: Fact<GroupServiceProbe, "groupRenamed">): void {
    this.push("groupRenamed", fact);
  }
  groupDeleted(fact: Fact<GroupServiceProbe, "groupDeleted">): void {
    this.push("groupDeleted", fact);
  }
  memberAdded(fact: Fact<GroupServiceProbe, "memberAdded">): void {
    this.push("memberAdded", fact);
  }
  memberRoleChanged(fact: Fact<GroupServiceProbe, "memberRoleChanged">): void {
    this.push("memberRoleChanged", fact);
  }
  memberRemoved(fact: Fact<GroupServiceProbe, "memberRemoved">): void {
    this.push("memberRemoved", fact);
  }
  groupAccessDenied(fact: Fact<GroupServiceProbe, "groupAccessDenied">): void {
    this.push("groupAccessDenied", fact);
  }
  lastAdminProtected(fact: Fact<GroupServiceProbe, "lastAdminProtected">): void {
    this.push("lastAdminProtected", fact);
  }
}

export class RecordingApiKeyServiceProbe extends Recorder implements ApiKeyServiceProbe {
  withContext(context: ObservationContext): ApiKeyServiceProbe {
    return new RecordingApiKeyServiceProbe(this.calls, context);
  }
  apiKeyCreated(fact: Fact<ApiKeyServiceProbe, "apiKeyCreated">): void {
    this.push("apiKeyCreated", fact);
  }
  apiKeyCreationDenied(fact: Fact<ApiKeyServiceProbe, "apiKeyCreationDenied">): void {
    this.push("apiKeyCreationDenied", fact);
  }
  apiKeyRevoked(fact: Fact<ApiKeyServiceProbe, "apiKeyRevoked">): void {
    this.push("apiKeyRevoked", fact);
  }
  apiKeyRevocationDenied(fact: Fact<ApiKeyServiceProbe, "apiKeyRevocationDenied">): void {
    this.push("apiKeyRevocationDenied", fact);
  }
}
