import { sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows, type AppTransaction } from "../../../src/platform/database/database.js";
import { postgresErrorOf } from "../../../src/platform/database/database-errors.js";
import { TransactionRolledBackError } from "../../../src/platform/database/pipelined-client.js";
import { transactionEndingWith } from "../../../src/platform/database/transaction-ending-with.js";
import { isUnavailableError } from "../../../src/platform/runtime/unavailable.js";
import { TEST_DATABASE_KINDS, createTestDatabase, type TestDatabase } from "../../support/test-database.js";

describe.each(TEST_DATABASE_KINDS)("a transaction whose last statement travels with its COMMIT, on %s", (kind) => {
  let database: TestDatabase;

  beforeAll(async () => {
    // One connection on the server: every transaction below reuses the connection the one before
    // it left, so a connection left in a failed transaction would fail the next test.
    database = await createTestDatabase(kind, { poolMax: 1 });
    await queryRows(database.handle.db, sql`CREATE TABLE scratch (id int PRIMARY KEY, at timestamptz NOT NULL)`);
  });
  afterAll(async () => {
    await database?.dispose();
  });

  const ids = async () =>
    (await queryRows<{ id: number }>(database.handle.db, sql`SELECT id FROM scratch ORDER BY id`)).map((row) => row.id);

  it("commits the work and the last statement together, inside one transaction", async () => {
    const { value, last } = await transactionEndingWith(database.handle.db, async (tx) => {
      const [row] = await queryRows<{ at: string }>(tx, sql`INSERT INTO scratch VALUES (1, now()) RETURNING at::text`);
      // now() is the transaction's start: the same value means the same transaction.
      return { value: row?.at, last: queryRows<{ at: string }>(tx, sql`INSERT INTO scratch VALUES (2, now()) RETURNING at::text`) };
    });
    expect(last[0]?.at).toBe(value);
    expect(await ids()).toEqual([1, 2]);
  });

  it("keeps nothing when the last statement fails, and reports that statement's error", async () => {
    const failure = await transactionEndingWith(database.handle.db, async (tx) => {
      await queryRows(tx, sql`INSERT INTO scratch VALUES (3, now())`);
      return { value: "work done", last: queryRows(tx, sql`INSERT INTO scratch VALUES (1, now())`) };
    }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(postgresErrorOf(failure)?.code).toBe("23505");
    expect(await ids()).toEqual([1, 2]);
  });

  it("keeps nothing when the work fails before its last statement, and the connection stays usable", async () => {
    const failure = await transactionEndingWith(database.handle.db, async (tx) => {
      await queryRows(tx, sql`INSERT INTO scratch VALUES (4, now())`);
      await queryRows(tx, sql`SELECT 1 / 0`);
      return { value: null, last: Promise.resolve(null) };
    }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(postgresErrorOf(failure)?.code).toBe("22012");
    await transactionEndingWith(database.handle.db, async (tx) => ({
      value: null,
      last: queryRows(tx, sql`INSERT INTO scratch VALUES (5, now())`),
    }));
    expect(await ids()).toEqual([1, 2, 5]);
  });

  it("answers statements issued together on one connection in order, each with its own answer", async () => {
    const { value } = await transactionEndingWith(database.handle.db, async (tx) => {
      const first = queryRows<{ n: number }>(tx, sql`SELECT 1 AS n`);
      const second = queryRows<{ id: number }>(tx, sql`INSERT INTO scratch VALUES (6, now()) RETURNING id`);
      const third = queryRows<{ n: string }>(tx, sql`SELECT count(*)::text AS n FROM scratch`);
      return { value: await Promise.all([first, second, third]), last: Promise.resolve(null) };
    });
    expect(value).toEqual([[{ n: 1 }], [{ id: 6 }], [{ n: "4" }]]);
  });
});

describe.runIf(TEST_DATABASE_KINDS.includes("postgres"))("a transaction on the PostgreSQL server", () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase("postgres", { poolMax: 1 });
  });
  afterAll(async () => {
    await database?.dispose();
  });

  /**
   * What `transactionEndingWith` rejects with when `work` has its own session terminated by an
   * administrator's connection (as a failover or `pg_terminate_backend` would), in a table
   * `cut_scratch`.
   */
  async function failureOf(
    work: (tx: AppTransaction, terminateOwnSession: () => Promise<void>) => Promise<{ value: null; last: Promise<unknown> }>,
  ): Promise<unknown> {
    await queryRows(database.handle.db, sql`CREATE TABLE IF NOT EXISTS cut_scratch (id int PRIMARY KEY)`);
    const admin = new pg.Client({ connectionString: database.url ?? "" });
    await admin.connect();
    try {
      return await transactionEndingWith(database.handle.db, (tx) =>
        work(tx, async () => {
          const [own] = await queryRows<{ pid: number }>(tx, sql`SELECT pg_backend_pid() AS pid`);
          await admin.query("SELECT pg_terminate_backend($1)", [own?.pid]);
        }),
      ).then(
        () => null,
        (error: unknown) => error,
      );
    } finally {
      await admin.end();
    }
  }

  it("keeps nothing when its session is terminated between statements; nothing crashes and the pool serves the next one", async () => {
    // The connection dies while its client is checked out and idle: an unheard error event there
    // would end the process (vitest reports it as an unhandled error).
    const failure = await failureOf(async (tx, terminateOwnSession) => {
      await queryRows(tx, sql`INSERT INTO cut_scratch VALUES (1)`);
      await terminateOwnSession();
      return { value: null, last: queryRows(tx, sql`INSERT INTO cut_scratch VALUES (2)`) };
    });
    expect(failure).toBeInstanceOf(Error);
    await transactionEndingWith(database.handle.db, async (tx) => ({
      value: null,
      last: queryRows(tx, sql`INSERT INTO cut_scratch VALUES (3)`),
    }));
    expect(await queryRows(database.handle.db, sql`SELECT id FROM cut_scratch ORDER BY id`)).toEqual([{ id: 3 }]);
  });

  it("reports the statement that met a dead connection, not the ROLLBACK that could not follow it", async () => {
    const failure = await failureOf(async (tx, terminateOwnSession) => {
      await terminateOwnSession();
      // Let the server's goodbye arrive first: the statement then meets a client that knows it is
      // broken ("not queryable"), the case whose error used to say nothing of the reason.
      await new Promise((resolve) => setTimeout(resolve, 200));
      await queryRows(tx, sql`INSERT INTO cut_scratch VALUES (20)`);
      return { value: null, last: Promise.resolve(null) };
    });
    expect((failure as Error).message).toMatch(/^Failed query: INSERT INTO cut_scratch VALUES \(20\)/);
    // Down the chain of causes, what killed the connection.
    const causes: string[] = [];
    for (let error: unknown = failure; error instanceof Error; error = error.cause) causes.push(error.message);
    expect(causes.at(-1)).toMatch(/terminating connection due to administrator command/);
    expect(isUnavailableError(failure)).toBe(true);
  });

  it("fails when PostgreSQL answers its COMMIT with a ROLLBACK, instead of looking committed", async () => {
    const failure = await database.handle.db
      .transaction(async (tx) => {
        // The statement's failure is swallowed; the transaction is nonetheless aborted.
        await queryRows(tx, sql`SELECT 1 / 0`).catch(() => undefined);
      })
      .then(
        () => null,
        (error: unknown) => error,
      );
    // Drizzle wraps the driver's error; the cause is ours.
    expect((failure as Error | null)?.cause).toBeInstanceOf(TransactionRolledBackError);
    expect(await queryRows(database.handle.db, sql`SELECT 1 AS n`)).toEqual([{ n: 1 }]);
  });
});
