/**
 * Composition root: opens the database and SpiceDB, wires the IAM context into the platform and
 * returns a service that can listen and shut down. The only module that knows every layer.
 */
import type { AppConfig } from "./platform/config/config.js";
import type { DatabaseHandle } from "./platform/database/database.js";
import { openDatabase } from "./platform/database/open-database.js";
import { buildHttpServer, type HttpServer } from "./platform/http/http-server.js";
import { serviceHealthChecks } from "./platform/http/service-health-checks.js";
import type { Logger } from "./platform/logging/logger.js";
import { startSpiceDb, type SpiceDbEngine } from "./platform/spicedb/spicedb-engine.js";

export interface Service {
  readonly config: AppConfig;
  readonly server: HttpServer;
  readonly database: DatabaseHandle;
  readonly spicedb: SpiceDbEngine;
  /** Stops accepting, finishes in-flight requests, then closes pools and SpiceDB. */
  close(): Promise<void>;
}

export interface ServiceOptions {
  /** Apply pending migrations before serving (the default for `serve`). */
  readonly migrate?: boolean;
  /** Use this database instead of opening the configured one (tests). */
  readonly database?: DatabaseHandle;
}

export async function createService(config: AppConfig, logger: Logger, options: ServiceOptions = {}): Promise<Service> {
  const database = options.database ?? (await openDatabase(config.database, { migrate: options.migrate ?? true }));
  let spicedb: SpiceDbEngine;
  try {
    spicedb = await startSpiceDb(config.spicedb);
  } catch (error) {
    if (!options.database) await database.close();
    throw error;
  }
  const server = await buildHttpServer({
    logger,
    corsOrigins: config.corsOrigins,
    health: serviceHealthChecks(database, spicedb, config.graphName),
  });

  let closing: Promise<void> | null = null;
  return {
    config,
    server,
    database,
    spicedb,
    close() {
      closing ??= (async () => {
        await server.close();
        if (!options.database) await database.close();
        spicedb.close();
      })();
      return closing;
    },
  };
}
