import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../../src/platform/database/database.js";
import { DRIZZLE_TEXT_PARSERS, ignorePerQueryParsers } from "../../../src/platform/database/pglite-parsers.js";
import { createTestDatabase, type TestDatabase } from "../../support/test-database.js";

describe("PGlite with Drizzle's parsers as its defaults", () => {
  let client: PGlite;

  beforeAll(async () => {
    client = ignorePerQueryParsers(await PGlite.create({ parsers: DRIZZLE_TEXT_PARSERS }));
  });
  afterAll(async () => {
    await client?.close();
  });

  const query = `SELECT 7 AS n, '2025-06-07 08:09:10.987654+00'::timestamptz AS at, '1 day'::interval AS span`;
  const sameTypes = { parsers: { 1184: () => "parsed per query" } };
  const otherTypes = { parsers: { 23: () => "parsed per query" } };

  it("answers dates and intervals as text, as Drizzle's own parsers would", async () => {
    const [row] = (await client.query<Record<string, unknown>>(query)).rows;
    expect(row).toEqual({ n: 7, at: "2025-06-07 08:09:10.987654+00", span: "1 day" });
  });

  it("drops a query's parsers for the default types, in and out of transactions", async () => {
    expect((await client.query<Record<string, unknown>>(query, [], sameTypes)).rows[0]?.["at"]).toBe("2025-06-07 08:09:10.987654+00");
    const inTransaction = await client.transaction(async (tx) => (await tx.query<Record<string, unknown>>(query, [], sameTypes)).rows[0]);
    expect(inTransaction?.["at"]).toBe("2025-06-07 08:09:10.987654+00");
  });

  it("keeps a query's parsers when they cover another type", async () => {
    expect((await client.query<Record<string, unknown>>(query, [], otherTypes)).rows[0]?.["n"]).toBe("parsed per query");
    const inTransaction = await client.transaction(async (tx) => (await tx.query<Record<string, unknown>>(query, [], otherTypes)).rows[0]);
    expect(inTransaction?.["n"]).toBe("parsed per query");
  });
});

describe("Drizzle on the embedded database", () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase("pglite");
  });
  afterAll(async () => {
    await database?.dispose();
  });

  it("still hands Drizzle timestamps as text and keeps transactions whole", async () => {
    const [row] = await queryRows<{ at: string }>(database.handle.db, sql`SELECT '2025-06-07 08:09:10.987654+00'::timestamptz AS at`);
    expect(row?.at).toBe("2025-06-07 08:09:10.987654+00");
    await expect(
      database.handle.db.transaction(async (tx) => {
        await queryRows(tx, sql`CREATE TABLE parsers_scratch (id int)`);
        throw new Error("undo");
      }),
    ).rejects.toThrow("undo");
    expect(await queryRows(database.handle.db, sql`SELECT to_regclass('parsers_scratch') AS t`)).toEqual([{ t: null }]);
  });
});
