/**
 * Domain and application errors. Each says what went wrong in words a person understands; the
 * presentation layer maps the kind to a status code (see presentation/error-mapping.ts), so
 * services never think in HTTP.
 */
export abstract class IamError extends Error {
  abstract readonly kind: "not_found" | "forbidden" | "conflict" | "invalid" | "unauthenticated" | "precondition_failed";
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The resource does not exist, or the caller may not view it (the two are indistinguishable). */
export class NotFoundError extends IamError {
  readonly kind = "not_found" as const;
}

/** The caller can view the resource but lacks the permission for this action. */
export class ForbiddenError extends IamError {
  readonly kind = "forbidden" as const;
}

/** A uniqueness or state conflict: duplicate name, already revoked, has children, ... */
export class ConflictError extends IamError {
  readonly kind = "conflict" as const;
}

/** The resource changed since the version the caller named (If-Match). */
export class PreconditionFailedError extends IamError {
  readonly kind = "precondition_failed" as const;
}

/** The last admin of a tenant, workspace or group cannot be removed or demoted. */
export class LastAdminError extends ConflictError {}

/**
 * A user who is a member of other tenants too: their profile (username, name, email) is shared by
 * all of them, so no one tenant's directory may change it.
 */
export class SharedAccountError extends ConflictError {}

/** Input the schema could not rule out (a domain rule about a value). */
export class InvalidInputError extends IamError {
  readonly kind = "invalid" as const;
}
