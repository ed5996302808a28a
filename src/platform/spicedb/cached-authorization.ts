/**
 * Permission decisions cached in the process and keyed by the authorization revision. Every
 * relationship change goes through the outbox, whose drain bumps the revision in the same
 * transaction; a decision is only ever served at the revision it was computed at, so no check
 * answers from before a write that has returned. Misses ask SpiceDB for at least the freshness of
 * the revision's ZedToken instead of full consistency, which keeps SpiceDB's own caches useful.
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

export class CachedAuthorization implements AuthorizationPort {
  private revision = -1;
  private entries = new Map<string, unknown>();
  readonly stats: DecisionCacheStats = { hits: 0, misses: 0 };

  constructor(
    private readonly inner: AuthorizationPort,
    private readonly tracker: AuthzRevisionTracker,
  ) {}

  /** The cache for the current revision (emptied when the revision moved on). */
  private current(): { revision: number; entries: Map<string, unknown> } {
    const { revision } = this.tracker.current();
    if (revision !== this.revision || this.entries.size >= MAX_ENTRIES) {
      this.revision = revision;
      this.entries = new Map();
    }
    return { revision, entries: this.entries };
  }

  private freshness(): Consistency {
    const { zedToken } = this.tracker.current();
    return zedToken === null ? { kind: "full" } : { kind: "atLeastAsFresh", token: zedToken };
  }

  private async cached<T>(key: string, compute: (consistency: Consistency) => Promise<T>): Promise<T> {
    const { revision, entries } = this.current();
    if (entries.has(key)) {
      this.stats.hits++;
      return entries.get(key) as T;
    }
    this.stats.misses++;
    const value = await compute(this.freshness());
    // Store only if no write landed while SpiceDB was answering.
    if (this.revision === revision) entries.set(key, value);
    return value;
  }

  check(check: PermissionCheck, consistency?: Consistency): Promise<boolean> {
    if (consistency !== undefined) return this.inner.check(check, consistency);
    return this.cached(checkKey(check), (fresh) => this.inner.check(check, fresh));
  }

  async checkBulk(checks: readonly PermissionCheck[], consistency?: Consistency): Promise<boolean[]> {
    if (consistency !== undefined) return this.inner.checkBulk(checks, consistency);
    const { revision, entries } = this.current();
    const answers: (boolean | undefined)[] = checks.map((c) => entries.get(checkKey(c)) as boolean | undefined);
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
        if (this.revision === revision) entries.set(checkKey(checks[i] as PermissionCheck), answer);
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
