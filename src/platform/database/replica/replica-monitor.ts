/**
 * What this process knows about its read replica: whether it answers as a streaming replica of
 * our primary, and how far it has replayed. Answers the one question the read fence asks
 * ("has it replayed at least this far?"), waiting a bounded time for it, and says how the replica
 * is doing for /health/ready.
 *
 * The replayed position is kept between polls: while the replica server stays up it only moves
 * forward, so a fence at or below it needs no round trip. A restarted replica may come back
 * showing less than it did (it reopens at its last restart point), so a new server start time, a
 * failed query or a connection the pool lost forgets the position until a poll reads it again.
 */
import type pg from "pg";
import { FreshSharedRun } from "../../runtime/fresh-shared-run.js";
import { parseWalPosition } from "./wal-position.js";

/** Between fence polls of one waiting read (a local replica replays a commit in about a millisecond). */
const POLL_GAP_MS = 1;
/** Behind by this much: "lagging", whatever the reads do. */
const LAGGING_BYTES = 64 * 1024;
/** Behind at all, and a read missed its fence this recently: "lagging". */
const RECENT_MISS_MS = 10_000;

export type ReplicaState = "ok" | "lagging" | "unreachable" | "not_a_replica";

export interface ReplicaHealth {
  readonly state: ReplicaState;
  /** How far its replay is behind the primary's flushed WAL, when both answered. */
  readonly lagBytes: number | null;
  /** Age of the last transaction it replayed while behind (0 when caught up). */
  readonly lagSeconds: number | null;
  readonly detail: string | null;
}

export interface ReplicaMonitorOptions {
  /** How long a read waits for the replica to reach its fence before it goes to the primary. */
  readonly fenceTimeoutMs: number;
  /** The primary's system identifier: a replica of another primary is not ours. */
  readonly primarySystemId: string;
}

/** Told when the replica stops or starts being used for reads (for the log). */
export type ReplicaChangeListener = (usable: boolean, reason: string) => void;

interface Probe {
  readonly inRecovery: boolean;
  readonly replayed: bigint | null;
  readonly startedAt: string;
  readonly systemId: string;
  readonly replayAgeSeconds: number | null;
}

export type FenceOutcome = "replica" | "fence_timeout" | "replica_unavailable";

