/**
 * The authorization port over SpiceDB's v1 API. The embedded engine and a remote cluster expose the
 * same generated client, so this one adapter serves both modes.
 */
import { v1 } from "@authzed/authzed-node";
import { lastUpdatePerRelationship } from "../../shared-kernel/authorization/authorization-port.js";
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
import { fromSpiceDbObjectId, toSpiceDbObjectId } from "../../shared-kernel/authorization/object-ids.js";
import type { IssuedTokens } from "./issued-tokens.js";

/** SpiceDB's default cap on updates per WriteRelationships request. */
const MAX_UPDATES_PER_WRITE = 1000;
/** SpiceDB's default cap on items per CheckBulkPermissions request. */
const MAX_ITEMS_PER_BULK_CHECK = 1000;

/** SpiceDB could not be reached or was overloaded: the request may succeed if retried (HTTP 503). */
export class AuthorizationUnavailableError extends Error {
  constructor(operation: string, cause: unknown) {
    super(`SpiceDB ${operation} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "AuthorizationUnavailableError";
  }
}

/**
 * SpiceDB answered and refused the request (unknown relation, invalid argument): a bug or a schema
 * mismatch that retrying will not fix, so it must not pass for an outage (HTTP 500, logged).
 */
export class AuthorizationRequestError extends Error {
  constructor(operation: string, cause: unknown) {
    super(`SpiceDB ${operation} refused the request: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "AuthorizationRequestError";
  }
}

/** gRPC status codes worth a retry: CANCELLED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, UNAVAILABLE. */
const RETRYABLE_GRPC_CODES = new Set([1, 4, 8, 10, 14]);
const RETRYABLE_GRPC_NAMES = new Set(["Canceled", "DeadlineExceeded", "ResourceExhausted", "Aborted", "Unavailable"]);

/**
 * Remote errors carry a numeric gRPC `code`; the embedded engine reports Go's "rpc error: code =
 * Name desc = ..." text. An error with neither comes from a transport that is gone (closed channel
 * or engine), which is an outage too.
 */
function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "number") return RETRYABLE_GRPC_CODES.has(code);
  const message = error instanceof Error ? error.message : String(error);
  const named = /rpc error: code = (\w+)/.exec(message)?.[1];
  if (named !== undefined) return RETRYABLE_GRPC_NAMES.has(named);
  return true;
}

function objectRef(ref: ObjectRef): v1.ObjectReference {
  return v1.ObjectReference.create({ objectType: ref.type, objectId: toSpiceDbObjectId(ref.id) });
}

function subjectRef(ref: SubjectRef): v1.SubjectReference {
  return v1.SubjectReference.create({ object: objectRef(ref), optionalRelation: ref.relation ?? "" });
}

function consistencyOf(consistency: Consistency): v1.Consistency {
  switch (consistency.kind) {
    case "full":
      return v1.Consistency.create({ requirement: { oneofKind: "fullyConsistent", fullyConsistent: true } });
    case "atLeastAsFresh":
      return v1.Consistency.create({
        requirement: { oneofKind: "atLeastAsFresh", atLeastAsFresh: v1.ZedToken.create({ token: consistency.token }) },
      });
    case "minimizeLatency":
      return v1.Consistency.create({ requirement: { oneofKind: "minimizeLatency", minimizeLatency: true } });
  }
}

function relationshipOf(r: Relationship): v1.Relationship {
  return v1.Relationship.create({ resource: objectRef(r.resource), relation: r.relation, subject: subjectRef(r.subject) });
}

function fromRelationship(r: v1.Relationship): Relationship {
  const subjectRelation = r.subject?.optionalRelation;
  return {
    resource: { type: r.resource?.objectType ?? "", id: fromSpiceDbObjectId(r.resource?.objectId ?? "") },
    relation: r.relation,
    subject: {
      type: r.subject?.object?.objectType ?? "",
      id: fromSpiceDbObjectId(r.subject?.object?.objectId ?? ""),
      ...(subjectRelation ? { relation: subjectRelation } : {}),
    },
  };
}

