/**
 * The outbox in /metrics. The backlog (pending entries, the age of the oldest one, dead letters)
 * is the database's: read with one statement at scrape time, so every process that serves
 * /metrics shows the same figures, whoever drains. Applied entries and failures are this process's
 * own, counted as its dispatcher and worker report them (rate() of the counter is applies/s).
 */
import { Counter, type Registry } from "prom-client";
import type { Queryable } from "../database/database.js";
import { registerScrapeReadGauges } from "../metrics/scrape-read-gauges.js";
import type { OutboxProbe } from "./outbox-probe.js";
import { readOutboxBacklog, type OutboxBacklog } from "./outbox-store.js";

/** What a failure was: an entry's attempt (retried later), an entry given up on, or a whole drain. */
export type OutboxFailureKind = "retry" | "dead_letter" | "drain";

export class OutboxMetrics {
  private readonly applied: Counter;
  private readonly failures: Counter<"kind">;

  constructor(registry: Registry, db: Queryable) {
    registerScrapeReadGauges<OutboxBacklog>(registry, () => readOutboxBacklog(db), [
      { name: "kartograph_outbox_pending_entries", help: "Outbox entries waiting to be applied to SpiceDB (all processes)", value: (b) => b.pending },
      {
        name: "kartograph_outbox_oldest_pending_age_seconds",
        help: "Age of the oldest outbox entry not yet applied (0 when none is pending): how far SpiceDB lags behind the database",
        value: (b) => b.oldestPendingAgeSeconds,
      },
      { name: "kartograph_outbox_dead_letters", help: "Outbox entries given up on (`kartograph-iam outbox failed` lists them)", value: (b) => b.deadLetters },
    ]);
    this.applied = new Counter({
      name: "kartograph_outbox_applied_entries_total",
      help: "Outbox entries this process applied to SpiceDB",
      registers: [registry],
    });
    this.failures = new Counter({
      name: "kartograph_outbox_apply_failures_total",
      help: "Outbox apply failures in this process: retry (an entry's attempt failed, it backs off), dead_letter (an entry given up on), drain (a whole drain failed: database or SpiceDB away)",
      labelNames: ["kind"],
      registers: [registry],
    });
    for (const kind of ["retry", "dead_letter", "drain"] as const) this.failures.inc({ kind }, 0);
  }

  /** `inner`, with the counts taken on the way. */
  counting(inner: OutboxProbe): OutboxProbe {
    const applied = this.applied;
    const failures = this.failures;
    return {
      entriesApplied(tenantId, count, durationMs) {
        applied.inc(count);
        inner.entriesApplied(tenantId, count, durationMs);
      },
      entryFailed(entryId, eventType, error, retryCount, retryInMs) {
        failures.inc({ kind: "retry" });
        inner.entryFailed(entryId, eventType, error, retryCount, retryInMs);
      },
      entryDeadLettered(entryId, eventType, error) {
        failures.inc({ kind: "dead_letter" });
        inner.entryDeadLettered(entryId, eventType, error);
      },
      drainFailed(tenantId, error) {
        failures.inc({ kind: "drain" });
        inner.drainFailed(tenantId, error);
      },
      entriesPurged: (count, olderThanHours) => inner.entriesPurged(count, olderThanHours),
      workerStarted: (mode) => inner.workerStarted(mode),
      workerStopped: () => inner.workerStopped(),
    };
  }
}
