/**
 * A statement in one call into PGlite instead of six, parsed and planned once per session.
 *
 * PGlite's `query` sends the extended protocol one message per call into its WebAssembly
 * PostgreSQL (parse, describe statement, bind, describe portal, execute, sync): the answer to
 * `describe statement` gives it the parameter types, by which it turns JavaScript values into
 * text. For a string, a finite number, a boolean or null that text does not depend on the type
 * (PostgreSQL's own input reads it for every type), so when every parameter is one of those the
 * messages go in one buffer and one call, as a PostgreSQL driver writes them to a socket.
 * Anything else (dates, arrays, objects, byte arrays, bigints, options that need the types) goes
 * through PGlite's `query`, unchanged. One difference is known and unused: PGlite turns a number
 * given for a timestamp into a date; here PostgreSQL refuses it.
 *
 * Those statements are also prepared under a name of their own, as a pooled driver's prepared
 * statements are: the service sends the same few hundred texts again and again, and in
 * WebAssembly parsing and planning a statement costs as much as running it (see PreparedNames).
 *
 * Public APIs only: `runExclusive` (the per-statement lock `query` takes inside a transaction),
 * `execProtocolStream`, `syncToFs`, and the exported `Mutex`, `protocol.serialize` and
 * `parse.parseResults`.
 * - Checked against @electric-sql/pglite 0.5.16; test/platform/database/pglite-one-trip-statement.test.ts
 *   compares its results and errors with `query`'s, so a change in either shows there.
 * - What it buys, embedded, old and new code alternated in one hour: `npm run bench --
 *   scim-embedded` initial sync 128 and 133 s before, 108 s after (users 112-116 s, then 92 s);
 *   statements outside transactions too: `workspaces-get-embedded` 858 and 1,016 req/s before,
 *   1,080 and 1,221 after (0.72x and 0.75x of the bare-Fastify baseline, then 0.85x and 0.86x);
 *   one statement of a micro-benchmark, about 380 µs before and 270 µs after.
 * - Prepared once (2026-12-07, unnamed and named alternated): `npm run bench -- scim-embedded`
 *   initial sync 105 s and 83 s (users 91 s and 72 s), the userName look-up p50 6.9 and 3.8 ms;
 *   2,000 SCIM users provisioned in process by 8 clients 9.9 and 10.5 ms a user unnamed, 8.0 and
 *   7.3 named, PGlite's share of it 11.2 and 11.9 s, then 7.5 and 6.9 s.
 * - A statement outside a transaction must not run between the statements of one. PGlite's
 *   `query` waits for that on a lock it does not expose, so transactions and these statements
 *   take turns on a lock of their own here: every transaction of the client must begin through
 *   `transaction` below. PGlite's own `query` (the fallback, a health check, LISTEN) keeps waiting
 *   on PGlite's lock, which a transaction holds throughout.
 */
import { Mutex, parse, protocol, type PGlite, type QueryOptions, type Results, type Transaction } from "@electric-sql/pglite";

const { serialize } = protocol;

export interface PreparedStatementLimits {
  /** Statements kept prepared at most. */
  readonly capacity: number;
  /** How long a statement's plan is kept before it is prepared again. */
  readonly replanMs: number;
}

/** Statements kept prepared at most: the service's texts, with room for the variants of IN lists. */
const PREPARED_CAPACITY = 500;
/**
 * How long a statement's plan is kept before it is prepared again. PostgreSQL keeps a prepared
 * statement's generic plan until the statistics of its tables change (ANALYZE, which the
 * maintenance runs every minute); a plan made when a table held one row scans it in full while
 * it fills up (a directory's first sync), so no plan is trusted for longer than this.
 */
const REPLAN_MS = 5_000;

/**
 * Which texts are prepared in the session, and under which name, the least recently used first.
 * A prepared statement outlives the transaction that prepared it, rolled back or not, so a name
 * is known to be ready once a trip that parsed it succeeded. After a failed trip it is parsed
 * again (closed first: closing a name that does not exist is no error, and a statement whose plan
 * went stale is replaced). Evicted names are closed in the next trip. Every decision is made
 * under PGlite's lock, so two statements never disagree about a name.
 * - What it buys (PGlite 0.5.16, 2 cores, same data and texts, named against unnamed): a SCIM
 *   user's account-and-record INSERT ... WITH 550-650 µs unnamed, 260-280 µs named; a
 *   primary-key SELECT 206 µs and 100 µs.
 */
class PreparedNames {
  private readonly entries = new Map<string, { readonly name: string; ready: boolean; preparedAt: number }>();
  /** Evicted names, and names a failed trip may not have closed: closed in the next trip. */
  private closing: string[] = [];
  private made = 0;

  constructor(private readonly limits: PreparedStatementLimits) {}

