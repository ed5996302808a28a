/**
 * The read replica in /metrics: where the queries of read-only requests went, how long their
 * first query waited for the fence decision, and whether the replica serves reads right now.
 * Share served by the replica: rate(kartograph_db_reads_total{served_by="replica"}) over
 * rate(kartograph_db_reads_total).
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { ReadReplica } from "../database/replica/read-replica.js";
import type { ReadRoutingProbe } from "../database/replica/read-routing-pool.js";

/** Where a read went: the replica, or the primary and the reason (the probe's targets). */
function labelsOf(target: Parameters<ReadRoutingProbe["served"]>[0]): { served_by: string; reason: string } {
  if (target === "replica") return { served_by: "replica", reason: "fence_reached" };
  // "primary": a read outside any read-only request (start-up, a write's own look-up).
  return { served_by: "primary", reason: target === "primary" ? "not_read_only" : target };
}

export function registerReplicaMetrics(registry: Registry, replica: ReadReplica): void {
  const reads = new Counter({
    name: "kartograph_db_reads_total",
    help: "Queries of the read database, by where they ran (replica, or primary with the reason: fence_timeout, replica_unavailable, replica_failed, own_write, not_read_only)",
    labelNames: ["served_by", "reason"],
    registers: [registry],
  });
  const fenceWait = new Histogram({
    name: "kartograph_db_read_fence_wait_seconds",
    help: "How long a read-only request's first query waited to learn whether the replica had replayed to its fence, by outcome",
    labelNames: ["outcome"],
    buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
    registers: [registry],
  });
  new Gauge({
    name: "kartograph_db_replica_usable",
    help: "1 while the read replica answers as a streaming replica of the primary and serves reads, else 0",
    registers: [registry],
    collect() {
      this.set(replica.monitor.isUsable() ? 1 : 0);
    },
  });
  replica.routing.observe({
    served: (target) => reads.inc(labelsOf(target)),
    fenceWaited: (seconds, outcome) => fenceWait.observe({ outcome }, seconds),
  });
}
