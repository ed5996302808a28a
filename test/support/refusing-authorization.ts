/**
 * A purpose-built stand-in for a SpiceDB that cannot hold some relationships (a schema without
 * their relation, say): updates `refuses` picks go to the real SpiceDB with a relation its schema
 * lacks, so the refusal is SpiceDB's own. Everything else passes through untouched.
 */
import type { AuthorizationPort, RelationshipUpdate } from "../../src/shared-kernel/authorization/authorization-port.js";

export function refusingAuthorization(
  real: AuthorizationPort,
  refuses: (update: RelationshipUpdate) => boolean,
): AuthorizationPort & { writes: number } {
  const state = { writes: 0 };
  const spoilt = (update: RelationshipUpdate): RelationshipUpdate =>
    refuses(update) ? { ...update, relationship: { ...update.relationship, relation: "relation_not_in_schema" } } : update;
  return Object.assign(state, {
    check: real.check.bind(real),
    checkBulk: real.checkBulk.bind(real),
    lookupResources: real.lookupResources.bind(real),
    lookupSubjects: real.lookupSubjects.bind(real),
    readRelationships: real.readRelationships.bind(real),
    deleteRelationships: real.deleteRelationships.bind(real),
    writeRelationships: (updates: readonly RelationshipUpdate[]) => {
      state.writes++;
      return real.writeRelationships(updates.map(spoilt));
    },
  });
}
