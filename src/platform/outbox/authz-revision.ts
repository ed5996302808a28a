/**
 * The authorization revision as this process knows it. It only moves forward: a local drain
 * reports the revision it committed; in a cluster, each request first reads the database's
 * revision (one primary-key read), so that a write that returned on any process is never
 * answered from an older cached decision.
 *
 * Each bump also says whether it deleted relationships. `revokedRevision` is the latest revision
 * that did (or might have): with a union-only permission schema, a decision that was "allowed" at
 * a revision at or after it is still "allowed" now, because later revisions only added grants.
 */
import { sql } from "drizzle-orm";
import { queryRows, type Queryable } from "../database/database.js";
import { FreshSharedRun } from "../runtime/fresh-shared-run.js";
import { parseWalPosition } from "../database/replica/wal-position.js";
import { arrayText } from "../database/array-text.js";

export interface AuthzRevisionSnapshot {
  readonly revision: number;
  /** ZedToken of the SpiceDB write that produced this revision, when known. */
  readonly zedToken: string | null;
  /** The latest revision that took relationships away (never after `revision`). */
  readonly revokedRevision: number;
}

export class AuthzRevisionTracker {
  private snapshot: AuthzRevisionSnapshot = { revision: 0, zedToken: null, revokedRevision: 0 };

  current(): AuthzRevisionSnapshot {
    return this.snapshot;
  }

  observe(next: AuthzRevisionSnapshot): void {
    if (next.revision > this.snapshot.revision) this.snapshot = next;
  }

  /**
   * Adopts the database's revision as of a read that starts after this call. Concurrent callers
   * share reads (see FreshSharedRun): under load that is one read per round trip instead of one per
   * request; alone, a caller still costs exactly one read.
   */
  refresh(db: Queryable): Promise<AuthzRevisionSnapshot> {
    return this.reads.run(db);
  }

  private readonly reads = new FreshSharedRun<Queryable, AuthzRevisionSnapshot>(async (db) => {
    this.observe(await readAuthzRevision(db));
    return this.snapshot;
  });

  /**
   * As `refresh`, and in the same statement the primary's flushed WAL position: the read fence of
   * a request that arrived before the read started (with a read replica; see replica/read-scope.ts).
   * Every commit that returned before then is flushed, so it is at or below that position.
   */
  refreshWithFence(db: Queryable): Promise<bigint> {
    return this.fencedReads.run(db);
  }

  private readonly fencedReads = new FreshSharedRun<Queryable, bigint>(async (db) => {
    const rows = await queryRows<Partial<RevisionRow> & { wal_flushed: string }>(
      db,
      sql`SELECT revision, zed_token, revoked_revision, declared_revision, wal_flushed
          FROM (SELECT pg_current_wal_flush_lsn()::text AS wal_flushed) AS wal
          LEFT JOIN authz_revision ON authz_revision.id = 1`,
    );
    const row = rows[0];
    if (row === undefined) throw new Error("the revision read returned no row");
    if (row.revision != null) this.observe(snapshotOf(row as RevisionRow));
    return parseWalPosition(row.wal_flushed);
  });
}

interface RevisionRow {
  revision: string | number;
  zed_token: string | null;
  revoked_revision: string | number;
  declared_revision: string | number;
}

function snapshotOf(row: RevisionRow | undefined): AuthzRevisionSnapshot {
  const revision = Number(row?.revision ?? 0);
  // A bump that did not declare itself (a process of an older version) may have revoked anything.
  const declared = Number(row?.declared_revision ?? 0) === revision;
  return {
    revision,
    zedToken: row?.zed_token ?? null,
    revokedRevision: declared ? Number(row?.revoked_revision ?? 0) : revision,
  };
}

export async function readAuthzRevision(db: Queryable): Promise<AuthzRevisionSnapshot> {
  const rows = await queryRows<RevisionRow>(
    db,
    sql`SELECT revision, zed_token, revoked_revision, declared_revision FROM authz_revision WHERE id = 1`,
  );
  return snapshotOf(rows[0]);
}

/**
 * Bumps the revision inside the drain's transaction; returns the new snapshot. `revokes` says
 * whether the SpiceDB change behind it deleted relationships (when unsure, say true). A bump
 * after an undeclared one counts as revoking too, so an older process's deletions are never missed.
 * `processedIds` are outbox entries to mark applied in the same statement (one round trip less
 * inside the tenant's lock, where drains queue).
 *
 * The stored ZedToken is what every process's checks ask SpiceDB to be at least as fresh as, so it
 * must cover every write whose bump has committed. Drains of different tenants run side by side:
 * one that wrote to SpiceDB before another but commits after it would store the older token over
 * the newer one, and checks would miss the other's change. So `revisionBefore` (the revision read
 * before this drain wrote to SpiceDB) says whether another bump came in between; if one did, the
 * token is cleared and checks are fully consistent until a drain bumps with nobody in between.
 */
export async function bumpAuthzRevision(
  tx: Queryable,
  zedToken: string | null,
  revokes: boolean,
  processedIds: readonly string[] = [],
  revisionBefore: number | null = null,
): Promise<AuthzRevisionSnapshot> {
  const rows = await queryRows<RevisionRow>(
    tx,
    sql`WITH processed AS (
          UPDATE outbox SET processed_at = now() WHERE id = ANY(${arrayText(processedIds)}::uuid[])
        )
        UPDATE authz_revision
        SET revision = revision + 1,
            zed_token = CASE
              WHEN ${zedToken}::text IS NULL THEN zed_token
              WHEN ${revisionBefore}::bigint IS NULL OR revision = ${revisionBefore}::bigint THEN ${zedToken}::text
              ELSE NULL
            END,
            revoked_revision = CASE WHEN ${revokes} OR declared_revision <> revision THEN revision + 1 ELSE revoked_revision END,
            declared_revision = revision + 1,
            updated_at = now()
        WHERE id = 1
        RETURNING revision, zed_token, revoked_revision, declared_revision`,
  );
  return snapshotOf(rows[0]);
}
