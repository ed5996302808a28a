/** What the API key service reports: ids only, never secrets or digests (the pattern: probe-logger.ts). */
import type { ObservationContext } from "../../shared-kernel/observation-context.js";
import { PinoProbe } from "./probe-logger.js";

export interface ApiKeyServiceProbe {
  withContext(context: ObservationContext): ApiKeyServiceProbe;
  apiKeyCreated(fact: { apiKeyId: string }): void;
  apiKeyCreationDenied(fact: { reason: string }): void;
  apiKeyRevoked(fact: { apiKeyId: string }): void;
  apiKeyRevocationDenied(fact: { apiKeyId: string }): void;
}

export class PinoApiKeyServiceProbe extends PinoProbe implements ApiKeyServiceProbe {
  withContext(context: ObservationContext): ApiKeyServiceProbe {
    return new PinoApiKeyServiceProbe(this.logger, context);
  }

  apiKeyCreated(fact: { apiKeyId: string }): void {
    this.info("api_key_created", fact, "API key created");
  }
  apiKeyCreationDenied(fact: { reason: string }): void {
    this.warn("api_key_creation_denied", fact, "API key creation denied");
  }
  apiKeyRevoked(fact: { apiKeyId: string }): void {
    this.info("api_key_revoked", fact, "API key revoked");
  }
  apiKeyRevocationDenied(fact: { apiKeyId: string }): void {
    this.warn("api_key_revocation_denied", fact, "API key revocation denied");
  }
}
