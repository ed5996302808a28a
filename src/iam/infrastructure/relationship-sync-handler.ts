/**
 * The outbox handler that keeps SpiceDB in step with the IAM tables. All entries handed to it go
 * to SpiceDB as one WriteRelationships request (split only past SpiceDB's per-request limit),
 * with repeated updates of the same relationship folded so that the last one wins, exactly as if
 * the entries had been applied one by one.
 */
import {
  formatRelationship,
  type AuthorizationPort,
  type RelationshipUpdate,
} from "../../shared-kernel/authorization/authorization-port.js";
import { NOTHING_WRITTEN, type HandledWrite, type OutboxEntry, type OutboxHandler } from "../../platform/outbox/outbox-entry.js";
import { IAM_EVENT_TYPES } from "../domain/events.js";
import { fromOutboxEntry } from "./event-serialization.js";
import { translate } from "./relationship-translator.js";

export function foldUpdates(updates: readonly RelationshipUpdate[]): RelationshipUpdate[] {
  const last = new Map<string, RelationshipUpdate>();
  for (const update of updates) {
    const key = formatRelationship(update.relationship);
    last.delete(key);
    last.set(key, update);
  }
  return [...last.values()];
}

export class RelationshipSyncHandler implements OutboxHandler {
  readonly name = "iam-relationships";
  readonly eventTypes = IAM_EVENT_TYPES;

  constructor(private readonly authorization: AuthorizationPort) {}

  async handle(entries: readonly OutboxEntry[]): Promise<HandledWrite> {
    const updates = foldUpdates(entries.flatMap((entry) => translate(fromOutboxEntry(entry))));
    if (updates.length === 0) return NOTHING_WRITTEN;
    const token = await this.authorization.writeRelationships(updates);
    return { token, revokes: updates.some((update) => update.operation === "delete") };
  }
}
