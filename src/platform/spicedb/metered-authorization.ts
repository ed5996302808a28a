/**
 * SpiceDB calls in /metrics: a decorator over the authorization port that times every call by
 * operation and counts the failed ones, split into outages (SpiceDB unreachable or past its
 * deadline) and refusals (any other error). Wrapped around the engine's port once, in the outbox
 * runtime, so the outbox's writes and the decision cache's misses are both measured, and the call
 * sites stay as they are. Cache hits never reach SpiceDB and are not here (see the cache metrics).
 */
import { Counter, Histogram, type Registry } from "prom-client";
import type {
  AuthorizationPort,
  Consistency,
  ObjectRef,
  PermissionCheck,
  Relationship,
  RelationshipFilter,
  RelationshipUpdate,
  SubjectRef,
} from "../../shared-kernel/authorization/authorization-port.js";
import { isUnavailableError } from "../runtime/unavailable.js";

export type SpiceDbOperation =
  | "check"
  | "check_bulk"
  | "lookup_resources"
  | "lookup_subjects"
  | "read_relationships"
  | "write_relationships"
  | "delete_relationships";

const OPERATIONS: readonly SpiceDbOperation[] = [
  "check",
  "check_bulk",
  "lookup_resources",
  "lookup_subjects",
  "read_relationships",
  "write_relationships",
  "delete_relationships",
];

/** From the embedded engine's tens of microseconds to a remote one's deadline. */
const BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class SpiceDbMetrics {
  readonly duration: Histogram<"operation">;
  readonly errors: Counter<"operation" | "kind">;

  constructor(registry: Registry) {
    this.duration = new Histogram({
      name: "kartograph_spicedb_request_duration_seconds",
      help: "SpiceDB calls of this process by operation (failed ones included), cache hits excluded",
      labelNames: ["operation"],
      buckets: BUCKETS,
      registers: [registry],
    });
    this.errors = new Counter({
      name: "kartograph_spicedb_errors_total",
      help: "Failed SpiceDB calls by operation: kind=unavailable (unreachable, past its deadline) or kind=error (refused, anything else)",
      labelNames: ["operation", "kind"],
      registers: [registry],
    });
    // Zero series from the start: rate() over a series that appears only with its first error misses that error.
    for (const operation of OPERATIONS) {
      this.errors.inc({ operation, kind: "unavailable" }, 0);
      this.errors.inc({ operation, kind: "error" }, 0);
    }
  }

  async time<T>(operation: SpiceDbOperation, call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await call();
    } catch (error) {
      this.errors.inc({ operation, kind: isUnavailableError(error) ? "unavailable" : "error" });
      throw error;
    } finally {
      this.duration.observe({ operation }, (performance.now() - started) / 1000);
    }
  }
}

export class MeteredAuthorization implements AuthorizationPort {
  constructor(
    private readonly inner: AuthorizationPort,
    private readonly metrics: SpiceDbMetrics,
  ) {}

  check(check: PermissionCheck, consistency?: Consistency): Promise<boolean> {
    return this.metrics.time("check", () => this.inner.check(check, consistency));
  }

  checkBulk(checks: readonly PermissionCheck[], consistency?: Consistency): Promise<boolean[]> {
    return this.metrics.time("check_bulk", () => this.inner.checkBulk(checks, consistency));
  }

  lookupResources(resourceType: string, permission: string, subject: SubjectRef, consistency?: Consistency): Promise<string[]> {
    return this.metrics.time("lookup_resources", () => this.inner.lookupResources(resourceType, permission, subject, consistency));
  }

  lookupSubjects(resource: ObjectRef, permission: string, subjectType: string, consistency?: Consistency): Promise<string[]> {
    return this.metrics.time("lookup_subjects", () => this.inner.lookupSubjects(resource, permission, subjectType, consistency));
  }

  readRelationships(filter: RelationshipFilter, consistency?: Consistency): Promise<Relationship[]> {
    return this.metrics.time("read_relationships", () => this.inner.readRelationships(filter, consistency));
  }

  writeRelationships(updates: readonly RelationshipUpdate[]): Promise<string | null> {
    return this.metrics.time("write_relationships", () => this.inner.writeRelationships(updates));
  }

  deleteRelationships(filter: RelationshipFilter): Promise<string | null> {
    return this.metrics.time("delete_relationships", () => this.inner.deleteRelationships(filter));
  }
}
