/**
 * `kartograph-iam outbox retry` as an operator runs it: an id that is not a dead letter is refused
 * by name and nothing is queued, and re-queued entries wake the workers of their tenants at once
 * (the NOTIFY a running worker listens for) instead of waiting for its next poll.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows, type Queryable } from "../../src/platform/database/database.js";
import { openPglite } from "../../src/platform/database/pglite-database.js";
import { OUTBOX_CHANNEL, listDeadLetters } from "../../src/platform/outbox/outbox-store.js";
import { HAS_POSTGRES_SERVER, createTestDatabase } from "../support/test-database.js";
import { ensureBuilt, expectOneClearLine, runCli } from "../support/built-cli.js";

const TENANT_A = "01JAAAAAAAAAAAAAAAAAAAAAAA";
const TENANT_B = "01JBBBBBBBBBBBBBBBBBBBBBBB";
const UNKNOWN = "0b0e6f4e-5a8c-4c1e-9d3a-7f2b1c0d9e8f";
/** Each command is a whole process that opens (and on PGlite starts) the database. */
const SEVERAL_COMMANDS_MS = 240_000;

/** A dead letter of `tenantId`, as the dispatcher leaves one; returns its id. */
async function deadLetter(db: Queryable, tenantId: string): Promise<string> {
  const rows = await queryRows<{ id: string }>(
    db,
    sql`INSERT INTO outbox (tenant_id, aggregate_type, aggregate_id, event_type, payload, occurred_at, retry_count, last_error, failed_at)
        VALUES (${tenantId}, 'test', 'x', 'NoSuchEvent', '{}'::jsonb, now(), 1, 'no handler', now()) RETURNING id`,
  );
  return rows[0]!.id;
}

let workDir: string;
let env: Record<string, string>;

beforeAll(async () => {
  ensureBuilt();
  workDir = mkdtempSync(join(tmpdir(), "kiam-outbox-cli-"));
  env = { KARTOGRAPH_DATA_DIR: join(workDir, "data") };
  expect((await runCli(["migrate"], env)).code).toBe(0);
}, 240_000);

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe("kartograph-iam outbox retry", () => {
  it("refuses an id that is not a dead letter by name, queues nothing, and queues a known one in any case", async () => {
    const database = await openPglite(env["KARTOGRAPH_DATA_DIR"]!);
    let known: string;
    try {
      known = await deadLetter(database.db, TENANT_A);
    } finally {
      await database.close();
    }

    const unknown = await runCli(["outbox", "retry", UNKNOWN], env);
    expectOneClearLine(unknown, new RegExp(`^kartograph-iam: not a dead letter \\(see \`outbox failed\`\\): ${UNKNOWN}; nothing was queued again$`));
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe("");

    const mixed = await runCli(["outbox", "retry", known, UNKNOWN], env);
    expectOneClearLine(mixed, new RegExp(`: ${UNKNOWN}; nothing was queued again$`));
    expect((await runCli(["outbox", "failed"], env)).stdout).toContain(known);

    const retried = await runCli(["outbox", "retry", known.toUpperCase()], env);
    expect(retried.stderr).toBe("");
    expect(retried.code).toBe(0);
    expect(retried.stdout).toBe("1 dead letter(s) queued again\n");
    expect((await runCli(["outbox", "failed"], env)).stdout).toBe("no dead letters\n");
  }, SEVERAL_COMMANDS_MS);

  // A NOTIFY reaches other processes only through a PostgreSQL server.
  it.skipIf(!HAS_POSTGRES_SERVER)("wakes the workers of every tenant it re-queued", async () => {
    const database = await createTestDatabase("postgres");
    try {
      const db = database.handle.db;
      for (const tenantId of [TENANT_A, TENANT_A, TENANT_B]) await deadLetter(db, tenantId);
      // Listening after the inserts: their own NOTIFY must not count as the wake-up.
      const woken: string[] = [];
      const unlisten = await database.handle.listen(OUTBOX_CHANNEL, (tenantId) => woken.push(tenantId));
      try {
        const run = await runCli(["outbox", "retry", "--all"], { KARTOGRAPH_DB_URL: database.url ?? "" });
        expect(run.stderr).toBe("");
        expect(run.stdout).toBe("3 dead letter(s) queued again\n");
        // Delivered asynchronously after the command's commit: give it a moment.
        for (let waited = 0; woken.length < 2 && waited < 5_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
        expect(woken.sort()).toEqual([TENANT_A, TENANT_B]);
        expect(await listDeadLetters(db)).toEqual([]);
      } finally {
        await unlisten();
      }
    } finally {
      await database.dispose();
    }
  }, SEVERAL_COMMANDS_MS);
});
