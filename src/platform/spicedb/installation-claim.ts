/**
 * One SpiceDB serves one IAM database. Two databases writing to one SpiceDB would not see each
 * other's rows but would share its relationships: each one's `reconcile` deletes the other's as
 * orphans (every role of the other deployment lost at once), and lookups would name resources the
 * other database holds. So each database's identity (`iam_installation`, made by migration
 * 0010) is recorded in the SpiceDB it writes to, and a process whose database is another is
 * refused at start, with one line saying what to do.
 *
 * Processes of one database (any number of them, a restored copy too) carry the same identity.
 * A SpiceDB a database claimed keeps the claim when that database is dropped: to give it to
 * another, delete the relationship (the message names it); `reconcile` then makes SpiceDB match.
 */
import { sql } from "drizzle-orm";
import { queryRows, type Queryable } from "../database/database.js";
import type { AuthorizationPort, Relationship } from "../../shared-kernel/authorization/authorization-port.js";

const INSTALLATION = { type: "iam_installation", id: "kartograph_iam" } as const;
const RELATION = "database";

/** The SpiceDB holds another IAM database's relationships. */
export class SpiceDbOwnedElsewhereError extends Error {
  override name = "SpiceDbOwnedElsewhereError";
}

async function installationIdOf(db: Queryable): Promise<string> {
  const rows = await queryRows<{ installation_id: string }>(db, sql`SELECT installation_id FROM iam_installation WHERE id = 1`);
  const id = rows[0]?.installation_id;
  if (id === undefined) throw new Error("iam_installation has no row: the database was not migrated by kartograph-iam");
  return id;
}

function claimsOf(authorization: AuthorizationPort): Promise<Relationship[]> {
  return authorization.readRelationships({ resourceType: INSTALLATION.type, resourceId: INSTALLATION.id, relation: RELATION }, { kind: "full" });
}

function refusal(endpoint: string, ours: string, others: readonly string[]): SpiceDbOwnedElsewhereError {
  const other = others[0] ?? "";
  return new SpiceDbOwnedElsewhereError(
    `the SpiceDB at ${endpoint} serves another kartograph-iam database (installation ${other}; this database is ${ours}), ` +
      "and two databases sharing one SpiceDB delete each other's relationships; give this one a SpiceDB of its own " +
      `(or, if that database is gone for good, delete the claim: zed relationship delete ${INSTALLATION.type}:${INSTALLATION.id} ${RELATION} iam_database:${other})`,
  );
}

/**
 * Records this database as the SpiceDB's, or refuses (SpiceDbOwnedElsewhereError) when it records
 * another. Two databases claiming an unclaimed SpiceDB at the same moment both find the other's
 * claim on the second read and both stop: neither writes anything else to it. With `checkOnly`
 * (a dry run) an unclaimed SpiceDB is left unclaimed.
 */
export async function claimSpiceDbForDatabase(
  db: Queryable,
  authorization: AuthorizationPort,
  /** SPICEDB_ENDPOINT, for the message (null: a SpiceDB handed in by a test). */
  configuredEndpoint: string | null,
  { checkOnly = false }: { checkOnly?: boolean } = {},
): Promise<void> {
  const endpoint = configuredEndpoint ?? "SPICEDB_ENDPOINT";
  const ours = await installationIdOf(db);
  const others = (found: readonly Relationship[]) => found.map((r) => r.subject.id).filter((id) => id !== ours);
  const before = await claimsOf(authorization);
  const elsewhere = others(before);
  if (elsewhere.length > 0) throw refusal(endpoint, ours, elsewhere);
  if (before.length > 0 || checkOnly) return;
  await authorization.writeRelationships([
    { operation: "touch", relationship: { resource: INSTALLATION, relation: RELATION, subject: { type: "iam_database", id: ours } } },
  ]);
  const after = others(await claimsOf(authorization));
  if (after.length > 0) throw refusal(endpoint, ours, after);
}
