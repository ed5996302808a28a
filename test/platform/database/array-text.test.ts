/**
 * Lists sent as PostgreSQL's array text (src/platform/database/array-text.ts) must arrive as the
 * same array, element for element, whatever characters the elements hold, on both databases.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { arrayText } from "../../../src/platform/database/array-text.js";
import { queryRows } from "../../../src/platform/database/database.js";
import { TEST_DATABASE_KINDS, createTestDatabase, type TestDatabase } from "../../support/test-database.js";

const AWKWARD = ['a"b', "c\\d", "e,f", "{g}", "NULL", "", " spaced ", "ünï", "x'y"];

describe.each(TEST_DATABASE_KINDS)("a list as array text (%s)", (kind) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
  });
  afterAll(() => database?.dispose());

  it("arrives as the same elements, quotes, backslashes, commas, braces and the word NULL included", async () => {
    const rows = await queryRows<{ elements: string[]; n: number }>(
      database.handle.db,
      sql`SELECT ${arrayText(AWKWARD)}::text[] AS elements, cardinality(${arrayText(AWKWARD)}::text[]) AS n`,
    );
    expect(rows[0]?.elements).toEqual(AWKWARD);
    expect(Number(rows[0]?.n)).toBe(AWKWARD.length);
  });

  it("reads numbers and uuids for their types, and an empty list as an empty array", async () => {
    const rows = await queryRows<{ total: string | number; ids: number; none: number }>(
      database.handle.db,
      sql`SELECT (SELECT sum(v) FROM unnest(${arrayText([1, 2, 40])}::bigint[]) v) AS total,
                 cardinality(${arrayText(["75b0b6b8-af47-4007-8055-c5add05ee618"])}::uuid[]) AS ids,
                 cardinality(${arrayText([])}::varchar[]) AS none`,
    );
    expect(Number(rows[0]?.total)).toBe(43);
    expect(Number(rows[0]?.ids)).toBe(1);
    expect(Number(rows[0]?.none)).toBe(0);
  });
});
