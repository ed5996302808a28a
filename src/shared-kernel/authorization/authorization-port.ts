/**
 * The authorization port: what the application needs from a relationship-based authorization
 * engine (SpiceDB). Types are plain data so that the domain and application never see gRPC.
 */
export interface ObjectRef {
  readonly type: string;
  readonly id: string;
}

export interface SubjectRef extends ObjectRef {
  /** Set for subject sets such as `group:<id>#member`. */
  readonly relation?: string;
}

export interface Relationship {
  readonly resource: ObjectRef;
  readonly relation: string;
  readonly subject: SubjectRef;
}

export type RelationshipOperation = "touch" | "delete";

export interface RelationshipUpdate {
  readonly operation: RelationshipOperation;
  readonly relationship: Relationship;
}

export interface RelationshipFilter {
  readonly resourceType: string;
  readonly resourceId?: string;
  readonly relation?: string;
  readonly subjectType?: string;
  readonly subjectId?: string;
  readonly subjectRelation?: string;
}

/**
 * How fresh an answer must be. `atLeastAsFresh` carries a ZedToken returned by a write, so that a
 * read sees that write without paying for full consistency.
 */
export type Consistency =
  | { readonly kind: "full" }
  | { readonly kind: "atLeastAsFresh"; readonly token: string }
  | { readonly kind: "minimizeLatency" };

export const FULL_CONSISTENCY: Consistency = { kind: "full" };

export interface PermissionCheck {
  readonly resource: ObjectRef;
  readonly permission: string;
  readonly subject: SubjectRef;
}

export interface AuthorizationPort {
  check(check: PermissionCheck, consistency?: Consistency): Promise<boolean>;
  /** Answers in the order of `checks`. */
  checkBulk(checks: readonly PermissionCheck[], consistency?: Consistency): Promise<boolean[]>;
  /** IDs of resources of `resourceType` on which `subject` has `permission`. */
  lookupResources(
    resourceType: string,
    permission: string,
    subject: SubjectRef,
    consistency?: Consistency,
  ): Promise<string[]>;
  /** IDs of subjects of `subjectType` that have `permission` on `resource`. */
  lookupSubjects(
    resource: ObjectRef,
    permission: string,
    subjectType: string,
    consistency?: Consistency,
  ): Promise<string[]>;
  readRelationships(filter: RelationshipFilter, consistency?: Consistency): Promise<Relationship[]>;
  /** Applies all updates in one atomic request (split into batches only past the engine's limit). Returns a ZedToken. */
  writeRelationships(updates: readonly RelationshipUpdate[]): Promise<string | null>;
  /** Deletes every relationship matching the filter. Returns a ZedToken. */
  deleteRelationships(filter: RelationshipFilter): Promise<string | null>;
}

export function formatRelationship(r: Relationship): string {
  const subjectRelation = r.subject.relation ? `#${r.subject.relation}` : "";
  return `${r.resource.type}:${r.resource.id}#${r.relation}@${r.subject.type}:${r.subject.id}${subjectRelation}`;
}

/**
 * Applied in order, only the last update of a relationship decides its fate (touch then delete =
 * delete): keeps that one, in its place among the others. SpiceDB refuses a request that names a
 * relationship twice, and the outbox folds a batch's updates before it writes them.
 */
export function lastUpdatePerRelationship(updates: readonly RelationshipUpdate[]): RelationshipUpdate[] {
  const last = new Map<string, number>();
  updates.forEach((update, index) => last.set(formatRelationship(update.relationship), index));
  return updates.filter((update, index) => last.get(formatRelationship(update.relationship)) === index);
}
