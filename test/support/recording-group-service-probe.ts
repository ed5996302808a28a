import type { GroupOperation, GroupPermission, GroupServiceProbe } from "../../src/iam/application/group-service-probe.js";
import type { GroupRole } from "../../src/iam/domain/roles.js";
import { ObservationContext } from "../../src/shared-kernel/observation-context.js";

export interface RecordedProbeEvent {
  readonly name: string;
  readonly fields: Record<string, unknown>;
  /** The observation context the event was reported under, as a record. */
  readonly context: Record<string, unknown>;
}

/** A probe that remembers what it was told, for assertions; probes created by withContext share the list. */
export class RecordingGroupServiceProbe implements GroupServiceProbe {
  constructor(
    readonly events: RecordedProbeEvent[] = [],
    private readonly context: ObservationContext = ObservationContext.empty,
  ) {}

  names(): string[] {
    return this.events.map((event) => event.name);
  }

  clear(): void {
    this.events.length = 0;
  }

  withContext(context: ObservationContext): GroupServiceProbe {
    return new RecordingGroupServiceProbe(this.events, context);
  }

  groupCreated(groupId: string, name: string): void {
    this.record("groupCreated", { groupId, name });
  }
  groupRenamed(groupId: string, name: string): void {
    this.record("groupRenamed", { groupId, name });
  }
  groupDeleted(groupId: string, workspaceGrantsRemoved: number): void {
    this.record("groupDeleted", { groupId, workspaceGrantsRemoved });
  }
  memberAdded(groupId: string, userId: string, role: GroupRole): void {
    this.record("memberAdded", { groupId, userId, role });
  }
  memberRoleChanged(groupId: string, userId: string, role: GroupRole): void {
    this.record("memberRoleChanged", { groupId, userId, role });
  }
  memberRemoved(groupId: string, userId: string): void {
    this.record("memberRemoved", { groupId, userId });
  }
  permissionDenied(groupId: string, permission: GroupPermission): void {
    this.record("permissionDenied", { groupId, permission });
  }
  lastAdminProtected(groupId: string, operation: GroupOperation, reason: string): void {
    this.record("lastAdminProtected", { groupId, operation, reason });
  }
  operationFailed(operation: GroupOperation, groupId: string | null, error: unknown): void {
    this.record("operationFailed", { operation, groupId, error });
  }

  private record(name: string, fields: Record<string, unknown>): void {
    this.events.push({ name, fields, context: this.context.asRecord() });
  }
}
