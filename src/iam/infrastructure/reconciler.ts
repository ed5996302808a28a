/**
 * Repairs SpiceDB from the IAM tables: adds relationships that are missing and deletes ones of our
 * resource types that no table supports. Safe to run at any time; `dryRun` only reports. A
 * relationship SpiceDB refuses does not stop the repair: the rest is applied and the refused ones
 * are listed in the report.
 */
import {
  formatRelationship,
  type AuthorizationPort,
  type Relationship,
} from "../../shared-kernel/authorization/authorization-port.js";
import type { AppDatabase } from "../../platform/database/database.js";
import { bumpAuthzRevision, type AuthzRevisionSnapshot } from "../../platform/outbox/authz-revision.js";
import { lockOutDrains } from "../../platform/outbox/outbox-store.js";
import { writeAcceptedUpdates, type RefusedUpdate } from "../../platform/spicedb/accepted-updates.js";
import { OWNED_RESOURCE_TYPES, deriveRelationships } from "./relationship-derivation.js";

export interface ReconcileReport {
  readonly expected: number;
  readonly found: number;
  readonly missing: readonly Relationship[];
  readonly orphaned: readonly Relationship[];
  readonly applied: boolean;
  /** Repairs SpiceDB refused, with its reasons: they stay missing (or orphaned). */
  readonly refused: readonly RefusedUpdate[];
  /** The authorization revision after the repair (null when nothing changed). */
  readonly revision: AuthzRevisionSnapshot | null;
}

export async function reconcile(
  db: AppDatabase,
  authorization: AuthorizationPort,
  options: { dryRun: boolean },
): Promise<ReconcileReport> {
  return db.transaction(async (tx) => {
    await lockOutDrains(tx);
    return compareAndRepair(tx, authorization, options);
  });
}

async function compareAndRepair(
  db: Parameters<Parameters<AppDatabase["transaction"]>[0]>[0],
  authorization: AuthorizationPort,
  options: { dryRun: boolean },
): Promise<ReconcileReport> {
  const expected = await deriveRelationships(db);
  const actual: Relationship[] = [];
  for (const resourceType of OWNED_RESOURCE_TYPES) {
    actual.push(...(await authorization.readRelationships({ resourceType }, { kind: "full" })));
  }
  const expectedKeys = new Set(expected.map(formatRelationship));
  const actualKeys = new Set(actual.map(formatRelationship));
  const missing = expected.filter((r) => !actualKeys.has(formatRelationship(r)));
  const orphaned = actual.filter((r) => !expectedKeys.has(formatRelationship(r)));
  let revision: AuthzRevisionSnapshot | null = null;
  let refused: readonly RefusedUpdate[] = [];
  if (!options.dryRun && missing.length + orphaned.length > 0) {
    const written = await writeAcceptedUpdates(authorization, [
      ...missing.map((relationship) => ({ operation: "touch" as const, relationship })),
      ...orphaned.map((relationship) => ({ operation: "delete" as const, relationship })),
    ]);
    refused = written.refused;
    // Cached decisions predate the repair.
    revision = await bumpAuthzRevision(db, written.token, orphaned.length > 0);
  }
  return {
    revision,
    expected: expected.length,
    found: actual.length,
    missing,
    orphaned,
    refused,
    applied: !options.dryRun && missing.length + orphaned.length > 0,
  };
}
