import { accessSync, constants, existsSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { PGlite, type PGliteOptions } from "@electric-sql/pglite";
import { drizzle } from "drizzle-orm/pglite";
import { migrate } from "drizzle-orm/pglite/migrator";
import { join } from "node:path";
import type { AppDatabase, DatabaseHandle } from "./database.js";
import { schema } from "./schema.js";
import { countAppliedMigrations } from "./migration-count.js";
import { packageRoot } from "../runtime/package-root.js";
import { DEFAULT_PGLITE_CACHE_MB } from "../config/config.js";
import { DataDirectoryError } from "./data-directory-error.js";
import { lockDataDirectory, type DataDirectoryLock } from "./data-directory-lock.js";
import { DRIZZLE_QUERY_PARSERS, clientForDrizzle } from "./pglite-drizzle-parsers.js";

function ensureWritableDirectory(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK | constants.R_OK);
  } catch (error) {
    throw new DataDirectoryError(
      `KARTOGRAPH_DATA_DIR ${dir} is not a writable directory: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/**
 * Runs initdb for a new data directory in a worker thread. An instance that ran initdb keeps
 * ~400 MB of WebAssembly memory it can never give back; when the thread ends, its memory goes with
 * it, and the service then opens the directory as on any later start (about half a second more, once).
 */
async function initialiseInWorker(pgdata: string, settings: PGliteOptions): Promise<void> {
  const entry = createRequire(import.meta.url).resolve("@electric-sql/pglite");
  const script = `
    const { parentPort, workerData } = require("node:worker_threads");
    const { PGlite } = require(workerData.entry);
    PGlite.create(workerData.pgdata, workerData.settings)
      .then((client) => client.close())
      .then(() => parentPort.postMessage({ ok: true }), (error) => parentPort.postMessage({ ok: false, message: String(error && error.message || error) }));
  `;
  const worker = new Worker(script, { eval: true, workerData: { entry, pgdata, settings } });
  try {
    const outcome = await new Promise<{ ok: boolean; message?: string }>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
      worker.once("exit", (code) => reject(new Error(`the database initialisation thread exited with code ${code}`)));
    });
    if (!outcome.ok) throw new Error(`Cannot create the embedded database in ${pgdata}: ${outcome.message ?? "unknown error"}`);
  } finally {
    await worker.terminate();
  }
}

/**
 * Opens PGlite. `dataDir` null means in memory (tests). The database lives in `<dataDir>/pgdata`
 * so the data directory can also hold the development issuer's keys.
 */
export async function openPglite(dataDir: string | null, options: { cacheMb?: number } = {}): Promise<DatabaseHandle> {
  const settings = { postgresqlconf: [`shared_buffers=${options.cacheMb ?? DEFAULT_PGLITE_CACHE_MB}MB`] };
  let client: PGlite;
  let lock: DataDirectoryLock | null = null;
  if (dataDir === null) {
    client = await PGlite.create({ ...settings, parsers: DRIZZLE_QUERY_PARSERS });
  } else {
    ensureWritableDirectory(dataDir);
    lock = await lockDataDirectory(dataDir);
    try {
      const pgdata = join(dataDir, "pgdata");
      if (!existsSync(join(pgdata, "PG_VERSION"))) await initialiseInWorker(pgdata, settings);
      client = await PGlite.create(pgdata, { ...settings, parsers: DRIZZLE_QUERY_PARSERS });
    } catch (error) {
      await lock.release();
      throw error;
    }
  }
  const db = drizzle({ client: clientForDrizzle(client), schema }) as unknown as AppDatabase;
  return {
    kind: "pglite",
    db,
    readDb: db,
    replica: null,
    notices: [],
    async listen(channel, onNotify) {
      const unsubscribe = await client.listen(channel, onNotify);
      return async () => {
        if (!client.closed) await unsubscribe();
      };
    },
    async ping() {
      await client.query("SELECT 1");
    },
    async close() {
      if (!client.closed) await client.close();
      await lock?.release();
      lock = null;
    },
  };
}

/** PGlite is one process and one session: no lock is needed around migrations. Returns how many it applied. */
export async function migratePglite(handle: DatabaseHandle): Promise<number> {
  const before = await countAppliedMigrations(handle.db);
  await migrate(handle.db as never, { migrationsFolder: join(packageRoot(), "drizzle") });
  return (await countAppliedMigrations(handle.db)) - before;
}
