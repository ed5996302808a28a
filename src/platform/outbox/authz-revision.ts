/**
 * The authorization revision as this process knows it. It only moves forward: a local drain
 * reports the revision it committed; in a cluster, each request first reads the database's
 * revision (one primary-key read), so that a write that returned on any process is never
 * answered from an older cached decision.
 */
import { sql } from "drizzle-orm";
import { queryRows, type Queryable } from "../database/database.js";

export interface AuthzRevisionSnapshot {
  readonly revision: number;
  /** ZedToken of the SpiceDB write that produced this revision, when known. */
  readonly zedToken: string | null;
}

export class AuthzRevisionTracker {
  private snapshot: AuthzRevisionSnapshot = { revision: 0, zedToken: null };

  current(): AuthzRevisionSnapshot {
    return this.snapshot;
  }

  observe(next: AuthzRevisionSnapshot): void {
    if (next.revision > this.snapshot.revision) this.snapshot = next;
  }

  /** Reads the database's revision and adopts it if newer. */
  async refresh(db: Queryable): Promise<AuthzRevisionSnapshot> {
    this.observe(await readAuthzRevision(db));
    return this.snapshot;
  }
}

export async function readAuthzRevision(db: Queryable): Promise<AuthzRevisionSnapshot> {
  const rows = await queryRows<{ revision: string | number; zed_token: string | null }>(
    db,
    sql`SELECT revision, zed_token FROM authz_revision WHERE id = 1`,
  );
  const row = rows[0];
  return { revision: Number(row?.revision ?? 0), zedToken: row?.zed_token ?? null };
}

/** Bumps the revision inside the drain's transaction; returns the new snapshot. */
export async function bumpAuthzRevision(tx: Queryable, zedToken: string | null): Promise<AuthzRevisionSnapshot> {
  const rows = await queryRows<{ revision: string | number; zed_token: string | null }>(
    tx,
    sql`UPDATE authz_revision SET revision = revision + 1, zed_token = COALESCE(${zedToken}, zed_token), updated_at = now()
        WHERE id = 1 RETURNING revision, zed_token`,
  );
  const row = rows[0];
  return { revision: Number(row?.revision ?? 0), zedToken: row?.zed_token ?? null };
}
