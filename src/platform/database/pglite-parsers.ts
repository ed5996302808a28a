/**
 * Drizzle passes its own type parsers with every PGlite query (dates, intervals and numeric arrays
 * stay text; Drizzle maps them itself). PGlite merges them into its whole parser table on every
 * query, and that merge cost more than the query: a primary-key SELECT took 490 µs with them and
 * 256 µs without, a fifth of an embedded GET by id.
 *
 * So the client is created with the same parsers as its defaults, and per-query parsers for those
 * types only are dropped on the way in. Results are the same. A query passing any other type's
 * parser (a newer Drizzle, say) keeps its parsers and pays for the merge.
 */
import { types, type PGlite, type Transaction } from "@electric-sql/pglite";

const asText = (value: string) => value;

/** Drizzle's PGlite parsers (drizzle-orm/pglite/session.js), as instance-wide defaults. */
export const DRIZZLE_TEXT_PARSERS = {
  [types.TIMESTAMP]: asText,
  [types.TIMESTAMPTZ]: asText,
  [types.INTERVAL]: asText,
  [types.DATE]: asText,
  1231: asText, // numeric[]
  1115: asText, // timestamp[]
  1185: asText, // timestamptz[]
  1187: asText, // interval[]
  1182: asText, // date[]
};

const DEFAULT_TYPES = new Set(Object.keys(DRIZZLE_TEXT_PARSERS));

type QueryOptions = Parameters<PGlite["query"]>[2];

function withoutParsers(options: QueryOptions): QueryOptions {
  if (options?.parsers === undefined) return options;
  for (const type in options.parsers) if (!DEFAULT_TYPES.has(type)) return options;
  const { parsers: _sameAsDefaults, ...rest } = options;
  return rest;
}

function leanTransaction(tx: Transaction): Transaction {
  const query = tx.query.bind(tx);
  // The transaction object's other members (exec, rollback, closed...) stay as they are.
  return Object.create(tx, {
    query: { value: (text: string, params?: unknown[], options?: QueryOptions) => query(text, params, withoutParsers(options)) },
  }) as Transaction;
}

/** `client`, created with DRIZZLE_TEXT_PARSERS, made to ignore per-query parsers (its own queries and its transactions'). */
export function ignorePerQueryParsers(client: PGlite): PGlite {
  const query = client.query.bind(client);
  const transaction = client.transaction.bind(client);
  return Object.assign(client, {
    query: (text: string, params?: unknown[], options?: QueryOptions) => query(text, params, withoutParsers(options)),
    transaction: <T>(callback: (tx: Transaction) => Promise<T>) => transaction((tx) => callback(leanTransaction(tx))),
  });
}
