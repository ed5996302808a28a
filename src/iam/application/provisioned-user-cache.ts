import type { UserProfile } from "../domain/user.js";

/**
 * The claims last written for each user, so that a request whose claims did not change costs no
 * database round trip at all. Bounded (oldest entries go first) and short-lived: another instance
 * may have written newer claims, and an entry that expires simply costs one no-op upsert.
 */
export class ProvisionedUserCache {
  private readonly entries = new Map<string, { readonly key: string; readonly storedAt: number }>();

  constructor(
    private readonly maxEntries = 10_000,
    private readonly ttlMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  isCurrent(profile: UserProfile): boolean {
    const entry = this.entries.get(profile.id);
    if (entry === undefined) return false;
    if (this.now() - entry.storedAt >= this.ttlMs) {
      this.entries.delete(profile.id);
      return false;
    }
    return entry.key === keyOf(profile);
  }

  remember(profile: UserProfile): void {
    this.entries.delete(profile.id);
    this.entries.set(profile.id, { key: keyOf(profile), storedAt: this.now() });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }

  forget(userId: string): void {
    this.entries.delete(userId);
  }
}

function keyOf(profile: UserProfile): string {
  return JSON.stringify([profile.username, profile.name, profile.email]);
}
