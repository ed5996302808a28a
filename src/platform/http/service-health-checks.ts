/**
 * The health checks of the running service, from its real parts: the database answers, every
 * migration this build ships is applied, SpiceDB answers; and how the read replica is doing.
 */
import type { DatabaseHandle } from "../database/database.js";
import { appliedMigrationCount, shippedMigrationCount } from "../database/open-database.js";
import type { SpiceDbEngine } from "../spicedb/spicedb-engine.js";
import type { HealthChecks } from "./health-routes.js";

export function serviceHealthChecks(
  database: DatabaseHandle,
  spicedb: Pick<SpiceDbEngine, "ping">,
  graphName: string,
  relationshipsNotLoaded: () => number = () => 0,
): HealthChecks {
  const shipped = shippedMigrationCount();
  const replica = database.replica;
  return {
    graphName,
    pingDatabase: () => database.ping(),
    migrationsCurrent: async () => (await appliedMigrationCount(database)) >= shipped,
    pingAuthorization: () => spicedb.ping(),
    relationshipsNotLoaded,
    ...(replica ? { replica: () => replica.health() } : {}),
  };
}
