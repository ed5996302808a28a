/**
 * SCIM's error answers (RFC 7644 §3.12): `{"schemas": [Error], "status": "400", "scimType", "detail"}`
 * with `application/scim+json`. The SCIM plugin's error handler turns everything into one of these,
 * so a SCIM client never sees the IAM API's `{"detail"}` shape nor a stack trace.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { HttpError } from "../../../platform/http/http-error.js";
import { IamError, LastAdminError, SharedAccountError } from "../../domain/errors.js";

export const SCIM_ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error";
export const SCIM_CONTENT_TYPE = "application/scim+json; charset=utf-8";

export type ScimType =
  | "invalidFilter"
  | "tooMany"
  | "uniqueness"
  | "mutability"
  | "invalidSyntax"
  | "invalidPath"
  | "noTarget"
  | "invalidValue"
  | "invalidVers"
  | "sensitive";

/** A SCIM answer other than success, thrown by the SCIM routes and their parsers. */
export class ScimRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly scimType: ScimType | null = null,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = "ScimRequestError";
  }
}

export const invalidValue = (detail: string) => new ScimRequestError(400, detail, "invalidValue");

const STATUS_OF_KIND = { not_found: 404, forbidden: 403, conflict: 409, invalid: 400, unauthenticated: 401, precondition_failed: 412 } as const;

function scimErrorOf(error: unknown): ScimRequestError {
  if (error instanceof ScimRequestError) return error;
  if (error instanceof LastAdminError || error instanceof SharedAccountError) return new ScimRequestError(409, error.message, "mutability");
  if (error instanceof IamError) {
    const scimType = error.kind === "conflict" ? "uniqueness" : error.kind === "invalid" ? "invalidValue" : null;
    return new ScimRequestError(STATUS_OF_KIND[error.kind], error.message, scimType);
  }
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.validation !== undefined) {
    return new ScimRequestError(400, `${fastifyError.validationContext ?? "request"} ${fastifyError.message ?? "is invalid"}`, "invalidValue");
  }
  if (error instanceof HttpError) {
    // The server's validation answers (a 422 with a list of issues) are SCIM's 400 invalidValue.
    if (Array.isArray(error.detail)) {
      const issues = (error.detail as { loc?: unknown[]; msg?: string }[]).map((issue) => `${(issue.loc ?? []).join(".")}: ${issue.msg ?? "invalid"}`);
      return new ScimRequestError(400, issues.join("; "), "invalidValue");
    }
    return new ScimRequestError(error.statusCode, error.message, null, error.headers ?? {});
  }
  const status = fastifyError.statusCode;
  // Fastify's own client errors (a body too large, a bad content type, broken JSON) keep their status.
  if (typeof status === "number" && status >= 400 && status < 500) {
    return new ScimRequestError(status, fastifyError.message ?? "Bad request", status === 400 ? "invalidSyntax" : null);
  }
  return new ScimRequestError(500, "Internal server error");
}

export function scimErrorBody(error: ScimRequestError) {
  return {
    schemas: [SCIM_ERROR_SCHEMA],
    status: String(error.status),
    ...(error.scimType === null ? {} : { scimType: error.scimType }),
    detail: error.message,
  };
}

/** The SCIM plugin's error handler. */
export async function sendScimError(error: unknown, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  // Below the SCIM parsers' checks, as below the IAM routes' limits: a value only the database
  // refused came from the client, logged and counted by the server as a missing limit.
  const answer = request.valueReachedDatabase(error) ? invalidValue("A value in the request is not valid for storage") : scimErrorOf(error);
  if (answer.status >= 500) request.log.error({ err: error }, "SCIM request failed");
  await reply.code(answer.status).headers(answer.headers).type(SCIM_CONTENT_TYPE).send(scimErrorBody(answer));
}
