import type { IncomingHttpHeaders } from "node:http";
import type { Credential } from "../../application/authentication-service.js";

/**
 * The credential a request carries. `Authorization: Bearer` (scheme in any case) wins; any other
 * scheme counts as no token. `Bearer ` with nothing after it is still a token, and fails.
 */
export function credentialOf(headers: IncomingHttpHeaders): Credential {
  const authorization = headers.authorization;
  if (typeof authorization === "string") {
    const match = /^bearer(?:\s+(.*))?$/is.exec(authorization.trim());
    if (match) return { kind: "bearer", token: (match[1] ?? "").trim() };
  }
  const apiKey = headers["x-api-key"];
  if (typeof apiKey === "string") return { kind: "api_key", secret: apiKey.trim() };
  // Repeated X-API-Key headers: refused like any malformed key.
  if (Array.isArray(apiKey)) return { kind: "api_key", secret: apiKey.join(",") };
  return { kind: "none" };
}

/** The raw `X-Tenant-ID` value, undefined when the header is absent. */
export function tenantHeaderOf(headers: IncomingHttpHeaders): string | undefined {
  const value = headers["x-tenant-id"];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(",") : value;
}
