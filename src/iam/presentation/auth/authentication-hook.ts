/**
 * Authentication and tenant context for every route that declares `config: { auth }`. It runs in
 * `preValidation`: after the JSON body is parsed (a broken body is 422 first) and before schema
 * validation, which is the reference's order: 422 broken JSON → 401 → 400/403 tenant context →
 * 409 JIT username clash → 422 schema.
 */
import type { FastifyInstance } from "fastify";
import { HttpError } from "../../../platform/http/http-error.js";
import type { AuthenticationService } from "../../application/authentication-service.js";
import { AuthenticationError, IdentityProviderUnavailableError } from "../../domain/authentication-errors.js";
import { answering } from "../error-mapping.js";
import { credentialOf, tenantHeaderOf } from "./credential-of.js";

export const WWW_AUTHENTICATE = "Bearer, API-Key";
export const IDENTITY_PROVIDER_UNAVAILABLE = "Identity provider unavailable; please retry shortly";

export function installAuthentication(server: FastifyInstance, authentication: AuthenticationService): void {
  server.decorateRequest("authenticatedUser", null);
  server.decorateRequest("caller", null);
  server.addHook("preValidation", async (request) => {
    const requirement = request.routeOptions.config.auth;
    if (requirement === undefined) return;
    const result = await answering(async () => {
      try {
        return await authentication.authenticate(
          credentialOf(request.headers),
          requirement === "tenant",
          requirement === "tenant" ? tenantHeaderOf(request.headers) : undefined,
        );
      } catch (error) {
        if (error instanceof AuthenticationError) {
          throw new HttpError(401, error.message, { "WWW-Authenticate": WWW_AUTHENTICATE });
        }
        if (error instanceof IdentityProviderUnavailableError) {
          request.log.error({ err: error }, "identity provider unavailable");
          throw new HttpError(503, IDENTITY_PROVIDER_UNAVAILABLE, { "Retry-After": "5" });
        }
        throw error;
      }
    });
    request.authenticatedUser = result.user;
    request.caller = result.caller;
  });
}
