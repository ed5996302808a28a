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
 *
 * The entries live in a BoundedCache ("decisions" in /metrics): least recently used decisions go
 * first when the entry or byte bound is reached; a revision change that can make entries wrong
 * clears them all, because that is a rule of correctness, not of size.
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
import { BoundedCache, type CacheStats, type CacheStatsSource } from "../../shared-kernel/bounded-cache.js";
import type { AuthzRevisionTracker } from "../outbox/authz-revision.js";

/** A decision is a boolean; lookups are id lists, weighed by their characters. */
const DEFAULT_MAX_ENTRIES = 200_000;
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

function refKey(ref: ObjectRef | SubjectRef): string {
  const relation = "relation" in ref && ref.relation ? `#${ref.relation}` : "";
  return `${ref.type}:${ref.id}${relation}`;
}

function checkKey(check: PermissionCheck): string {
  return `c|${refKey(check.resource)}|${check.permission}|${refKey(check.subject)}`;
}

interface Entry {
  readonly value: unknown;
  /** The revision it was computed at. */
  readonly revision: number;
}

export interface DecisionCacheOptions {
  /** The permission schema only grants when relationships are added (see isMonotonicSchema). */
  readonly monotonicSchema: boolean;
  readonly maxEntries?: number;
  /** Bound on the weight of the entries (key and id characters, roughly bytes). */
  readonly maxBytes?: number;
}

function weightOf(entry: Entry, key: string): number {
  const value = entry.value;
  let weight = key.length + 16;
  if (Array.isArray(value)) for (const id of value as string[]) weight += id.length + 8;
  return weight;
}

export class CachedAuthorization implements AuthorizationPort, CacheStatsSource {
  /** The revision the entries were last cleared for: a revoking one, or any one without monotonicity. */
  private clearedFor = -1;
  private readonly entries: BoundedCache<string, Entry>;

  constructor(
    private readonly inner: AuthorizationPort,
    private readonly tracker: AuthzRevisionTracker,
    private readonly options: DecisionCacheOptions,
  ) {
    this.entries = new BoundedCache<string, Entry>({
      name: "decisions",
      maxEntries: options.maxEntries ?? DEFAULT_MAX_ENTRIES,
      maxBytes: options.maxBytes ?? DEFAULT_MAX_BYTES,
      sizeOf: weightOf,
    });
  }

  stats(): CacheStats {
    return this.entries.stats();
  }

  /** The current revision, after dropping whatever it made unusable. */
  private current(): number {
    const { revision, revokedRevision } = this.tracker.current();
    const boundary = this.options.monotonicSchema ? revokedRevision : revision;
    if (boundary !== this.clearedFor) {
      this.clearedFor = boundary;
      this.entries.clear();
    }
    return revision;
  }

  /** The cached value, if it still holds at `revision` (counted as a hit, else as a miss). */
  private lookup(key: string, revision: number): unknown {
    return this.entries.get(key, (entry) => entry.revision === revision || this.holdsSince(entry))?.value;
  }

  /** Only revisions that added relationships came since (entries are cleared at revoking ones). */
  private holdsSince(entry: Entry): boolean {
    return this.options.monotonicSchema && entry.value === true;
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
    if (known !== undefined) return known as T;
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
    this.entries.clear();
    return token;
  }

  async deleteRelationships(filter: RelationshipFilter): Promise<string | null> {
    const token = await this.inner.deleteRelationships(filter);
    this.entries.clear();
    return token;
  }
}
