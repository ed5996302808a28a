/**
 * One database handle for both ways to run: PGlite in a data directory (embedded) or PostgreSQL
 * servers through `pg` pools (a write pool, and a read pool when a replica is configured).
 * Everything above this file sees the same Drizzle API.
 */
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import type { SQL } from "drizzle-orm";
import type { schema } from "./schema.js";
import type { ReadReplica } from "./replica/read-replica.js";

export type AppDatabase = PgDatabase<PgQueryResultHKT, typeof schema>;
/** The object Drizzle hands to a transaction callback. */
export type AppTransaction = Parameters<Parameters<AppDatabase["transaction"]>[0]>[0];
/** Anything that runs queries: the database itself or an open transaction. */
export type Queryable = AppDatabase | AppTransaction;

export interface DatabaseHandle {
  readonly kind: "pglite" | "postgres";
  /** Reads and writes against the primary. */
  readonly db: AppDatabase;
  /**
   * Reads outside transactions. With a read replica, the queries of a read-only request go to it
   * once it has replayed to the request's fence (replica/read-scope.ts), else to the primary; so
   * they never see less than the primary would have shown when the request arrived.
   */
  readonly readDb: AppDatabase;
  /** The read replica (KARTOGRAPH_DB_READ_URL), when one serves reads. */
  readonly replica: ReadReplica | null;
  /** Things start-up should say (e.g. a read URL that points at the primary itself). */
  readonly notices: readonly string[];
  /** Subscribes to NOTIFY on a channel; resolves to an unsubscribe function. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  /** Resolves when the database answers a query; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class DatabaseUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`Database unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "DatabaseUnavailableError";
  }
}

/** Rows of a raw `sql` query, for both drivers (both return an object with `rows`). */
export async function queryRows<T>(db: Queryable, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}
