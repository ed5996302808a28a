/**
 * A `pg` client for the pools that pipelines: a statement is written to the server as soon as it is
 * issued, behind statements still waiting for their answers (node-postgres' pipeline mode), and
 * answers come back in order. Code that awaits each statement sees no difference; code that issues
 * two statements before awaiting saves a round trip.
 *
 * This class adds two savings:
 * - Statements issued in one turn of the event loop leave in one write (the socket is corked until
 *   the pending promise callbacks have run). A write to the server costs more CPU than building the
 *   statement, so a transaction's BEGIN and first statement, or its last statement and COMMIT,
 *   cost one write each instead of two.
 * - Drizzle awaits `begin` before it runs a transaction's first statement. Here `begin` is sent and
 *   answered at once, so it travels with that first statement. A `begin` cannot fail on a working
 *   connection; on a broken one every statement behind it fails too, so nothing runs outside the
 *   transaction that was asked for.
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

const isBareBegin = (config: unknown, values: unknown, callback: unknown) => isBare(BEGIN, config, values, callback);
const isBareCommit = (config: unknown, values: unknown, callback: unknown) => isBare(COMMIT, config, values, callback);

export class PipelinedClient extends pg.Client {
  /** What broke the connection: statements issued afterwards fail with it as their cause. */
  private brokenBy: Error | null = null;

  constructor(config: pg.ClientConfig) {
    super({ ...config, pipeline: true } as pg.ClientConfig);
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
    this.corkUntilNextTick();
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

  private corked = false;

  /**
   * Statements of a transaction are issued from promise callbacks; a nextTick queued from one runs
   * once all promise callbacks queued so far have run, so statements issued along one chain of
   * awaits (a transaction's last statement, then Drizzle's COMMIT) share the write.
   */
  private corkUntilNextTick(): void {
    const stream = this.connection?.stream;
    if (this.corked || typeof stream?.cork !== "function") return;
    this.corked = true;
    stream.cork();
    process.nextTick(() => {
      this.corked = false;
      stream.uncork();
    });
  }
}
