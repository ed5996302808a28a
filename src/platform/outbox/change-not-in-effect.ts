/**
 * A change committed, but its relationship changes could not be applied before the answer
 * (SpiceDB unavailable, or the tenant's queue waiting on an entry that is backing off). Answering
 * success would tell the caller that a removal or a grant holds when it does not yet, so the
 * request answers 503 with CHANGE_NOT_YET_IN_EFFECT instead. The change stays committed and is
 * applied by the worker as soon as SpiceDB answers: repeating the request is not needed.
 */
export class ChangeNotYetInEffectError extends Error {
  override name = "ChangeNotYetInEffectError";

  constructor(
    readonly tenantId: string,
    cause?: unknown,
  ) {
    super(`Change committed for tenant ${tenantId} but not applied to SpiceDB yet`, { cause });
  }
}

export const CHANGE_NOT_YET_IN_EFFECT =
  "The change was saved but is not in effect yet: the authorization service did not answer. " +
  "It takes effect by itself as soon as that service answers; do not repeat the request.";
