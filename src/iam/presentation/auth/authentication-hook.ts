/**
 * Authentication and tenant context for every route that declares `config: { auth }`. It runs in
 * `preValidation`: after the JSON body is parsed (a broken body is 422 first) and before schema
 * validation, which is the reference's order: 422 broken JSON → 401 → 400/403 tenant context →
 * 409 JIT username clash → 422 schema. A client that failed to authenticate too often is turned
 * away (429) before its credentials are looked at (failed-authentication-limit.ts).
 */
import type { FastifyInstance } from "fastify";
import type { AuthFailureLimitConfig } from "../../../platform/config/config.js";
import { HttpError } from "../../../platform/http/http-error.js";
import type { AuthenticationService } from "../../application/authentication-service.js";
import { AuthenticationError, IdentityProviderUnavailableError } from "../../domain/authentication-errors.js";
import { httpErrorOf } from "../error-mapping.js";
import { credentialOf, tenantHeaderOf } from "./credential-of.js";
import { installFailedAuthenticationLimit, type FailedAuthenticationLimit } from "./failed-authentication-limit.js";
import { setChangeActor } from "../../../shared-kernel/change-origin.js";

export const WWW_AUTHENTICATE = "Bearer, API-Key";
export const IDENTITY_PROVIDER_UNAVAILABLE = "Identity provider unavailable; please retry shortly";

export async function installAuthentication(
  server: FastifyInstance,
  authentication: AuthenticationService,
  failureLimit: AuthFailureLimitConfig,
): Promise<FailedAuthenticationLimit> {
  const limit = await installFailedAuthenticationLimit(server, failureLimit);
  server.decorateRequest("authenticatedUser", null);
  server.decorateRequest("caller", null);
  server.decorateRequest("currentTenantId", null);
  server.addHook("preValidation", async (request) => {
    const requirement = request.routeOptions.config.auth;
    if (requirement === undefined) return;
    await limit.refuseIfExhausted(request);
    let result;
    try {
      const withTenant = requirement !== "authenticated";
      result = await authentication.authenticate(
        credentialOf(request.headers),
        withTenant,
        withTenant ? tenantHeaderOf(request.headers) : undefined,
        { admitNonMembers: requirement === "current-tenant" },
      );
    } catch (error) {
      if (error instanceof AuthenticationError) {
        throw await limit.recordFailure(request, new HttpError(401, error.message, { "WWW-Authenticate": WWW_AUTHENTICATE }));
      }
      if (error instanceof IdentityProviderUnavailableError) {
        request.log.error({ err: error }, "identity provider unavailable");
        throw new HttpError(503, IDENTITY_PROVIDER_UNAVAILABLE, { "Retry-After": "5" });
      }
      // Mapped here, not left to the IAM plugin's handler: the hook also serves routes outside it.
      throw httpErrorOf(error);
    }
    setChangeActor(
      result.user.apiKeyId === null
        ? { type: "user", id: result.user.userId, username: result.user.username }
        : // The key's own username is a placeholder; the key acts for its creator, named by id.
          { type: "api_key", id: result.user.apiKeyId, username: null, userId: result.user.userId },
    );
    request.authenticatedUser = result.user;
    request.caller = result.caller;
    request.currentTenantId = result.caller?.tenantId ?? result.nonMemberTenantId;
  });
  // Returned for the routes that authenticate on their own (SCIM): they count against the same limit.
  return limit;
}
