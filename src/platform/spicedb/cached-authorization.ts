/**
 * Permission decisions cached in the process and keyed by the authorization revision. Every
 * relationship change goes through the outbox, whose drain bumps the revision in the same
 * transaction, so no check answers from before a write that has returned:
 *
 * - a decision computed at the current revision is served as is;
 * - with a monotonic schema (unions and arrows only), an "allowed" decision is also served at
 *   later revisions as long as none of them deleted relationships: grants cannot revoke;
 * - everything else (denials, lookups) is only served at the revision it was computed at.
 *
 * Misses ask SpiceDB for at least the freshness of the revision's ZedToken instead of full
 * consistency, which keeps SpiceDB's own caches useful.
 */
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
import type { AuthzRevisionTracker } from "../outbox/authz-revision.js";

const MAX_ENTRIES = 200_000;

function refKey(ref: ObjectRef | SubjectRef): string {
  const relation = "relation" in ref && ref.relation ? `#${ref.relation}` : "";
  return `${ref.type}:${ref.id}${relation}`;
}

function checkKey(check: PermissionCheck): string {
  return `c|${refKey(check.resource)}|${check.permission}|${refKey(check.subject)}`;
}

export interface DecisionCacheStats {
  hits: number;
  misses: number;
}

interface Entry {
  readonly value: unknown;
  /** The revision it was computed at. */
  readonly revision: number;
}

export interface DecisionCacheOptions {
  /** The permission schema only grants when relationships are added (see isMonotonicSchema). */
  readonly monotonicSchema: boolean;
}

export class CachedAuthorization implements AuthorizationPort {
  /** The revision the entries were last cleared for: a revoking one, or any one without monotonicity. */
  private clearedFor = -1;
  private entries = new Map<string, Entry>();
  readonly stats: DecisionCacheStats = { hits: 0, misses: 0 };

  constructor(
    private readonly inner: AuthorizationPort,
    private readonly tracker: AuthzRevisionTracker,
    private readonly options: DecisionCacheOptions,
  ) {}

  /** The current revision, after dropping whatever it made unusable. */
  private current(): number {
    const { revision, revokedRevision } = this.tracker.current();
    const boundary = this.options.monotonicSchema ? revokedRevision : revision;
    if (boundary !== this.clearedFor || this.entries.size >= MAX_ENTRIES) {
      this.clearedFor = boundary;
      this.entries = new Map();
    }
    return revision;
  }

  /** The cached value, if it still holds at `revision`. */
  private lookup(key: string, revision: number): unknown {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.revision === revision) return entry.value;
    // Only revisions that added relationships since (the map is cleared at revoking ones).
    if (this.options.monotonicSchema && entry.value === true) return true;
    return undefined;
  }

  /** Keeps a value computed from `revision` on, unless a write that landed meanwhile makes it doubtful. */
  private store(key: string, value: unknown, revision: number): void {
    const now = this.tracker.current();
    // Grants that landed while SpiceDB was answering cannot have made an "allowed" wrong.
    const holds = now.revision === revision || (this.options.monotonicSchema && value === true && now.revokedRevision <= revision);
    if (holds) this.entries.set(key, { value, revision });
  }

  private freshness(): Consistency {
    const { zedToken } = this.tracker.current();
    return zedToken === null ? { kind: "full" } : { kind: "atLeastAsFresh", token: zedToken };
  }

  private async cached<T>(key: string, compute: (consistency: Consistency) => Promise<T>): Promise<T> {
    const revision = this.current();
    const known = this.lookup(key, revision);
    if (known !== undefined) {
      this.stats.hits++;
      return known as T;
    }
    this.stats.misses++;
    const value = await compute(this.freshness());
    this.store(key, value, revision);
    return value;
  }

  check(check: PermissionCheck, consistency?: Consistency): Promise<boolean> {
    if (consistency !== undefined) return this.inner.check(check, consistency);
    return this.cached(checkKey(check), (fresh) => this.inner.check(check, fresh));
  }

  async checkBulk(checks: readonly PermissionCheck[], consistency?: Consistency): Promise<boolean[]> {
    if (consistency !== undefined) return this.inner.checkBulk(checks, consistency);
    const revision = this.current();
    const answers: (boolean | undefined)[] = checks.map((c) => this.lookup(checkKey(c), revision) as boolean | undefined);
    const missing = checks.filter((_, i) => answers[i] === undefined);
    this.stats.hits += checks.length - missing.length;
    this.stats.misses += missing.length;
    if (missing.length > 0) {
      const fetched = await this.inner.checkBulk(missing, this.freshness());
      let next = 0;
      for (let i = 0; i < checks.length; i++) {
        if (answers[i] !== undefined) continue;
        const answer = fetched[next++] ?? false;
        answers[i] = answer;
        this.store(checkKey(checks[i] as PermissionCheck), answer, revision);
      }
    }
    return answers as boolean[];
  }

  lookupResources(resourceType: string, permission: string, subject: SubjectRef, consistency?: Consistency): Promise<string[]> {
    if (consistency !== undefined) return this.inner.lookupResources(resourceType, permission, subject, consistency);
    return this.cached(`lr|${resourceType}|${permission}|${refKey(subject)}`, (fresh) =>
      this.inner.lookupResources(resourceType, permission, subject, fresh),
    ).then((ids) => [...ids]);
  }

  lookupSubjects(resource: ObjectRef, permission: string, subjectType: string, consistency?: Consistency): Promise<string[]> {
    if (consistency !== undefined) return this.inner.lookupSubjects(resource, permission, subjectType, consistency);
    return this.cached(`ls|${refKey(resource)}|${permission}|${subjectType}`, (fresh) =>
      this.inner.lookupSubjects(resource, permission, subjectType, fresh),
    ).then((ids) => [...ids]);
  }

  readRelationships(filter: RelationshipFilter, consistency?: Consistency): Promise<Relationship[]> {
    return this.inner.readRelationships(filter, consistency ?? this.freshness());
  }

  async writeRelationships(updates: readonly RelationshipUpdate[]): Promise<string | null> {
    const token = await this.inner.writeRelationships(updates);
    // Writes outside the outbox (tests, tools) do not move the revision: forget what we knew.
    this.entries = new Map();
    return token;
  }

  async deleteRelationships(filter: RelationshipFilter): Promise<string | null> {
    const token = await this.inner.deleteRelationships(filter);
    this.entries = new Map();
    return token;
  }
}