function filterOf(filter: RelationshipFilter): v1.RelationshipFilter {
  if (filter.subjectId !== undefined && filter.subjectType === undefined) {
    throw new Error("A relationship filter with a subject id needs a subject type");
  }
  return v1.RelationshipFilter.create({
    resourceType: filter.resourceType,
    optionalResourceId: filter.resourceId === undefined ? "" : toSpiceDbObjectId(filter.resourceId),
    optionalRelation: filter.relation ?? "",
    ...(filter.subjectType === undefined
      ? {}
      : {
          optionalSubjectFilter: v1.SubjectFilter.create({
            subjectType: filter.subjectType,
            optionalSubjectId: filter.subjectId === undefined ? "" : toSpiceDbObjectId(filter.subjectId),
            ...(filter.subjectRelation === undefined
              ? {}
              : { optionalRelation: v1.SubjectFilter_RelationFilter.create({ relation: filter.subjectRelation }) }),
          }),
        }),
  });
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The calls the adapter makes: a remote client has them, and so does the embedded engine. */
export interface SpiceDbClient {
  readonly promises: Pick<
    v1.ZedPromiseClientInterface,
    | "checkPermission"
    | "checkBulkPermissions"
    | "lookupResources"
    | "lookupSubjects"
    | "readRelationships"
    | "writeRelationships"
    | "deleteRelationships"
  >;
}

export class SpiceDbAuthorization implements AuthorizationPort {
  /**
   * `issuedTokens`, for an in-process engine: the tokens its writes returned, so that a token from
   * another datastore instance is asked as full consistency (see IssuedTokens). Null for a cluster,
   * whose tokens every process shares.
   */
  constructor(
    private readonly client: SpiceDbClient,
    private readonly issuedTokens: IssuedTokens | null = null,
    private readonly defaultConsistency: Consistency = { kind: "full" },
  ) {}

  private requirement(consistency: Consistency): v1.Consistency {
    return consistencyOf(this.issuedTokens?.consistencyFor(consistency) ?? consistency);
  }

  private async call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw isRetryable(error)
        ? new AuthorizationUnavailableError(operation, error)
        : new AuthorizationRequestError(operation, error);
    }
  }

  async check(check: PermissionCheck, consistency = this.defaultConsistency): Promise<boolean> {
    const response = await this.call("CheckPermission", () =>
      this.client.promises.checkPermission(
        v1.CheckPermissionRequest.create({
          resource: objectRef(check.resource),
          permission: check.permission,
          subject: subjectRef(check.subject),
          consistency: this.requirement(consistency),
        }),
      ),
    );
    return response.permissionship === v1.CheckPermissionResponse_Permissionship.HAS_PERMISSION;
  }

  async checkBulk(checks: readonly PermissionCheck[], consistency = this.defaultConsistency): Promise<boolean[]> {
    const answers: boolean[] = [];
    for (const batch of chunks(checks, MAX_ITEMS_PER_BULK_CHECK)) {
      const response = await this.call("CheckBulkPermissions", () =>
        this.client.promises.checkBulkPermissions(
          v1.CheckBulkPermissionsRequest.create({
            consistency: this.requirement(consistency),
            items: batch.map((item) =>
              v1.CheckBulkPermissionsRequestItem.create({
                resource: objectRef(item.resource),
                permission: item.permission,
                subject: subjectRef(item.subject),
              }),
            ),
          }),
        ),
      );
      for (const pair of response.pairs) {
        if (pair.response.oneofKind === "error") {
          const status = pair.response.error;
          const cause = Object.assign(new Error(status.message), { code: status.code });
          throw isRetryable(cause)
            ? new AuthorizationUnavailableError("CheckBulkPermissions", cause)
            : new AuthorizationRequestError("CheckBulkPermissions", cause);
        }
        answers.push(
          pair.response.oneofKind === "item" &&
            pair.response.item.permissionship === v1.CheckPermissionResponse_Permissionship.HAS_PERMISSION,
        );
      }
    }
    return answers;
  }

  async lookupResources(
    resourceType: string,
    permission: string,
    subject: SubjectRef,
    consistency = this.defaultConsistency,
  ): Promise<string[]> {
    const responses = await this.call("LookupResources", () =>
      this.client.promises.lookupResources(
        v1.LookupResourcesRequest.create({
          resourceObjectType: resourceType,
          permission,
          subject: subjectRef(subject),
          consistency: this.requirement(consistency),
        }),
      ),
    );
    return responses
      .filter((r) => r.permissionship === v1.LookupPermissionship.HAS_PERMISSION)
      .map((r) => fromSpiceDbObjectId(r.resourceObjectId));
  }

  async lookupSubjects(
    resource: ObjectRef,
    permission: string,
    subjectType: string,
    consistency = this.defaultConsistency,
  ): Promise<string[]> {
    const responses = await this.call("LookupSubjects", () =>
      this.client.promises.lookupSubjects(
        v1.LookupSubjectsRequest.create({
          resource: objectRef(resource),
          permission,
          subjectObjectType: subjectType,
          consistency: this.requirement(consistency),
        }),
      ),
    );
    return responses
      .filter((r) => r.subject?.permissionship === v1.LookupPermissionship.HAS_PERMISSION)
      .map((r) => r.subject?.subjectObjectId ?? "")
      .filter((id) => id !== "")
      .map(fromSpiceDbObjectId);
  }

  async readRelationships(filter: RelationshipFilter, consistency = this.defaultConsistency): Promise<Relationship[]> {
    const responses = await this.call("ReadRelationships", () =>
      this.client.promises.readRelationships(
        v1.ReadRelationshipsRequest.create({
          relationshipFilter: filterOf(filter),
          consistency: this.requirement(consistency),
        }),
      ),
    );
    return responses.flatMap((r) => (r.relationship ? [fromRelationship(r.relationship)] : []));
  }

  async writeRelationships(updates: readonly RelationshipUpdate[]): Promise<string | null> {
    let token: string | null = null;
    for (const batch of chunks(lastUpdatePerRelationship(updates), MAX_UPDATES_PER_WRITE)) {
      const response = await this.call("WriteRelationships", () =>
        this.client.promises.writeRelationships(
          v1.WriteRelationshipsRequest.create({
            updates: batch.map((update) =>
              v1.RelationshipUpdate.create({
                operation:
                  update.operation === "touch"
                    ? v1.RelationshipUpdate_Operation.TOUCH
                    : v1.RelationshipUpdate_Operation.DELETE,
                relationship: relationshipOf(update.relationship),
              }),
            ),
          }),
        ),
      );
      token = response.writtenAt?.token ?? token;
    }
    this.issuedTokens?.remember(token);
    return token;
  }

  async deleteRelationships(filter: RelationshipFilter): Promise<string | null> {
    const response = await this.call("DeleteRelationships", () =>
      this.client.promises.deleteRelationships(
        v1.DeleteRelationshipsRequest.create({ relationshipFilter: filterOf(filter) }),
      ),
    );
    const token = response.deletedAt?.token ?? null;
    this.issuedTokens?.remember(token);
    return token;
  }
}
