/**
 * A statement in a PGlite transaction goes in one call into PGlite
 * (src/platform/database/pglite-one-trip-statement.ts) and must answer exactly what PGlite's own
 * `query` answers: the same rows in both row modes, the same types, the same errors, and a
 * transaction that commits or rolls back as before. These fail when PGlite changes either side.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PGlite, type QueryOptions, type Transaction } from "@electric-sql/pglite";
import { drizzle } from "drizzle-orm/pglite";
import { sql } from "drizzle-orm";
import { OneTripStatements, type PreparedStatementLimits } from "../../../src/platform/database/pglite-one-trip-statement.js";
import { DRIZZLE_QUERY_PARSERS, clientForDrizzle } from "../../../src/platform/database/pglite-drizzle-parsers.js";

const SELECT = `SELECT $1::text AS name, $2::int AS small, $3::bigint AS big, $4::numeric AS amount, $5::boolean AS yes,
  $6::jsonb AS doc, $7::timestamptz AS at, $8::text AS nothing, $9::float8 AS ratio, 'a"b'::text AS quoted`;
const PARAMS = ["alice", 42, 9007199254740991, 1.5, true, '{"a": [1, "x"]}', "2026-12-07T02:00:00.123Z", null, 0.25];

describe("a statement in one call into PGlite", () => {
  let client: PGlite;
  let statements: OneTripStatements;
  /** How many calls into PGlite the statements made. */
  let calls = 0;

  beforeAll(async () => {
    client = await PGlite.create({ parsers: DRIZZLE_QUERY_PARSERS });
    statements = new OneTripStatements(client);
    const original = client.execProtocolStream.bind(client);
    client.execProtocolStream = (...args: Parameters<PGlite["execProtocolStream"]>) => {
      calls++;
      return original(...args);
    };
    await client.exec("CREATE TABLE item (id text PRIMARY KEY, n int NOT NULL CHECK (n >= 0), tags text[] NOT NULL DEFAULT '{}')");
  });
  afterAll(() => client.close());

  /** The same statement through `tx.query` and through the one-trip path, in one transaction each. */
  async function both(text: string, params: unknown[], options?: QueryOptions) {
    const expected = await client.transaction((tx) => tx.query(text, params, options));
    let made = 0;
    const actual = await client.transaction(async (tx) => {
      calls = 0;
      const result = await statements.inTransaction(tx, text, params, options);
      made = calls;
      return result;
    });
    return { expected, actual, calls: made };
  }

  it("answers the rows, fields and types PGlite's query answers, in one call", async () => {
    for (const options of [undefined, { rowMode: "array" as const }]) {
      const { expected, actual, calls: made } = await both(SELECT, PARAMS, options);
      expect(actual).toEqual(expected);
      expect(made).toBe(1);
    }
    const { actual } = await both(SELECT, PARAMS);
    expect(actual.rows[0]).toMatchObject({ name: "alice", small: 42, big: 9007199254740991, yes: true, doc: { a: [1, "x"] }, nothing: null, ratio: 0.25 });
  });

  it("reports a write's affected rows as PGlite's query does", async () => {
    const { expected, actual } = await both("INSERT INTO item (id, n) VALUES ($1 || gen_random_uuid()::text, $2), ($1 || gen_random_uuid()::text, $2)", ["w-", 1]);
    expect(actual).toEqual(expected);
    expect(actual.affectedRows).toBe(2);
  });

  it("leaves parameters that need their type to PGlite's query: dates, arrays, objects", async () => {
    const at = new Date("2026-12-07T02:00:00Z");
    const { expected, actual, calls: made } = await both("SELECT $1::timestamptz AS at, $2::text[] AS tags, $3::jsonb AS doc", [at, ["a", 'b"c'], { k: 1 }]);
    expect(actual).toEqual(expected);
    expect(made).toBe(6);
  });

  it("rejects with PostgreSQL's error, its code, constraint and statement, and the transaction rolls back", async () => {
    await client.exec("INSERT INTO item (id, n) VALUES ('taken', 1)");
    const failing = (query: (tx: Transaction, text: string, params: unknown[]) => Promise<unknown>) =>
      client
        .transaction(async (tx) => {
          await query(tx, "INSERT INTO item (id, n) VALUES ($1, 1)", ["kept-only-if-committed"]);
          await query(tx, "INSERT INTO item (id, n) VALUES ($1, $2)", ["taken", 2]);
        })
        .then(
          () => null,
          (error: unknown) => error as Record<string, unknown>,
        );
    const expected = await failing((tx, text, params) => tx.query(text, params));
    const actual = await failing((tx, text, params) => statements.inTransaction(tx, text, params));
    expect(actual).toMatchObject({ code: "23505", constraint: "item_pkey", query: "INSERT INTO item (id, n) VALUES ($1, $2)", params: ["taken", 2] });
    expect(actual?.["message"]).toBe(expected?.["message"]);
    expect((await client.query("SELECT id FROM item WHERE id = 'kept-only-if-committed'")).rows).toEqual([]);
    // The connection is ready for the next transaction.
    expect((await client.transaction((tx) => statements.inTransaction<{ n: number }>(tx, "SELECT n FROM item WHERE id = $1", ["taken"]))).rows).toEqual([{ n: 1 }]);
  });

  it("rejects a value PostgreSQL cannot read for the type, as a data exception, not a JavaScript error", async () => {
    const error = await client
      .transaction((tx) => statements.inTransaction(tx, "SELECT $1::int AS n", ["twelve"]))
      .catch((caught: unknown) => caught as { code?: string });
    expect(error).toMatchObject({ code: "22P02" });
  });

  it("refuses a transaction that has ended, as PGlite does", async () => {
    let kept: Transaction | null = null;
    await client.transaction(async (tx) => {
      kept = tx;
    });
    await expect(statements.inTransaction(kept!, "SELECT 1", [])).rejects.toThrow("Transaction is closed");
  });

  it("answers a statement outside transactions as PGlite's query does, in one call", async () => {
    for (const options of [undefined, { rowMode: "array" as const }]) {
      const expected = await client.query(SELECT, PARAMS, options);
      calls = 0;
      expect(await statements.query(SELECT, PARAMS, options)).toEqual(expected);
      expect(calls).toBe(1);
    }
    await expect(statements.query("INSERT INTO item (id, n) VALUES ($1, $2)", ["negative", -1])).rejects.toMatchObject({ code: "23514", constraint: "item_n_check" });
  });

  it("never runs a statement outside transactions between the statements of one", async () => {
    let insideWrote!: () => void;
    const wrote = new Promise<void>((resolve) => (insideWrote = resolve));
    let finish!: () => void;
    const finishing = new Promise<void>((resolve) => (finish = resolve));
    const transaction = statements
      .transaction(async (tx) => {
        await statements.inTransaction(tx, "INSERT INTO item (id, n) VALUES ($1, $2)", ["uncommitted", 1]);
        insideWrote();
        await finishing;
        throw new Error("rolled back on purpose");
      })
      .catch((error: unknown) => error);
    await wrote;
    // Issued while the transaction is open: it must wait for the ROLLBACK, not see the row.
    let answered = false;
    const outside = statements.query<{ n: number }>("SELECT count(*)::int AS n FROM item WHERE id = $1", ["uncommitted"]).then((result) => {
      answered = true;
      return result;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(answered).toBe(false);
    finish();
    expect(await transaction).toMatchObject({ message: "rolled back on purpose" });
    expect((await outside).rows).toEqual([{ n: 0 }]);
  });

  it("serves Drizzle's statements and transactions through the client handed to it", async () => {
    const db = drizzle({ client: clientForDrizzle(client) });
    calls = 0;
    const rows = await db.transaction(async (tx) => {
      await tx.execute(sql`INSERT INTO item (id, n) VALUES (${"drizzle"}, ${7})`);
      return (await tx.execute(sql`SELECT n FROM item WHERE id = ${"drizzle"}`)).rows;
    });
    expect(rows).toEqual([{ n: 7 }]);
    // BEGIN and COMMIT are PGlite's own (two calls each: the statement and its sync), one per statement.
    expect(calls).toBe(6);
    calls = 0;
    expect((await db.execute(sql`SELECT n FROM item WHERE id = ${"drizzle"}`)).rows).toEqual([{ n: 7 }]);
    expect(calls).toBe(1);
  });
});

