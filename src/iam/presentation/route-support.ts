/**
 * Small pieces every tenancy route uses: the error body schema for the OpenAPI document and the
 * observation context of a request.
 */
import type { FastifyRequest } from "fastify";
import { Type } from "typebox";
import { ObservationContext } from "../../shared-kernel/observation-context.js";

export const ErrorBody = Type.Object(
  { detail: Type.Unknown({ description: "A message, or FastAPI's list of validation issues (422)" }) },
  { description: "Error" },
);

/** Error responses, documented per route: the statuses that route can answer. */
export function errors(...statuses: (400 | 401 | 403 | 404 | 409 | 422 | 503)[]): Record<number, typeof ErrorBody> {
  const out: Record<number, typeof ErrorBody> = {};
  for (const status of statuses) out[status] = ErrorBody;
  return out;
}

export function observationOf(request: FastifyRequest): ObservationContext {
  return ObservationContext.of({ requestId: request.id });
}

export const SECURITY: Record<string, string[]>[] = [{ bearer: [] }, { apiKey: [] }];
