/** What authentication reports about itself (never credentials). */
export interface AuthenticationProbe {
  tokenRejected(reason: string): void;
  apiKeyRejected(reason: "malformed" | "unknown_or_unusable"): void;
  identityProviderUnavailable(error: Error): void;
  userProvisioned(userId: string, outcome: "created" | "updated"): void;
  userProvisioningConflict(userId: string, username: string): void;
  defaultTenantJoined(userId: string, tenantId: string, asAdmin: boolean): void;
}

export const silentAuthenticationProbe: AuthenticationProbe = {
  tokenRejected() {},
  apiKeyRejected() {},
  identityProviderUnavailable() {},
  userProvisioned() {},
  userProvisioningConflict() {},
  defaultTenantJoined() {},
};
