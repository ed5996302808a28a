/**
 * The read fence of the request being served: how far the primary's write-ahead log had been
 * flushed when the request arrived. Every write that returned before then is at or below it, so a
 * replica that has replayed that far shows the request everything it must see (DESIGN.md §3).
 *
 * The scope travels in the async context, like the change origin, rather than through every
 * repository signature: the HTTP layer opens it for read-only requests, and the read-routing pool
 * consults it for each query. Outside a scope (writes, start-up, the CLI), reads go to the primary.
 *
 * A read-only request can still write before it reads (a first sign-in provisions the user, an API
 * key's use is stamped). Such a write is newer than the fence, so whoever writes in a scope calls
 * `pinReadsToPrimary()`: the rest of the request reads its own write on the primary.
 */
import { AsyncLocalStorage } from "node:async_hooks";

/** Where a read-only request's queries go: the replica, or the primary and why. */
export type ReadTarget = "replica" | "fence_timeout" | "replica_unavailable" | "replica_failed" | "own_write";

export interface ReadScope {
  /** The primary's flushed WAL position when the request arrived. */
  readonly fence: bigint;
  /** Decided at the request's first query, then kept: later queries never see an older state. */
  target: Promise<ReadTarget> | null;
}

const scopes = new AsyncLocalStorage<ReadScope>();

/** Runs `work` (and everything it starts) as a read-only request fenced at `fence`. */
export function withReadFence<T>(fence: bigint, work: () => T): T {
  return scopes.run({ fence, target: null }, work);
}

export function currentReadScope(): ReadScope | undefined {
  return scopes.getStore();
}

/** After a write inside a read-only request: its later queries go to the primary. */
export function pinReadsToPrimary(): void {
  const scope = scopes.getStore();
  if (scope !== undefined) scope.target = OWN_WRITE;
}

const OWN_WRITE: Promise<ReadTarget> = Promise.resolve("own_write");
