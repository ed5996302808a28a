/**
 * Why a request could not be authenticated. The message is the answer's `detail` (the reference's
 * wording); it never contains the credential itself.
 */
import { IamError } from "./errors.js";

export class AuthenticationError extends IamError {
  readonly kind = "unauthenticated" as const;
}

/**
 * The identity provider (its discovery document or key set) could not be reached, so no token can
 * be judged either way. Clients get 503 and should retry; it is not the caller's fault.
 */
export class IdentityProviderUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "IdentityProviderUnavailableError";
  }
}
