/**
 * Which SpiceDB the processes of one PostgreSQL database apply their changes to, claimed by each
 * process for as long as it runs. An in-process SpiceDB learns only the changes its own process
 * applies, so on a database that others serve it would answer from a stale index; worse, its
 * outbox drains take the others' changes and apply them to itself alone, so they never reach
 * the shared SpiceDB (a stray `serve` without SPICEDB_ENDPOINT beside a cluster did exactly that).
 *
 * The claim is a session advisory lock on a connection of its own (it goes with the process,
 * however it ends): processes with a shared SpiceDB (SPICEDB_ENDPOINT) hold it shared, any number
 * of them; a process with an in-process SpiceDB holds it exclusively, alone. Either kind refuses
 * to start beside the other, with one line saying what to do.
 */
import type { DatabaseConfig } from "../config/config.js";
import { trySessionLock } from "../database/postgres-database.js";

const LOCK_NAME = "kartograph-iam spicedb of this database";

/** The database's SpiceDB is not the one this process would use. */
export class SpiceDbModeConflictError extends Error {
  override name = "SpiceDbModeConflictError";
}

export interface SpiceDbModeClaim {
  release(): Promise<void>;
}

/**
 * Claims the database for a process whose SpiceDB is `mode`; null when there is nothing to claim
 * (PGlite: one process by construction). Throws SpiceDbModeConflictError when processes of the
 * other kind (or, embedded, another embedded one) serve the database.
 */
export async function claimSpiceDbMode(config: DatabaseConfig, mode: "embedded" | "remote"): Promise<SpiceDbModeClaim | null> {
  const url = config.url;
  if (url === null) return null;
  const target = { ...config, url };
  const claim = await trySessionLock(target, LOCK_NAME, { shared: mode === "remote" });
  if (claim !== null) return claim;
  if (mode === "remote") {
    throw new SpiceDbModeConflictError(
      "another kartograph-iam process serves this database with its own in-process SpiceDB (no SPICEDB_ENDPOINT), which would keep applying changes to itself alone; stop it, or start it with SPICEDB_ENDPOINT set to this cluster's SpiceDB",
    );
  }
  // A shared claim succeeds beside shared holders only: it tells the two refusals apart.
  const probe = await trySessionLock(target, LOCK_NAME, { shared: true });
  await probe?.release();
  throw new SpiceDbModeConflictError(
    probe !== null
      ? "other kartograph-iam processes serve this database through a shared SpiceDB (SPICEDB_ENDPOINT); this one, with an in-process SpiceDB, would take their changes and apply them to itself alone; set SPICEDB_ENDPOINT to the same SpiceDB"
      : "another kartograph-iam process serves this database with its own in-process SpiceDB, which would leave each one's permissions stale; run several processes against one SpiceDB cluster (set SPICEDB_ENDPOINT), or stop the other process",
  );
}
