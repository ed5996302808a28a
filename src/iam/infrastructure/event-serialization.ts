/**
 * IAM events to outbox rows and back. Payloads are plain JSON (dates as ISO-8601 strings); reading
 * one back checks the fields the translator relies on, so a malformed row is dead-lettered with a
 * clear reason instead of writing nonsense to SpiceDB.
 */
import { PoisonEntryError, type NewOutboxEntry, type OutboxEntry } from "../../platform/outbox/outbox-entry.js";
import { IAM_EVENT_TYPES, aggregateOf, type IamEvent } from "../domain/events.js";

export function toOutboxEntry(event: IamEvent): NewOutboxEntry {
  const aggregate = aggregateOf(event);
  const { type, occurredAt, ...fields } = event;
  return {
    tenantId: event.tenantId,
    aggregateType: aggregate.type,
    aggregateId: aggregate.id,
    eventType: type,
    payload: { ...fields, occurredAt: occurredAt.toISOString() },
    occurredAt,
  };
}

const REQUIRED_STRINGS: Record<IamEvent["type"], readonly string[]> = {
  TenantCreated: ["tenantId"],
  TenantDeleted: ["tenantId"],
  TenantMemberAdded: ["tenantId", "userId", "role"],
  TenantMemberRemoved: ["tenantId", "userId"],
  TenantInvitationCreated: ["tenantId", "email", "role"],
  TenantInvitationRevoked: ["tenantId", "email"],
  ScimTokenCreated: ["tenantId", "tokenId", "name", "createdBy"],
  ScimTokenRevoked: ["tenantId", "tokenId", "name"],
  GroupCreated: ["tenantId", "groupId"],
  GroupRenamed: ["tenantId", "groupId", "name"],
  GroupDeleted: ["tenantId", "groupId"],
  GroupMemberAdded: ["tenantId", "groupId", "userId", "role"],
  GroupMemberRemoved: ["tenantId", "groupId", "userId", "role"],
  GroupMemberRoleChanged: ["tenantId", "groupId", "userId", "oldRole", "newRole"],
  WorkspaceCreated: ["tenantId", "workspaceId"],
  WorkspaceCreatorTenantSet: ["tenantId", "workspaceId"],
  WorkspaceRenamed: ["tenantId", "workspaceId", "name"],
  WorkspaceDeleted: ["tenantId", "workspaceId"],
  WorkspaceMemberAdded: ["tenantId", "workspaceId", "memberId", "memberType", "role"],
  WorkspaceMemberRemoved: ["tenantId", "workspaceId", "memberId", "memberType", "role"],
  WorkspaceMemberRoleChanged: ["tenantId", "workspaceId", "memberId", "memberType", "oldRole", "newRole"],
  ApiKeyCreated: ["tenantId", "apiKeyId", "userId"],
  ApiKeyRevoked: ["tenantId", "apiKeyId", "userId"],
  ApiKeyDeleted: ["tenantId", "apiKeyId", "userId"],
};

const SNAPSHOT_EVENTS = new Set(["TenantDeleted", "GroupDeleted", "WorkspaceDeleted"]);

export function isIamEventType(type: string): type is IamEvent["type"] {
  return (IAM_EVENT_TYPES as readonly string[]).includes(type);
}

export function fromOutboxEntry(entry: OutboxEntry): IamEvent {
  if (!isIamEventType(entry.eventType)) throw new PoisonEntryError(`Unknown IAM event type ${entry.eventType}`);
  const payload = entry.payload;
  const missing = REQUIRED_STRINGS[entry.eventType].filter(
    (key) => typeof payload[key] !== "string" || payload[key] === "",
  );
  if (missing.length > 0) {
    throw new PoisonEntryError(`${entry.eventType} payload lacks string field(s): ${missing.join(", ")}`);
  }
  if (SNAPSHOT_EVENTS.has(entry.eventType) && !Array.isArray(payload["members"])) {
    throw new PoisonEntryError(`${entry.eventType} payload lacks its member snapshot`);
  }
  return { ...payload, type: entry.eventType, occurredAt: new Date(String(payload["occurredAt"])) } as unknown as IamEvent;
}
