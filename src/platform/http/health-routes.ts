import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import type { ReplicaHealth } from "../database/replica/replica-monitor.js";

export interface HealthChecks {
  pingDatabase(): Promise<void>;
  /** True when every migration this build ships has been applied. */
  migrationsCurrent(): Promise<boolean>;
  pingAuthorization(): Promise<void>;
  /** Relationships SpiceDB refused when the embedded engine was loaded at start (0 for a cluster). */
  relationshipsNotLoaded?(): number;
  /** The read replica's state, when one is configured. */
  replica?(): Promise<ReplicaHealth>;
  readonly graphName: string;
}

const ReplicaReport = Type.Object({
  state: Type.Union([Type.Literal("ok"), Type.Literal("lagging"), Type.Literal("unreachable"), Type.Literal("not_a_replica")]),
  lag_bytes: Type.Union([Type.Integer(), Type.Null()]),
  lag_seconds: Type.Union([Type.Number(), Type.Null()]),
  detail: Type.Union([Type.String(), Type.Null()]),
});

async function replicaReport(checks: HealthChecks) {
  if (checks.replica === undefined) return null;
  let timer: NodeJS.Timeout | undefined;
  const unanswered: ReplicaHealth = { state: "unreachable", lagBytes: null, lagSeconds: null, detail: "did not answer in time" };
  const timeout = new Promise<ReplicaHealth>((resolve) => {
    timer = setTimeout(() => resolve(unanswered), CHECK_TIMEOUT_MS);
  });
  const health = await Promise.race([checks.replica(), timeout]).finally(() => clearTimeout(timer));
  return { state: health.state, lag_bytes: health.lagBytes, lag_seconds: health.lagSeconds, detail: health.detail };
}

const CHECK_TIMEOUT_MS = 3_000;

async function passes(check: () => Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("timed out")), CHECK_TIMEOUT_MS);
    });
    const result = await Promise.race([check(), timeout]);
    return result !== false;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

const Detail = Type.Object({ detail: Type.Unknown() });

export function registerHealthRoutes(server: FastifyInstance, checks: HealthChecks): void {
  server.get(
    "/health",
    {
      schema: {
        tags: ["health"],
        summary: "Liveness: the process answers",
        response: { 200: Type.Object({ status: Type.Literal("ok") }) },
      },
    },
    async () => ({ status: "ok" as const }),
  );

  server.get(
    "/health/db",
    {
      schema: {
        tags: ["health"],
        summary: "Database connectivity",
        response: {
          200: Type.Object({ status: Type.Literal("ok"), connected: Type.Boolean(), graph_name: Type.String() }),
          503: Detail,
        },
      },
    },
    async (request, reply) => {
      if (await passes(() => checks.pingDatabase())) {
        return { status: "ok" as const, connected: true, graph_name: checks.graphName };
      }
      request.log.warn("health check: database did not answer");
      return reply.code(503).send({ detail: "Database connectivity failure: the database did not answer" });
    },
  );

  server.get(
    "/health/ready",
    {
      schema: {
        tags: ["health"],
        summary: "Readiness: database, migrations and SpiceDB all answer",
        description:
          "503 when a part does not answer. 200 with status `degraded` when the service runs but SpiceDB refused some relationships at start-up (each is logged as relationship_not_loaded; run `kartograph-iam reconcile`), or when the read replica (KARTOGRAPH_DB_READ_URL) is unreachable or not a replica: reads then go to the primary, so the service is whole, but slower. `replica` reports its state and lag (a lagging replica is `ok`: reads that it has not caught up with go to the primary).",
        response: {
          200: Type.Object({
            status: Type.Union([Type.Literal("ok"), Type.Literal("degraded")]),
            checks: Type.Record(Type.String(), Type.String()),
            replica: Type.Optional(ReplicaReport),
          }),
          503: Type.Object({ detail: Type.String(), checks: Type.Record(Type.String(), Type.String()) }),
        },
      },
    },
    async (_request, reply) => {
      const [database, spicedb, replica] = await Promise.all([
        passes(() => checks.pingDatabase()),
        passes(() => checks.pingAuthorization()),
        replicaReport(checks),
      ]);
      const migrations = database && (await passes(() => checks.migrationsCurrent()));
      const results = {
        database: database ? "ok" : "unreachable",
        migrations: migrations ? "ok" : database ? "pending" : "unknown",
        spicedb: spicedb ? "ok" : "unreachable",
      };
      const failing = Object.entries(results).filter(([, state]) => state !== "ok");
      if (failing.length === 0) {
        // Serving, with some access missing or reads all on the primary: taking every instance out
        // of the load balancer over it would be worse, so it is a 200 that says so.
        const notLoaded = checks.relationshipsNotLoaded?.() ?? 0;
        const degraded: Record<string, string> = {};
        if (notLoaded > 0) degraded.relationships = `${notLoaded} refused by SpiceDB at start-up`;
        if (replica !== null && (replica.state === "unreachable" || replica.state === "not_a_replica")) degraded.replica = replica.state;
        const report = replica === null ? {} : { replica };
        const replicaCheck = replica === null ? {} : { replica: replica.state };
        if (Object.keys(degraded).length === 0) return { status: "ok" as const, checks: { ...results, ...replicaCheck }, ...report };
        return { status: "degraded" as const, checks: { ...results, ...replicaCheck, ...degraded }, ...report };
      }
      return reply.code(503).send({
        detail: `Not ready: ${failing.map(([name, state]) => `${name} ${state}`).join(", ")}`,
        checks: results,
      });
    },
  );
}
