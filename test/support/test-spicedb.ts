/**
 * SpiceDB for tests. By default the in-process engine (memory datastore). With
 * KARTOGRAPH_TEST_SPICEDB_BINARY naming a `spicedb` binary (and KARTOGRAPH_TEST_DB_URL a
 * PostgreSQL server), every call starts a SpiceDB server of its own on a fresh PostgreSQL
 * datastore instead, so tests that read or reconcile every relationship see only their own, as
 * with the embedded engine. `close()` stops the server and drops its datastore.
 */
import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import type { SpiceDbConfig } from "../../src/platform/config/config.js";
import { SpiceDbStartError, startSpiceDb, type SpiceDbEngine } from "../../src/platform/spicedb/spicedb-engine.js";
import { startSpiceDbServer, type SpiceDbServer, type SpiceDbServerOptions } from "./spicedb-server.js";
import { onTestServer, testServerDatabaseUrl } from "./test-server-admin.js";

const binary = process.env["KARTOGRAPH_TEST_SPICEDB_BINARY"] || null;

/** True when the tests' SpiceDB is a server on a PostgreSQL datastore (the third configuration). */
export const HAS_SPICEDB_SERVER = binary !== null;

export interface TestSpiceDbServer extends SpiceDbServer {
  readonly presharedKey: string;
  /** Stops the server and drops its datastore. */
  stop(): Promise<void>;
  /** Kills the server (SIGKILL) and keeps its datastore: an outage. */
  kill(): Promise<void>;
  /** Starts it again at the same endpoint, on its datastore or, with `wiped`, on a fresh migrated one. */
  restart(options?: { wiped?: boolean }): Promise<void>;
}

let started = 0;

/** A SpiceDB server on a fresh datastore of its own (needs HAS_SPICEDB_SERVER). */
export async function startTestSpiceDbServer(
  options: Partial<Pick<SpiceDbServerOptions, "presharedKey" | "tls">> = {},
): Promise<TestSpiceDbServer> {
  if (binary === null) throw new Error("KARTOGRAPH_TEST_SPICEDB_BINARY is not set");
  const prefix = inject("spicedbDatastorePrefix");
  const datastore = `${prefix}_${process.pid}_${++started}`;
  await onTestServer(`CREATE DATABASE ${datastore} TEMPLATE ${prefix}_template`);
  const dropDatastore = () => onTestServer(`DROP DATABASE IF EXISTS ${datastore} WITH (FORCE)`);
  const presharedKey = options.presharedKey ?? randomBytes(16).toString("hex");
  const serverOptions = { binary, datastoreUrl: testServerDatabaseUrl(datastore), presharedKey, ...(options.tls ? { tls: options.tls } : {}) };
  let server: SpiceDbServer;
  try {
    server = await startSpiceDbServer(serverOptions);
  } catch (error) {
    await dropDatastore();
    throw error;
  }
  const port = Number(server.endpoint.split(":")[1]);
  return {
    endpoint: server.endpoint,
    get pid() {
      return server.pid;
    },
    presharedKey,
    async stop() {
      await server.stop();
      await dropDatastore();
    },
    async kill() {
      process.kill(server.pid, "SIGKILL");
      await server.stop(); // resolves once it is gone
    },
    async restart({ wiped = false } = {}) {
      await server.stop();
      if (wiped) {
        await dropDatastore();
        await onTestServer(`CREATE DATABASE ${datastore} TEMPLATE ${prefix}_template`);
      }
      server = await startSpiceDbServer({ ...serverOptions, port });
    },
  };
}

/** A fresh, empty SpiceDB with the permission schema written: in process, or a server of its own. */
export async function startTestSpiceDb(): Promise<SpiceDbEngine> {
  if (binary === null) return startSpiceDb({ endpoint: null, presharedKey: "", useTls: false, certPath: null });
  const server = await startTestSpiceDbServer();
  try {
    const engine = await connectWithPatience({ endpoint: server.endpoint, presharedKey: server.presharedKey, useTls: false, certPath: null });
    return {
      ...engine,
      async close() {
        await engine.close();
        await server.stop();
      },
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/**
 * The service gives a SpiceDB 5 s to take its schema at start. A server that has just started on a
 * fresh datastore, on a machine running two test forks and their servers, now and then needs longer
 * for its first write (seen in CI under load); a test is not about that, so it asks again.
 */
async function connectWithPatience(config: SpiceDbConfig): Promise<SpiceDbEngine> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startSpiceDb(config);
    } catch (error) {
      if (attempt === 3 || !(error instanceof SpiceDbStartError) || !/did not answer within/.test(error.message)) throw error;
    }
  }
}
