/**
 * The outbox handler that keeps SpiceDB in step with the IAM tables. All entries handed to it go
 * to SpiceDB as one WriteRelationships request (split only past SpiceDB's per-request limit),
 * with repeated updates of the same relationship folded so that the last one wins, exactly as if
 * the entries had been applied one by one.
 *
 * An update SpiceDB refuses does not hold the tenant's queue: the others are written (see
 * accepted-updates.ts for why skipping it is safe in any order) and the entries that asked for it
 * are reported refused, to be dead-lettered with SpiceDB's reason.
 */
import {
  formatRelationship,
  lastUpdatePerRelationship,
  type AuthorizationPort,
  type RelationshipUpdate,
} from "../../shared-kernel/authorization/authorization-port.js";
import { NOTHING_WRITTEN, type HandledWrite, type OutboxEntry, type OutboxHandler } from "../../platform/outbox/outbox-entry.js";
import { describeRefused, writeAcceptedUpdates } from "../../platform/spicedb/accepted-updates.js";
import { IAM_EVENT_TYPES } from "../domain/events.js";
import { fromOutboxEntry } from "./event-serialization.js";
import { translate } from "./relationship-translator.js";

export class RelationshipSyncHandler implements OutboxHandler {
  readonly name = "iam-relationships";
  readonly eventTypes = IAM_EVENT_TYPES;

  constructor(private readonly authorization: AuthorizationPort) {}

  async handle(entries: readonly OutboxEntry[]): Promise<HandledWrite> {
    const perEntry = entries.map((entry) => ({ entry, updates: translate(fromOutboxEntry(entry)) }));
    const updates = lastUpdatePerRelationship(perEntry.flatMap(({ updates }) => updates));
    if (updates.length === 0) return NOTHING_WRITTEN;
    const { token, refused } = await writeAcceptedUpdates(this.authorization, updates);
    const revokes = updates.some((update) => update.operation === "delete");
    if (refused.length === 0) return { token, revokes };
    const reasons = new Map(refused.map((r) => [updateKey(r.update), describeRefused(r)]));
    const refusedEntries = new Map<string, string>();
    for (const { entry, updates } of perEntry) {
      const own = updates.flatMap((update) => reasons.get(updateKey(update)) ?? []);
      if (own.length > 0) refusedEntries.set(entry.id, `SpiceDB refused ${own.join("; ")}`);
    }
    return { token, revokes, refused: refusedEntries };
  }
}

function updateKey(update: RelationshipUpdate): string {
  return `${update.operation} ${formatRelationship(update.relationship)}`;
}