  /** The messages that execute `text` with `values`, and what to report back to `settle`. */
  messages(text: string, values: (string | null)[]): { message: Uint8Array; settle: (succeeded: boolean) => void } {
    let entry = this.entries.get(text);
    if (entry === undefined) {
      entry = { name: `kartograph_${(this.made += 1)}`, ready: false, preparedAt: 0 };
      const oldest = this.entries.size >= this.limits.capacity ? this.entries.keys().next().value : undefined;
      if (oldest !== undefined) {
        this.closing.push(this.entries.get(oldest)!.name);
        this.entries.delete(oldest);
      }
    } else {
      this.entries.delete(text); // to the recently used end
    }
    this.entries.set(text, entry);
    const name = entry.name;
    const closes = this.closing;
    this.closing = [];
    const parts = closes.map((closed) => serialize.close({ type: "S", name: closed }));
    const now = Date.now();
    const preparing = !entry.ready || now - entry.preparedAt > this.limits.replanMs;
    if (preparing) parts.push(serialize.close({ type: "S", name }), serialize.parse({ text, name }));
    parts.push(serialize.bind({ statement: name, values }), serialize.describe({ type: "P" }), serialize.execute({}), serialize.sync());
    const used = entry;
    return {
      message: concatenated(parts),
      settle: (succeeded) => {
        used.ready = succeeded;
        if (preparing) used.preparedAt = now;
        if (!succeeded) this.closing.push(...closes);
      },
    };
  }
}

/** The parameters' texts, or null when one of them needs its type to be written (then `query` does it). */
function parameterTexts(params: readonly unknown[]): (string | null)[] | null {
  const texts: (string | null)[] = [];
  for (const value of params) {
    if (value === null || value === undefined) texts.push(null);
    else if (typeof value === "string") texts.push(value);
    else if (typeof value === "boolean") texts.push(value ? "true" : "false");
    // A number's text is the same for every numeric type, text and JSON; PGlite would turn one
    // given for a timestamp into a date, which this does not guess: none of the service's is.
    else if (typeof value === "number" && Number.isFinite(value)) texts.push(String(value));
    else return null;
  }
  return texts;
}

/** Whether `options` asks for nothing beyond what `parseResults` does with them. */
function plainOptions(options: QueryOptions | undefined): boolean {
  return options === undefined || (options.blob === undefined && options.paramTypes === undefined && options.serializers === undefined);
}

function concatenated(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const message = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    message.set(part, offset);
    offset += part.length;
  }
  return message;
}

/** The parameters' texts when the statement can take one trip; null when it must go through `query`. */
function oneTripTexts(params: readonly unknown[], options: QueryOptions | undefined): (string | null)[] | null {
  return plainOptions(options) ? parameterTexts(params) : null;
}

/** PGlite's `query`, `transaction` and a transaction's `query`, in one call each when the parameters allow it. */
export class OneTripStatements {
  /** Held by a transaction from BEGIN to its end, and by a statement outside transactions. */
  private readonly turns = new Mutex();
  private readonly prepared: PreparedNames;

  constructor(
    private readonly client: PGlite,
    limits: PreparedStatementLimits = { capacity: PREPARED_CAPACITY, replanMs: REPLAN_MS },
  ) {
    this.prepared = new PreparedNames(limits);
  }

  /** `client.query(text, params, options)`. */
  async query<T>(text: string, params: readonly unknown[] = [], options?: QueryOptions): Promise<Results<T>> {
    const values = oneTripTexts(params, options);
    if (values === null) return this.client.query<T>(text, params as unknown[], options);
    return this.turns.runExclusive(async () => {
      const result = await this.execute<T>(text, params, values, options);
      await this.client.syncToFs(); // as `query` does after a statement outside a transaction
      return result;
    });
  }

  /** `client.transaction(callback)`, taking its turn with the statements outside transactions. */
  transaction<R>(callback: (tx: Transaction) => Promise<R>): Promise<R> {
    return this.turns.runExclusive(() => this.client.transaction(callback));
  }

  /** `tx.query(text, params, options)` in a transaction begun by `transaction`. */
  async inTransaction<T>(tx: Transaction, text: string, params: readonly unknown[] = [], options?: QueryOptions): Promise<Results<T>> {
    if (tx.closed) throw new Error("Transaction is closed"); // PGlite's own check, which `tx.query` makes
    const values = oneTripTexts(params, options);
    if (values === null) return tx.query<T>(text, params as unknown[], options);
    return this.execute<T>(text, params, values, options);
  }

  private async execute<T>(text: string, params: readonly unknown[], values: (string | null)[], options: QueryOptions | undefined): Promise<Results<T>> {
    try {
      const messages = await this.client.runExclusive(async () => {
        const { message, settle } = this.prepared.messages(text, values);
        try {
          const answer = await this.client.execProtocolStream(message, { syncToFs: false, onNotice: options?.onNotice });
          settle(true);
          return answer;
        } catch (error) {
          settle(false);
          throw error;
        }
      });
      return parse.parseResults(messages, this.client.parsers, options)[0] as Results<T>;
    } catch (error) {
      // As PGlite's `query` does: the statement and its parameters travel with its error.
      if (error instanceof Error && "code" in error) Object.assign(error, { query: text, params, queryOptions: options });
      throw error;
    }
  }
}
