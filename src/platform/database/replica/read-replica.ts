/**
 * KARTOGRAPH_DB_READ_URL: a physical streaming replica of the primary that serves the reads of
 * read-only requests once it has replayed to their fence (see read-scope.ts, read-routing-pool.ts).
 *
 * At start-up the server behind the URL is checked, because a wrong one would serve wrong answers
 * without a sound:
 * - a replica in recovery of this primary: used;
 * - the primary itself (same system, same server start): a warning, and reads stay on the primary;
 * - any other server that is not in recovery (a logical replica, a copy, another database), or a
 *   replica of another primary: refused, since its WAL positions say nothing about ours;
 * - a replica of this primary, but another of its databases (a physical standby copies every
 *   database under the same names): refused, since it would answer from someone else's tables;
 * - unreachable: a warning; reads go to the primary until it answers (checked every second).
 */
import type pg from "pg";
import { parseWalPosition } from "./wal-position.js";
import { ReadRoutingPool } from "./read-routing-pool.js";
import { ReplicaMonitor, type ReplicaHealth } from "./replica-monitor.js";

/** How long a read waits for the replica to reach its fence before it goes to the primary. */
export const DEFAULT_FENCE_TIMEOUT_MS = 50;
/** How often an unusable replica is checked again, and a usable one re-probed (restarts, promotion). */
const PROBE_INTERVAL_MS = 1_000;

export class ReadReplicaRefusedError extends Error {
  override name = "ReadReplicaRefusedError";
}

export interface ReadReplica {
  readonly routing: ReadRoutingPool;
  readonly monitor: ReplicaMonitor;
  /** The replica's state and lag against the primary, read afresh. */
  health(): Promise<ReplicaHealth>;
  close(): Promise<void>;
}

export interface ReadReplicaOptions {
  readonly fenceTimeoutMs?: number;
}

interface ServerIdentity {
  readonly inRecovery: boolean;
  readonly systemId: string;
  readonly startedAt: string;
  readonly database: string;
}

async function identityOf(pool: pg.Pool): Promise<ServerIdentity> {
  const { rows } = await pool.query<{ in_recovery: boolean; system_id: string; started: string; database: string }>(
    `SELECT pg_is_in_recovery() AS in_recovery, system_identifier::text AS system_id,
            pg_postmaster_start_time()::text AS started, current_database() AS database
     FROM pg_control_system()`,
  );
  const row = rows[0];
  if (row === undefined) throw new Error("no answer to the identity query");
  return { inRecovery: row.in_recovery, systemId: row.system_id, startedAt: row.started, database: row.database };
}

/**
 * Checks the read server and sets up routing to it. Resolves to null (with a notice) when reads
 * should stay on the primary; throws ReadReplicaRefusedError when the server must not serve them.
 */
export async function openReadReplica(
  primary: pg.Pool,
  replicaPool: pg.Pool,
  options: ReadReplicaOptions = {},
): Promise<{ replica: ReadReplica | null; notice: string | null }> {
  const primaryIdentity = await identityOf(primary);
  let notice: string | null = null;
  const replicaIdentity = await identityOf(replicaPool).catch((error: unknown) => {
    notice = `KARTOGRAPH_DB_READ_URL does not answer (${error instanceof Error ? error.message : String(error)}); reads go to the primary until it does`;
    return null;
  });
  if (replicaIdentity !== null && !replicaIdentity.inRecovery) {
    if (replicaIdentity.systemId === primaryIdentity.systemId && replicaIdentity.startedAt === primaryIdentity.startedAt) {
      return { replica: null, notice: "KARTOGRAPH_DB_READ_URL points at the primary itself; every read goes to the primary" };
    }
    throw new ReadReplicaRefusedError(
      "KARTOGRAPH_DB_READ_URL is a server that is not in recovery, so not a streaming replica of KARTOGRAPH_DB_URL: reads there could miss writes. Point it at a physical standby of the primary, or unset it",
    );
  }
  if (replicaIdentity !== null && replicaIdentity.systemId !== primaryIdentity.systemId) {
    throw new ReadReplicaRefusedError(
      "KARTOGRAPH_DB_READ_URL is a replica of another primary (its system identifier differs from KARTOGRAPH_DB_URL's). Point it at a physical standby of the primary, or unset it",
    );
  }
  if (replicaIdentity !== null && replicaIdentity.database !== primaryIdentity.database) {
    throw new ReadReplicaRefusedError(
      `KARTOGRAPH_DB_READ_URL names the database "${replicaIdentity.database}" on the replica, but KARTOGRAPH_DB_URL's is "${primaryIdentity.database}": reads would come from another database's tables. Name the same database in both`,
    );
  }
  const monitor = new ReplicaMonitor(replicaPool, {
    fenceTimeoutMs: options.fenceTimeoutMs ?? DEFAULT_FENCE_TIMEOUT_MS,
    primarySystemId: primaryIdentity.systemId,
  });
  if (replicaIdentity !== null) await monitor.probe();
  // One probe at a time: a replica that hangs must not collect a queue of them in its pool.
  let probing = false;
  const timer = setInterval(() => {
    if (probing) return;
    probing = true;
    void monitor.probe().finally(() => (probing = false));
  }, PROBE_INTERVAL_MS);
  timer.unref();
  const routing = new ReadRoutingPool(primary, replicaPool, monitor);
  return {
    notice,
    replica: {
      routing,
      monitor,
      async health() {
        const flushed = await primary
          .query<{ flushed: string }>("SELECT pg_current_wal_flush_lsn()::text AS flushed")
          .then(({ rows }) => (rows[0] ? parseWalPosition(rows[0].flushed) : null))
          .catch(() => null);
        return monitor.health(flushed);
      },
      async close() {
        clearInterval(timer);
        await replicaPool.end();
      },
    },
  };
}
