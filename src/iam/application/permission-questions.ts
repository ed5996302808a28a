/**
 * Permission questions for other services and for access reviews: a bulk check and "what can I
 * access", asked in the caller's tenant. Answers speak only of that tenant's objects: an object of
 * another tenant, or none at all, is simply not allowed (no information leak), even for a user who
 * holds rights on it in a tenant of theirs.
 *
 * The subject is the caller (an API key asks for its creator, for whom it acts); naming another
 * user needs tenant admin, and that user must be a member of the tenant (else 404, the same
 * whether or not they exist elsewhere).
 */
import type { AuthorizationPort, ObjectRef, PermissionCheck } from "../../shared-kernel/authorization/authorization-port.js";
import { ForbiddenError, NotFoundError } from "../domain/errors.js";
import type { TenantRepository } from "../ports/tenant-repository.js";
import { refKey, type TenantResources } from "../ports/tenant-resources.js";
import { accessTo } from "./access-check.js";
import type { Caller } from "./caller.js";

/** The permissions of the schema's IAM objects that can be asked about. */
export const QUESTION_PERMISSIONS = {
  tenant: ["view", "manage", "administrate", "create_api_key"],
  workspace: ["view", "edit", "manage", "create_child"],
  group: ["view", "manage", "member"],
  api_key: ["view", "revoke"],
} as const satisfies Record<string, readonly string[]>;

export type QuestionResourceType = keyof typeof QUESTION_PERMISSIONS;

export const MAX_CHECKS_PER_REQUEST = 100;
export const OTHER_SUBJECT_FORBIDDEN = "Only tenant admins can ask about another user's permissions";

export interface ResourceCheck {
  readonly resource: ObjectRef;
  readonly permission: string;
}

export class PermissionQuestions {
  constructor(
    private readonly deps: {
      readonly authorization: AuthorizationPort;
      readonly resources: TenantResources;
      readonly tenants: Pick<TenantRepository, "memberRole">;
    },
  ) {}

  /** One answer per check, in order: one SpiceDB bulk request for what the decision cache lacks. */
  async check(caller: Caller, checks: readonly ResourceCheck[], subjectId?: string): Promise<boolean[]> {
    const subject = { type: "user", id: await this.subjectOf(caller, subjectId) };
    const inTenant = await this.deps.resources.inTenant(caller.tenantId, checks.map((c) => c.resource));
    const asked: PermissionCheck[] = checks.filter((c) => inTenant.has(refKey(c.resource))).map((c) => ({ ...c, subject }));
    const answers = asked.length === 0 ? [] : await this.deps.authorization.checkBulk(asked);
    let next = 0;
    return checks.map((c) => (inTenant.has(refKey(c.resource)) ? answers[next++] === true : false));
  }

  /** Ids of the tenant's resources of the type on which the subject has the permission, sorted. */
  async resources(caller: Caller, resourceType: QuestionResourceType, permission: string, subjectId?: string): Promise<string[]> {
    const subject = { type: "user", id: await this.subjectOf(caller, subjectId) };
    const ids = await this.deps.authorization.lookupResources(resourceType, permission, subject);
    const inTenant = await this.deps.resources.inTenant(caller.tenantId, ids.map((id) => ({ type: resourceType, id })));
    return ids.filter((id) => inTenant.has(refKey({ type: resourceType, id }))).sort();
  }

  private subjectOf(caller: Caller, subjectId: string | undefined): Promise<string> {
    return askedSubject(this.deps, caller, subjectId);
  }
}

/**
 * The user a question is about: the caller, or (for tenant admins only) another member of the
 * tenant; a user who is not a member is a 404, whether or not they exist elsewhere.
 */
export async function askedSubject(
  deps: { readonly authorization: AuthorizationPort; readonly tenants: Pick<TenantRepository, "memberRole"> },
  caller: Caller,
  subjectId: string | undefined,
): Promise<string> {
  if (subjectId === undefined || subjectId === caller.userId) return caller.userId;
  const outcome = await accessTo(deps.authorization, { type: "tenant", id: caller.tenantId }, caller, "administrate");
  if (outcome === "hidden") throw new NotFoundError(`Tenant ${caller.tenantId} not found`);
  if (outcome === "forbidden") throw new ForbiddenError(OTHER_SUBJECT_FORBIDDEN);
  if ((await deps.tenants.memberRole(caller.tenantId, subjectId)) === null) {
    throw new NotFoundError(`User ${subjectId} not found in this tenant`);
  }
  return subjectId;
}
