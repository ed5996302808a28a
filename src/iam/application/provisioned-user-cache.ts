import type { UserProfile } from "../domain/user.js";

/** The claims a user is provisioned from: the profile, and whether the token vouches for the email. */
export interface ProvisionedClaims extends UserProfile {
  readonly emailVerified: boolean;
}

/**
 * The claims last written for each user, so that a request whose claims did not change costs no
 * database round trip at all. Bounded (oldest entries go first) and short-lived: another instance
 * may have written newer claims, or recorded an invitation for the user's email, and an entry that
 * expires simply costs one no-op upsert (which also binds such invitations).
 *
 * An invitation recorded in this process forgets the entries of its email at once. Provisionings
 * in flight at that moment are not remembered (see `epoch`), so none of them can mask it.
 */
export class ProvisionedUserCache {
  private readonly entries = new Map<string, { readonly key: string; readonly email: string | null; readonly storedAt: number }>();
  private invitations = 0;

  constructor(
    private readonly maxEntries = 10_000,
    private readonly ttlMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Taken before provisioning and handed to `remember`: it moves with every invitation. */
  get epoch(): number {
    return this.invitations;
  }

  isCurrent(claims: ProvisionedClaims): boolean {
    const entry = this.entries.get(claims.id);
    if (entry === undefined) return false;
    if (this.now() - entry.storedAt >= this.ttlMs) {
      this.entries.delete(claims.id);
      return false;
    }
    return entry.key === keyOf(claims);
  }

  /** Remembers claims provisioned since `epoch`, unless an invitation was recorded meanwhile. */
  remember(claims: ProvisionedClaims, epoch: number): void {
    if (epoch !== this.invitations) return;
    this.entries.delete(claims.id);
    this.entries.set(claims.id, { key: keyOf(claims), email: claims.email?.toLowerCase() ?? null, storedAt: this.now() });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }

  forget(userId: string): void {
    this.entries.delete(userId);
  }

  /**
   * An invitation for `email` (lower-cased) was recorded: its users provision again on their next
   * request, which binds it. Invitations are rare; the scan is bounded by the cache size.
   */
  invited(email: string): void {
    this.invitations++;
    for (const [userId, entry] of this.entries) if (entry.email === email) this.entries.delete(userId);
  }
}

function keyOf(claims: ProvisionedClaims): string {
  return JSON.stringify([claims.username, claims.name, claims.email, claims.emailVerified]);
}
