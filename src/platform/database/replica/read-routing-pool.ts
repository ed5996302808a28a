/**
 * The pool behind the read database (DatabaseHandle.readDb): each query goes to the replica when
 * the request it serves may read there, else to the primary.
 *
 * - Outside a read scope (writes, start-up, the CLI): the primary.
 * - In one: the request's first query asks the monitor whether the replica has replayed to the
 *   request's fence (waiting a bounded time); the answer holds for the rest of the request, so
 *   its reads never go back in time.
 * - A query that fails on the replica runs again on the primary (reads are safe to repeat), and the
 *   rest of the request stays there: a replica going away costs a retry, never an error.
 *
 * It is a pg.Pool so that Drizzle drives it like any other: Drizzle's node-postgres driver runs its
 * queries through `Pool.query` (promise form) and opens transactions with `Pool.connect`, which
 * this routes to the primary: the read paths run none, and a transaction must see its own writes.
 * The tests over a real replica (test/platform/database/read-replica.test.ts) fail if Drizzle
 * stops going through these two methods. This pool itself never opens a connection.
 */
import pg from "pg";
import { currentReadScope, type ReadTarget } from "./read-scope.js";
import type { ReplicaMonitor } from "./replica-monitor.js";

export interface ReadRoutingProbe {
  /** One query served, by the replica or by the primary and why. */
  served(target: ReadTarget | "primary"): void;
  /** The time a request's first read waited for the fence decision. */
  fenceWaited(seconds: number, target: ReadTarget): void;
}

const SILENT: ReadRoutingProbe = { served: () => undefined, fenceWaited: () => undefined };

type QueryArguments = Parameters<pg.Pool["query"]>;

export class ReadRoutingPool extends pg.Pool {
  private probe: ReadRoutingProbe = SILENT;

  constructor(
    private readonly primary: pg.Pool,
    private readonly replica: pg.Pool,
    private readonly monitor: ReplicaMonitor,
  ) {
    super({ max: 1 });
  }

  observe(probe: ReadRoutingProbe): void {
    this.probe = probe;
  }

  // Any-typed like pg's own overloads, which this forwards unchanged (promise form only).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(...args: any[]): any {
    return this.route((pool) => (pool.query as (...forwarded: QueryArguments) => Promise<pg.QueryResult>)(...(args as QueryArguments)));
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override connect(...args: any[]): any {
    return (this.primary.connect as (...forwarded: unknown[]) => unknown)(...args);
  }

  override async end(): Promise<void> {
    // The primary and replica pools belong to the database handle, which ends them.
  }

  private async route<T>(run: (pool: pg.Pool) => Promise<T>): Promise<T> {
    const scope = currentReadScope();
    if (scope === undefined) {
      this.probe.served("primary");
      return run(this.primary);
    }
    scope.target ??= this.decide(scope.fence);
    const target = await scope.target;
    if (target !== "replica") {
      this.probe.served(target);
      return run(this.primary);
    }
    let result: T;
    try {
      result = await run(this.replica);
    } catch (error) {
      if (isConnectionFailure(error)) this.monitor.markFailed(error);
      scope.target = REPLICA_FAILED;
      this.probe.served("replica_failed");
      return run(this.primary);
    }
    this.probe.served("replica");
    return result;
  }

  private async decide(fence: bigint): Promise<ReadTarget> {
    const started = performance.now();
    const target = await this.monitor.reach(fence);
    this.probe.fenceWaited((performance.now() - started) / 1000, target);
    return target;
  }
}

const REPLICA_FAILED: Promise<ReadTarget> = Promise.resolve("replica_failed");

/**
 * The replica, not the query, is at fault: no connection, a connection lost, a server shutting
 * down or starting up (class 08, 57P01-57P03), or a client-side timeout. Other failures (a query
 * cancelled by a recovery conflict, 40001) are retried on the primary without giving up on it.
 */
function isConnectionFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return true;
  return code.startsWith("08") || code === "57P01" || code === "57P02" || code === "57P03" || /^E[A-Z]+$/.test(code);
}
