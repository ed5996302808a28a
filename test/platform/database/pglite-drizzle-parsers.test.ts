/**
 * The PGlite client handed to Drizzle leaves out of each query the parsers Drizzle passes, which
 * PGlite has registered once instead (src/platform/database/pglite-drizzle-parsers.ts). These tests
 * fail when Drizzle passes other parsers, or when the results would differ.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PGlite, type QueryOptions } from "@electric-sql/pglite";
import { drizzle } from "drizzle-orm/pglite";
import { sql } from "drizzle-orm";
import { date, pgTable, timestamp, text } from "drizzle-orm/pg-core";
import { DRIZZLE_QUERY_PARSERS, clientForDrizzle } from "../../../src/platform/database/pglite-drizzle-parsers.js";

const probe = pgTable("probe", {
  id: text("id").primaryKey(),
  at: timestamp("at", { withTimezone: true, mode: "date" }).notNull(),
  seen: timestamp("seen", { withTimezone: true, mode: "date" }).array().notNull(),
  days: date("days").array().notNull(),
});

const ROW_SQL = sql`SELECT '2026-12-04 10:00:00.123+00'::timestamptz AS at, '2026-12-04 10:00:00'::timestamp AS local,
  '1 day 02:00'::interval AS span, '2026-12-04'::date AS day, ARRAY[1.5, 2]::numeric[] AS amounts,
  ARRAY['2026-12-04 10:00:00+00'::timestamptz] AS ats, ARRAY['1 hour'::interval] AS spans, ARRAY['2026-12-04'::date] AS days,
  ARRAY['2026-12-04 10:00:00'::timestamp] AS locals, 42::int AS answer, '{"a": [1]}'::jsonb AS doc, true AS yes`;

describe("the PGlite client handed to Drizzle", () => {
  let plain: PGlite;
  let registered: PGlite;

  beforeAll(async () => {
    plain = await PGlite.create();
    registered = await PGlite.create({ parsers: DRIZZLE_QUERY_PARSERS });
    for (const client of [plain, registered]) await client.exec("CREATE TABLE probe (id text PRIMARY KEY, at timestamptz NOT NULL, seen timestamptz[] NOT NULL, days date[] NOT NULL)");
  });
  afterAll(async () => {
    await plain.close();
    await registered.close();
  });

  it("is needed for exactly the parsers Drizzle passes with each query, each of which keeps the text", async () => {
    const passed: QueryOptions[] = [];
    const recording = new Proxy(plain, {
      get(object, key) {
        if (key === "query") {
          return (text: string, params?: unknown[], options?: QueryOptions) => {
            if (options !== undefined) passed.push(options);
            return object.query(text, params, options);
          };
        }
        const value: unknown = Reflect.get(object, key, object);
        return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(object) : value;
      },
    });
    const db = drizzle({ client: recording });
    await db.execute(ROW_SQL);
    await db.select().from(probe);
    expect(passed.length).toBe(2);
    for (const options of passed) {
      const parsers = options.parsers ?? {};
      expect(Object.keys(parsers).sort()).toEqual(Object.keys(DRIZZLE_QUERY_PARSERS).sort());
      for (const parse of Object.values(parsers)) expect(parse("2026-12-04 10:00:00+00", 0)).toBe("2026-12-04 10:00:00+00");
    }
  });

  it("gives the same values as Drizzle over a plain PGlite, in and outside transactions", async () => {
    const before = drizzle({ client: plain });
    const after = drizzle({ client: clientForDrizzle(registered) });
    const [expected] = (await before.execute(ROW_SQL)).rows as Record<string, unknown>[];
    const [actual] = (await after.execute(ROW_SQL)).rows as Record<string, unknown>[];
    // The one difference: a raw query's arrays of these types come as arrays of their texts, not
    // as PostgreSQL's array text (PGlite builds its array parsers from the registered ones). No
    // query of the service returns one; Drizzle's array columns read both alike (below).
    const arrays = ["amounts", "ats", "days", "locals", "spans"];
    for (const column of arrays) expect(`{${(actual?.[column] as string[]).map((v) => (v.includes(" ") ? `"${v}"` : v)).join(",")}}`).toBe(expected?.[column]);
    const scalars = (row: Record<string, unknown> | undefined) => Object.fromEntries(Object.entries(row ?? {}).filter(([key]) => !arrays.includes(key)));
    expect(scalars(actual)).toEqual(scalars(expected));

    const at = new Date("2026-12-04T10:00:00.123Z");
    const row = { id: "p", at, seen: [at, new Date("2026-01-01T00:00:00Z")], days: ["2026-12-04", "2026-12-05"] };
    for (const db of [before, after]) await db.transaction((tx) => tx.insert(probe).values(row));
    const [read] = await after.transaction((tx) => tx.select().from(probe));
    expect(read).toEqual(row);
    expect(await after.select().from(probe)).toEqual(await before.select().from(probe));
  });

  it("keeps parsers that are not the registered ones", async () => {
    const client = clientForDrizzle(registered);
    const own = await client.query<{ n: unknown }>("SELECT 7::int AS n", [], { parsers: { 23: (value: string) => `int ${value}` } });
    expect(own.rows[0]?.n).toBe("int 7");
  });
});
