import type { Logger } from "../../platform/logging/logger.js";
import type { AuthenticationProbe } from "../ports/authentication-probe.js";

/** Authentication events as log lines. Rejections are debug: they are the caller's business. */
export function pinoAuthenticationProbe(logger: Logger): AuthenticationProbe {
  const log = logger.child({ probe: "authentication" });
  return {
    tokenRejected(reason) {
      log.debug({ reason }, "access token rejected");
    },
    apiKeyRejected(reason) {
      log.debug({ reason }, "API key rejected");
    },
    identityProviderUnavailable(error) {
      log.warn({ err: error }, "identity provider unavailable");
    },
    userProvisioned(userId, outcome) {
      log.info({ user_id: userId, outcome }, "user provisioned from token claims");
    },
    userProvisioningConflict(userId, username) {
      log.warn({ user_id: userId, username }, "username already taken by another user");
    },
    defaultTenantJoined(userId, tenantId, asAdmin) {
      log.info({ user_id: userId, tenant_id: tenantId, role: asAdmin ? "admin" : "member" }, "user joined the default tenant");
    },
  };
}
