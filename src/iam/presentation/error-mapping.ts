/**
 * Domain errors as HTTP answers: each kind has its status, and the message is the error's own.
 * The IAM plugin installs `mapDomainErrors` as its error handler, so no route needs to remember
 * a wrapper; anything that is not a domain error goes on, unchanged, to the platform's handler
 * (validation 422s, 503 for outages, 500 otherwise), which writes every `{"detail": ...}` body.
 */
import type { FastifyError } from "fastify";
import { HttpError } from "../../platform/http/http-error.js";
import { IamError } from "../domain/errors.js";

const STATUS_OF_KIND = {
  not_found: 404,
  forbidden: 403,
  conflict: 409,
  invalid: 400,
  unauthenticated: 401,
  precondition_failed: 412,
} as const satisfies Record<IamError["kind"], number>;

/** The HTTP answer for a domain error; any other error as it is. */
export function httpErrorOf(error: unknown): unknown {
  return error instanceof IamError ? new HttpError(STATUS_OF_KIND[error.kind], error.message) : error;
}

/**
 * An error handler for a Fastify context: what it throws, Fastify hands to the parent context's
 * handler (the platform's), so it only translates.
 */
export function mapDomainErrors(error: FastifyError): never {
  throw httpErrorOf(error);
}
