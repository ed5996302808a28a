import type { Logger } from "../../platform/logging/logger.js";
import type { ApiKeyProbe } from "../ports/api-key-probe.js";

export function pinoApiKeyProbe(logger: Logger): ApiKeyProbe {
  const log = logger.child({ probe: "api_key" });
  return {
    created(apiKeyId, userId, tenantId) {
      log.info({ api_key_id: apiKeyId, user_id: userId, tenant_id: tenantId }, "API key created");
    },
    creationDenied(userId, tenantId) {
      log.info({ user_id: userId, tenant_id: tenantId }, "API key creation denied");
    },
    revoked(apiKeyId, userId) {
      log.info({ api_key_id: apiKeyId, user_id: userId }, "API key revoked");
    },
    revocationDenied(apiKeyId, userId) {
      log.info({ api_key_id: apiKeyId, user_id: userId }, "API key revocation denied");
    },
  };
}