export class ReplicaMonitor {
  private usable = false;
  private replayed = -1n;
  private startedAt: string | null = null;
  private lastProblem = "not checked yet";
  private lastFenceMissAt = Number.NEGATIVE_INFINITY;
  private listener: ReplicaChangeListener = () => undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: ReplicaMonitorOptions,
  ) {
    // An idle connection that dies (the replica shut down) is the first sign of a restart.
    pool.on("error", (error) => this.markFailed(error));
  }

  onChange(listener: ReplicaChangeListener): void {
    this.listener = listener;
  }

  isUsable(): boolean {
    return this.usable;
  }

  /**
   * Whether the replica has replayed at least to `fence`, waiting up to the fence timeout. Never
   * throws and never waits longer: a replica that does not answer in time is a miss.
   */
  async reach(fence: bigint): Promise<FenceOutcome> {
    if (!this.usable) return "replica_unavailable";
    if (this.replayed >= fence) return "replica";
    const deadline = Date.now() + this.options.fenceTimeoutMs;
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return this.missed();
      const replayed = await withinMs(this.fencePolls.run(undefined), remaining).catch((error: unknown) => {
        this.markFailed(error);
        return null;
      });
      if (!this.usable) return "replica_unavailable";
      if (replayed === undefined) return this.missed();
      if (replayed !== null && replayed >= fence) return "replica";
      await sleep(Math.min(POLL_GAP_MS, Math.max(0, deadline - Date.now())));
    }
  }

  private missed(): FenceOutcome {
    this.lastFenceMissAt = Date.now();
    return "fence_timeout";
  }

  /** A query on the replica failed: stop using it until a probe finds it well again. */
  markFailed(error: unknown): void {
    this.replayed = -1n;
    this.startedAt = null;
    this.becomeUnusable(`unreachable: ${error instanceof Error ? error.message : String(error)}`);
  }

  /** Reads the replica's state afresh; makes it usable again when it is a replica of our primary. */
  async probe(): Promise<ReplicaHealth> {
    let probe: Probe;
    try {
      probe = await readProbe(this.pool);
    } catch (error) {
      this.markFailed(error);
      return { state: "unreachable", lagBytes: null, lagSeconds: null, detail: this.lastProblem };
    }
    if (!probe.inRecovery || probe.replayed === null) {
      this.becomeUnusable("not_a_replica: the server is not in recovery (promoted?); reads go to the primary");
      return { state: "not_a_replica", lagBytes: null, lagSeconds: null, detail: this.lastProblem };
    }
    if (probe.systemId !== this.options.primarySystemId) {
      this.becomeUnusable("not_a_replica: it replicates another primary (system identifier differs)");
      return { state: "not_a_replica", lagBytes: null, lagSeconds: null, detail: this.lastProblem };
    }
    this.adopt(probe.replayed, probe.startedAt);
    if (!this.usable) {
      this.usable = true;
      this.listener(true, "answers as a streaming replica of the primary");
    }
    return { state: "ok", lagBytes: null, lagSeconds: probe.replayAgeSeconds, detail: null };
  }

  /** The replica's health against the primary's flushed position (read by the caller). */
  async health(primaryFlushed: bigint | null): Promise<ReplicaHealth> {
    const probed = await this.probe();
    if (probed.state !== "ok") return probed;
    const lagBytes = primaryFlushed === null ? null : Number(primaryFlushed > this.replayed ? primaryFlushed - this.replayed : 0n);
    const lagSeconds = lagBytes === 0 ? 0 : probed.lagSeconds;
    // An idle primary may have flushed part of a record that the replica cannot replay yet, so a
    // few bytes behind is normal; what matters is a real backlog, or reads that miss their fence.
    const lagging = lagBytes !== null && (lagBytes >= LAGGING_BYTES || (lagBytes > 0 && Date.now() - this.lastFenceMissAt < RECENT_MISS_MS));
    return { state: lagging ? "lagging" : "ok", lagBytes, lagSeconds, detail: null };
  }

  private readonly fencePolls = new FreshSharedRun<undefined, bigint | null>(async () => {
    const rows = await this.pool.query<{ replayed: string | null; started: string }>(
      "SELECT pg_last_wal_replay_lsn()::text AS replayed, pg_postmaster_start_time()::text AS started",
    );
    const row = rows.rows[0];
    if (row?.replayed == null) {
      this.becomeUnusable("not_a_replica: the server is not in recovery (promoted?); reads go to the primary");
      return null;
    }
    const replayed = parseWalPosition(row.replayed);
    this.adopt(replayed, row.started);
    return this.replayed;
  });

  private adopt(replayed: bigint, startedAt: string): void {
    // A new server start: what it showed before may be more than it shows now.
    if (startedAt !== this.startedAt) this.replayed = replayed;
    else if (replayed > this.replayed) this.replayed = replayed;
    this.startedAt = startedAt;
  }

  private becomeUnusable(problem: string): void {
    this.lastProblem = problem;
    if (!this.usable) return;
    this.usable = false;
    this.listener(false, problem);
  }
}

async function readProbe(pool: pg.Pool): Promise<Probe> {
  const { rows } = await pool.query<{
    in_recovery: boolean;
    replayed: string | null;
    started: string;
    system_id: string;
    replay_age: number | null;
  }>(
    `SELECT pg_is_in_recovery() AS in_recovery,
            pg_last_wal_replay_lsn()::text AS replayed,
            pg_postmaster_start_time()::text AS started,
            (SELECT system_identifier::text FROM pg_control_system()) AS system_id,
            EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 AS replay_age`,
  );
  const row = rows[0];
  if (row === undefined) throw new Error("the replica returned no row");
  return {
    inRecovery: row.in_recovery,
    replayed: row.replayed === null ? null : parseWalPosition(row.replayed),
    startedAt: row.started,
    systemId: row.system_id,
    replayAgeSeconds: row.replay_age === null ? null : Math.max(0, Number(row.replay_age)),
  };
}

/** The promise's value, or undefined when it takes longer than `ms` (it keeps running). */
function withinMs<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
