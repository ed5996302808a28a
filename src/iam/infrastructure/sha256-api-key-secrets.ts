/**
 * API key secrets (and, with another prefix, SCIM tokens): `karto_` followed by 43 characters of base64url (32 random bytes) with every `-`
 * replaced by `_` (the reference's format, so keys look alike). Only a SHA-256 digest (hex) is
 * stored: the secret carries 256 random bits, so a slow password hash would add cost and no safety.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { ApiKeySecrets, IssuedApiKeySecret } from "../ports/api-key-secrets.js";

const SECRET_PREFIX = "karto_";
const RANDOM_BYTES = 32;
/** Characters of the secret kept for listings (`karto_` + 6). */
const DISPLAY_PREFIX_LENGTH = 12;
/** SCIM tokens look different from API keys, so that nobody sends one where the other belongs. */
export const SCIM_TOKEN_PREFIX = "kscim_";

/** Builds the secret from 32 random bytes. */
export function apiKeySecretFrom(random: Uint8Array, prefix = SECRET_PREFIX): string {
  if (random.length !== RANDOM_BYTES) throw new Error(`an API key needs ${RANDOM_BYTES} random bytes`);
  return `${prefix}${Buffer.from(random).toString("base64url").replaceAll("-", "_")}`;
}

export class Sha256ApiKeySecrets implements ApiKeySecrets {
  private readonly pattern: RegExp;

  /** `prefix`: six characters of `[a-z_]`, the start of every secret issued. */
  constructor(private readonly prefix = SECRET_PREFIX) {
    this.pattern = new RegExp(`^${prefix}[A-Za-z0-9_]{43}$`);
  }

  issue(): IssuedApiKeySecret {
    const secret = apiKeySecretFrom(randomBytes(RANDOM_BYTES), this.prefix);
    return { secret, digest: this.digestOf(secret), prefix: secret.slice(0, DISPLAY_PREFIX_LENGTH) };
  }

  isWellFormed(value: string): boolean {
    return this.pattern.test(value);
  }

  digestOf(secret: string): string {
    return createHash("sha256").update(secret, "utf8").digest("hex");
  }

  digestsMatch(a: string, b: string): boolean {
    const left = Buffer.from(a, "utf8");
    const right = Buffer.from(b, "utf8");
    return left.length === right.length && timingSafeEqual(left, right);
  }
}