describe("statements prepared once per session", () => {
  let client: PGlite;
  beforeAll(async () => {
    client = await PGlite.create({ parsers: DRIZZLE_QUERY_PARSERS });
    await client.exec("CREATE TABLE item (id text PRIMARY KEY, n int NOT NULL CHECK (n >= 0))");
  });
  afterAll(() => client.close());

  /** A session of its own for each test: nothing prepared, no rows. */
  async function open(limits: PreparedStatementLimits) {
    await client.exec("DEALLOCATE ALL; TRUNCATE item");
    return new OneTripStatements(client, limits);
  }

  /** The statements prepared in the session, as PostgreSQL counts their executions. */
  async function prepared(): Promise<{ statement: string; executions: number; prepare_time: string }[]> {
    const rows = await client.query<{ statement: string; executions: number; prepare_time: string }>(
      "SELECT statement, (generic_plans + custom_plans)::int AS executions, prepare_time::text FROM pg_prepared_statements ORDER BY statement",
    );
    return rows.rows;
  }

  it("parses a text once and binds it afterwards, inside and outside transactions alike", async () => {
    const statements = await open({ capacity: 10, replanMs: 60_000 });
    const insert = "INSERT INTO item (id, n) VALUES ($1, $2)";
    for (let i = 0; i < 4; i++) await statements.query(insert, [`outside-${i}`, i]);
    await statements.transaction(async (tx) => {
      for (let i = 0; i < 3; i++) await statements.inTransaction(tx, insert, [`inside-${i}`, i]);
    });
    expect(await prepared()).toEqual([{ statement: insert, executions: 7, prepare_time: expect.any(String) }]);
    expect((await client.query("SELECT count(*)::int AS n FROM item")).rows).toEqual([{ n: 7 }]);
  });

  it("keeps working after a failed statement, a rolled-back transaction and a syntax error", async () => {
    const statements = await open({ capacity: 10, replanMs: 60_000 });
    const insert = "INSERT INTO item (id, n) VALUES ($1, $2)";
    await expect(statements.query(insert, ["negative", -1])).rejects.toMatchObject({ code: "23514" });
    for (let i = 0; i < 2; i++) {
      // The same error each time: the failed parse left no name to bind.
      await expect(statements.query("INSERT INTO item (id, n) VALUS ($1, $2)", ["typo", 1])).rejects.toMatchObject({ code: "42601" });
    }
    await statements
      .transaction(async (tx) => {
        await statements.inTransaction(tx, insert, ["rolled-back", 1]);
        throw new Error("rolled back on purpose");
      })
      .catch(() => undefined);
    await statements.query(insert, ["kept", 2]);
    await statements.transaction((tx) => statements.inTransaction(tx, insert, ["kept-too", 3]));
    expect((await client.query("SELECT id FROM item ORDER BY id")).rows).toEqual([{ id: "kept" }, { id: "kept-too" }]);
    // The statement whose parse failed was never prepared; the insert is, once.
    expect((await prepared()).map((row) => row.statement)).toEqual([insert]);
  });

  it("closes the least recently used statement beyond its capacity", async () => {
    const statements = await open({ capacity: 3, replanMs: 60_000 });
    const select = (k: number) => `SELECT n + ${k} AS n FROM item WHERE id = $1`;
    for (const k of [1, 2, 3, 1, 4, 5]) await statements.query(select(k), ["absent"]);
    // 4 evicted 2, 5 evicted 3; the closes travelled with the later statements.
    expect((await prepared()).map((row) => row.statement).sort()).toEqual([select(1), select(4), select(5)].sort());
    expect((await statements.query<{ n: number }>(select(2), ["absent"])).rows).toEqual([]);
  });

  it("prepares a statement again once its plan is older than the re-planning interval", async () => {
    const statements = await open({ capacity: 10, replanMs: 0 });
    const select = "SELECT n FROM item WHERE id = $1";
    await statements.query(select, ["absent"]);
    const [first] = await prepared();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await statements.query(select, ["absent"]);
    const [second] = await prepared();
    expect(second?.executions).toBe(1);
    expect(second?.prepare_time).not.toBe(first?.prepare_time);
  });
});
