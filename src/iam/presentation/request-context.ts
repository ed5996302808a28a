/**
 * How routes declare who may call them, and how handlers read the caller. The authentication hook
 * (presentation/auth) runs before schema validation, as in the reference: a broken JSON body is
 * 422, then missing credentials 401, then tenant context 400/403, then validation 422.
 *
 *   server.get("/iam/workspaces", { config: { auth: "tenant" }, schema }, async (request) => {
 *     const caller = callerOf(request);
 *   });
 */
import type { FastifyRequest } from "fastify";
import { ObservationContext } from "../../shared-kernel/observation-context.js";
import type { AuthenticatedUser, Caller } from "../application/caller.js";

/**
 * "authenticated": credentials only (tenant list/create); "tenant": credentials and tenant context;
 * "current-tenant": credentials, and the tenant context resolved as for "tenant" when there is
 * one, but a caller outside that tenant is let through (`GET /iam/users/me` says so).
 */
export type AuthRequirement = "authenticated" | "tenant" | "current-tenant";

declare module "fastify" {
  interface FastifyContextConfig {
    auth?: AuthRequirement;
  }
  interface FastifyRequest {
    authenticatedUser: AuthenticatedUser | null;
    caller: Caller | null;
    /** "current-tenant" routes: the tenant the request acts in, the caller a member or not. */
    currentTenantId: string | null;
  }
}

export function authenticatedUserOf(request: FastifyRequest): AuthenticatedUser {
  if (request.authenticatedUser === null) {
    throw new Error(`Route ${request.routeOptions.url} reads the user but declares no auth requirement`);
  }
  return request.authenticatedUser;
}

export function callerOf(request: FastifyRequest): Caller {
  if (request.caller === null) {
    throw new Error(`Route ${request.routeOptions.url} reads the caller but does not declare auth: "tenant"`);
  }
  return request.caller;
}

/** What the services' probes log with each event: the request id. */
export function observationOf(request: FastifyRequest): ObservationContext {
  return ObservationContext.of({ requestId: request.id });
}
