/**
 * Drizzle's PGlite driver hands PGlite the same nine type parsers with every query, and PGlite
 * then copies its whole parser table (about 320 types once the array types are loaded) into a new
 * object for that query. Registering those nine once, when PGlite is created, and handing Drizzle
 * a client that leaves them out of each query, gives the same results without the copy.
 *
 * Checked against drizzle-orm 0.45.4 and @electric-sql/pglite 0.5.16. What it buys, embedded:
 * SCIM provisioning of 3,000 users by 8 clients (bench scim-embedded, users phase, two alternated
 * rounds each) went from 123 and 121 to 164 and 145 users/s, about 21 % less time. Only public
 * APIs are used (PGlite's `parsers` option, `query` and `transaction`), but it relies on what
 * Drizzle passes: test/platform/database/pglite-drizzle-parsers.test.ts fails when that changes,
 * and a query whose parsers differ from these keeps them.
 *
 * One difference remains, pinned by that test: a raw query's arrays of these types come back as
 * arrays of text rather than as PostgreSQL's array text, since PGlite builds its array parsers
 * from the registered ones. No query of the service returns such an array, and Drizzle's array
 * columns read both forms alike.
 */
import type { PGlite, QueryOptions, Transaction } from "@electric-sql/pglite";
import { OneTripStatements } from "./pglite-one-trip-statement.js";

const asText = (value: string): string => value;

/** The parsers Drizzle passes with each query: timestamps, intervals, dates and their arrays as text. */
export const DRIZZLE_QUERY_PARSERS: Readonly<Record<number, (value: string) => string>> = Object.freeze({
  1114: asText, // timestamp
  1184: asText, // timestamptz
  1186: asText, // interval
  1082: asText, // date
  1231: asText, // numeric[]
  1115: asText, // timestamp[]
  1185: asText, // timestamptz[]
  1187: asText, // interval[]
  1182: asText, // date[]
});

const REGISTERED_TYPES = Object.keys(DRIZZLE_QUERY_PARSERS).sort().join(",");

/** The options without `parsers` when they are exactly the registered ones; else unchanged. */
function withoutRegisteredParsers(options: QueryOptions | undefined): QueryOptions | undefined {
  const parsers = options?.parsers;
  if (parsers === undefined || Object.keys(parsers).sort().join(",") !== REGISTERED_TYPES) return options;
  const { parsers: _registered, ...rest } = options as QueryOptions;
  return rest;
}

type Queryable = Pick<PGlite | Transaction, "query">;
type Query = (text: string, params?: unknown[], options?: QueryOptions) => Promise<unknown>;

function forwardQueries<T extends Queryable>(target: T, query: Query, extra: (key: string | symbol) => unknown): T {
  return new Proxy(target, {
    get(object, key) {
      if (key === "query") {
        return (text: string, params?: unknown[], options?: QueryOptions) => query(text, params, withoutRegisteredParsers(options));
      }
      const special = extra(key);
      if (special !== undefined) return special;
      const value: unknown = Reflect.get(object, key, object);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(object) : value;
    },
  });
}

/**
 * The client to hand Drizzle. PGlite must have been created with `parsers: DRIZZLE_QUERY_PARSERS`
 * (see openPglite), so that leaving them out of a query changes nothing. Statements go to PGlite
 * in one call each (pglite-one-trip-statement.ts).
 */
export function clientForDrizzle(client: PGlite): PGlite {
  const statements = new OneTripStatements(client);
  const inTransaction = (tx: Transaction) =>
    forwardQueries(tx, (text, params, options) => statements.inTransaction(tx, text, params, options), () => undefined);
  return forwardQueries(
    client,
    (text, params, options) => statements.query(text, params, options),
    (key) =>
      key === "transaction" ? <R>(callback: (tx: Transaction) => Promise<R>) => statements.transaction((tx) => callback(inTransaction(tx))) : undefined,
  );
}
