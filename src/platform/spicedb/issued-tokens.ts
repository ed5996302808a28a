/**
 * The ZedTokens an in-process SpiceDB has issued. Its memory datastore is new at every start, and
 * each process has its own, so the token kept in the database (by an earlier run of the service,
 * or by another process on the same PostgreSQL) names a datastore this engine never knew. SpiceDB
 * answers such a request fully consistently anyway, and logs a warning for each one: after every
 * restart, every check until the next write. Asking for full consistency ourselves gives the same
 * answer without the noise.
 *
 * Only the most recent tokens are remembered: an older token of this engine's own is also answered
 * fully consistently, which is never staler than what it asked for.
 */
import type { Consistency } from "../../shared-kernel/authorization/authorization-port.js";
import { RecentSet } from "../../shared-kernel/recent-set.js";

const DEFAULT_CAPACITY = 1_024;

export class IssuedTokens {
  private readonly tokens: RecentSet<string>;

  constructor(capacity = DEFAULT_CAPACITY) {
    this.tokens = new RecentSet(capacity);
  }

  /** Notes a token a write of this engine returned. */
  remember(token: string | null): void {
    if (token !== null) this.tokens.add(token);
  }

  /** The consistency to ask this engine for: a token it did not issue becomes full consistency. */
  consistencyFor(consistency: Consistency): Consistency {
    if (consistency.kind !== "atLeastAsFresh" || this.tokens.has(consistency.token)) return consistency;
    return { kind: "full" };
  }
}
