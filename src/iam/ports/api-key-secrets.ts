/** Issuing and recognising API key secrets (format and hashing live in infrastructure). */
export interface IssuedApiKeySecret {
  /** Shown to the creator once, never stored. */
  readonly secret: string;
  /** What is stored and looked up. */
  readonly digest: string;
  /** The first 12 characters, kept for listings. */
  readonly prefix: string;
}

export interface ApiKeySecrets {
  issue(): IssuedApiKeySecret;
  /** False for anything that cannot be a secret we issued: such values never reach the database. */
  isWellFormed(value: string): boolean;
  digestOf(secret: string): string;
  /** Constant-time comparison of two digests. */
  digestsMatch(a: string, b: string): boolean;
}
