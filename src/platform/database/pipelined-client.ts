/**
 * A `pg` client for the pools that pipelines (pg's public `pipeline` option): a statement is
 * written to the server as soon as it is issued, behind statements still waiting for their
 * answers, and answers come back in order. Code that awaits each statement sees no difference;
 * code that issues two statements before awaiting saves a round trip (transaction-ending-with.ts).
 *
 * RELIES ON DRIZZLE'S INTERNALS for one saving: Drizzle's node-postgres session awaits a bare
 * `begin` (`client.query({ text: "begin" }, [])`) before a transaction's first statement and reads
 * nothing from its result. This client sends that `begin` and answers it at once with a made-up
 * result, so it travels with the first statement instead of costing a round trip of its own. A
 * `begin` cannot fail on a working connection; on a broken one every statement behind it fails
 * too, so nothing runs outside the transaction that was asked for.
 * - Checked against: drizzle-orm 0.45.4, pg 8.23.1. test/platform/database/pipelined-client.test.ts
 *   fails when either leaves the checked range or Drizzle stops issuing its `begin` this way.
 * - What it buys (issue 16; two service processes on identical data, alternating bursts in one
 *   run, PostgreSQL behind bench/delay-proxy.ts 1 ms each way as in workspaces-create-remote-postgres):
 *   POST /iam/workspaces, 1 connection: 29 req/s, p50 31 ms with it; 24 req/s, p50 38 ms without
 *   (+21 % throughput). At 8 connections over the same link 146 against 141 req/s, and on loopback
 *   nothing: the gain is one round trip per transaction, so it grows with the database's distance.
 * - Without it: drop the `isBareBegin` branch of `query`; everything else here is pg's public API.
 */
import pg from "pg";

const BEGIN = /^\s*begin\b/i;
const COMMIT = /^\s*commit\b/i;

/** PostgreSQL ended the transaction with a ROLLBACK where COMMIT was asked: a statement in it failed. */
export class TransactionRolledBackError extends Error {
  constructor() {
    super("The transaction was rolled back instead of committed: a statement in it failed");
    this.name = "TransactionRolledBackError";
  }
}

/** The answer Drizzle gets for its `begin` (it reads nothing from it). */
function beginResult(): pg.QueryResult {
  return { command: "BEGIN", rowCount: null, oid: 0, fields: [], rows: [] };
}

/** A promise-style statement without parameters whose text matches `pattern`. */
function isBare(pattern: RegExp, config: unknown, values: unknown, callback: unknown): boolean {
  if (callback !== undefined || typeof values === "function") return false;
  if (Array.isArray(values) && values.length > 0) return false;
  const text = typeof config === "string" ? config : (config as { text?: unknown } | null)?.text;
  return typeof text === "string" && pattern.test(text);
}

/** Whether `query` answers this call at once (exported for the shape test). */
export const isBareBegin = (config: unknown, values: unknown, callback: unknown) => isBare(BEGIN, config, values, callback);
const isBareCommit = (config: unknown, values: unknown, callback: unknown) => isBare(COMMIT, config, values, callback);

export class PipelinedClient extends pg.Client {
  /** What broke the connection: statements issued afterwards fail with it as their cause. */
  private brokenBy: Error | null = null;

  constructor(config: pg.ClientConfig) {
    super({ ...config, pipeline: true });
    // A connection that dies while the client is checked out but between statements (a terminated
    // session, a failover, a transaction waiting on SpiceDB) emits 'error' on the client. pg-pool
    // listens only while the client is idle, and an unheard 'error' ends the process. The failure
    // still reaches every statement issued on it, and the pool discards the client on release.
    this.on("error", (error: Error) => {
      this.brokenBy ??= error;
    });
  }

  // The overloads of pg's `query` cannot be restated one by one; every call is passed through.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(config: any, values?: any, callback?: any): any {
    const brokenBy = this.brokenBy;
    if (brokenBy !== null && callback === undefined && typeof values !== "function") {
      // pg only says the client "is not queryable"; the log should say why (the session was
      // terminated, the server shut down...).
      return (super.query(config, values) as Promise<pg.QueryResult>).catch((error: Error) => {
        if (error.cause === undefined) error.cause = brokenBy;
        throw error;
      });
    }
    if (isBareCommit(config, values, callback)) {
      // A statement of the transaction failed (and its failure was not awaited, or was caught):
      // PostgreSQL answers COMMIT with ROLLBACK and no error. Say so instead of looking committed.
      return (super.query(config, values) as Promise<pg.QueryResult>).then((result) => {
        if (result.command === "ROLLBACK") throw new TransactionRolledBackError();
        return result;
      });
    }
    if (!isBareBegin(config, values, callback)) return super.query(config, values, callback);
    // Its failure (a dead connection) reaches the statements written behind it; nobody awaits this.
    (super.query(config, values) as Promise<unknown>).catch(() => undefined);
    return Promise.resolve(beginResult());
  }
}
