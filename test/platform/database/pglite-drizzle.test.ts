import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../../src/platform/database/database.js";
import { createTestDatabase, type TestDatabase } from "../../support/test-database.js";

describe("Drizzle on the embedded database", () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase("pglite");
  });
  afterAll(async () => {
    await database?.dispose();
  });

  it("hands timestamps and intervals over as text (Drizzle's own parsers) and keeps transactions whole", async () => {
    const [row] = await queryRows<{ at: string; span: string }>(
      database.handle.db,
      sql`SELECT '2025-06-07 08:09:10.987654+00'::timestamptz AS at, '1 day'::interval AS span`,
    );
    expect(row).toEqual({ at: "2025-06-07 08:09:10.987654+00", span: "1 day" });
    await expect(
      database.handle.db.transaction(async (tx) => {
        await queryRows(tx, sql`CREATE TABLE parsers_scratch (id int)`);
        throw new Error("undo");
      }),
    ).rejects.toThrow("undo");
    expect(await queryRows(database.handle.db, sql`SELECT to_regclass('parsers_scratch') AS t`)).toEqual([{ t: null }]);
  });
});
