import { mkdirSync, accessSync, constants } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { drizzle } from "drizzle-orm/pglite";
import { migrate } from "drizzle-orm/pglite/migrator";
import { join } from "node:path";
import type { AppDatabase, DatabaseHandle } from "./database.js";
import { schema } from "./schema.js";
import { packageRoot } from "../runtime/package-root.js";
import { DEFAULT_PGLITE_CACHE_MB } from "../config/config.js";

export class DataDirectoryError extends Error {
  override name = "DataDirectoryError";
}

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
 * Opens PGlite. `dataDir` null means in memory (tests). The database lives in `<dataDir>/pgdata`
 * so the data directory can also hold the development issuer's keys.
 */
export async function openPglite(dataDir: string | null, options: { cacheMb?: number } = {}): Promise<DatabaseHandle> {
  const settings = { postgresqlconf: [`shared_buffers=${options.cacheMb ?? DEFAULT_PGLITE_CACHE_MB}MB`] };
  let client: PGlite;
  if (dataDir === null) {
    client = await PGlite.create(settings);
  } else {
    ensureWritableDirectory(dataDir);
    client = await PGlite.create(join(dataDir, "pgdata"), settings);
  }
  const db = drizzle({ client, schema }) as unknown as AppDatabase;
  return {
    kind: "pglite",
    db,
    readDb: db,
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
    },
  };
}

/** PGlite is one process and one session: no lock is needed around migrations. */
export async function migratePglite(handle: DatabaseHandle): Promise<void> {
  await migrate(handle.db as never, { migrationsFolder: join(packageRoot(), "drizzle") });
}
