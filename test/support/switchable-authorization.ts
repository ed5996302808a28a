/**
 * A purpose-built stand-in for a SpiceDB outage: delegates to the real adapter until `down` is
 * set, then every call fails the way an unreachable SpiceDB does.
 */
import type { AuthorizationPort } from "../../src/shared-kernel/authorization/authorization-port.js";
import { AuthorizationUnavailableError } from "../../src/platform/spicedb/spicedb-authorization.js";

export function switchableAuthorization(real: AuthorizationPort): AuthorizationPort & { down: boolean; calls: number } {
  const state = { down: false, calls: 0 };
  const guard = <T>(run: () => Promise<T>): Promise<T> => {
    state.calls++;
    if (state.down) return Promise.reject(new AuthorizationUnavailableError("call", new Error("connect ECONNREFUSED")));
    return run();
  };
  return Object.assign(state, {
    check: (...a: Parameters<AuthorizationPort["check"]>) => guard(() => real.check(...a)),
    checkBulk: (...a: Parameters<AuthorizationPort["checkBulk"]>) => guard(() => real.checkBulk(...a)),
    lookupResources: (...a: Parameters<AuthorizationPort["lookupResources"]>) => guard(() => real.lookupResources(...a)),
    lookupSubjects: (...a: Parameters<AuthorizationPort["lookupSubjects"]>) => guard(() => real.lookupSubjects(...a)),
    readRelationships: (...a: Parameters<AuthorizationPort["readRelationships"]>) => guard(() => real.readRelationships(...a)),
    writeRelationships: (...a: Parameters<AuthorizationPort["writeRelationships"]>) => guard(() => real.writeRelationships(...a)),
    deleteRelationships: (...a: Parameters<AuthorizationPort["deleteRelationships"]>) =>
      guard(() => real.deleteRelationships(...a)),
  });
}
