/** What the API key service reports (ids only, never secrets or digests). */
export interface ApiKeyProbe {
  created(apiKeyId: string, userId: string, tenantId: string): void;
  creationDenied(userId: string, tenantId: string): void;
  revoked(apiKeyId: string, userId: string): void;
  revocationDenied(apiKeyId: string, userId: string): void;
}
