import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { isBareBegin } from "../../../src/platform/database/pipelined-client.js";

/**
 * pipelined-client.ts answers Drizzle's `begin` itself, which holds only as long as Drizzle issues
 * and uses it the way it did when the saving was measured. These tests fail when that changes:
 * re-check the module (and its bench figure) before widening the ranges.
 */
const installed = (name: string) =>
  (JSON.parse(readFileSync(join(process.cwd(), "node_modules", name, "package.json"), "utf8")) as { version: string }).version;

interface Call {
  readonly config: unknown;
  readonly values: unknown;
  readonly callback: unknown;
}

/** A pg client that never connects: it records each call and answers when the test says so. */
class RecordingClient extends pg.Client {
  readonly calls: Call[] = [];
  readonly answers: (() => void)[] = [];

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(config: any, values?: any, callback?: any): any {
    this.calls.push({ config, values, callback });
    // The made-up result pipelined-client.ts hands back for a `begin`, for every statement.
    return new Promise((resolve) => this.answers.push(() => resolve({ command: "BEGIN", rowCount: null, oid: 0, fields: [], rows: [] })));
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("what pipelined-client.ts relies on in Drizzle", () => {
  it("runs against the versions it was checked with", () => {
    expect(installed("drizzle-orm"), "drizzle-orm moved: re-check pipelined-client.ts").toMatch(/^0\.45\./);
    expect(installed("pg"), "pg moved: re-check pipelined-client.ts").toMatch(/^8\.(2[3-9]|[3-9]\d)\./);
  });

  it("Drizzle opens a transaction with a bare begin, awaits it, and reads nothing from its answer", async () => {
    const client = new RecordingClient();
    const db = drizzle({ client });
    const done = db.transaction(async (tx) => {
      await tx.execute(sql`select 1`);
      return "finished";
    });
    await settle();
    // The begin alone: Drizzle waits for its answer before the first statement (the round trip
    // the module saves), and it is in the form the module answers at once.
    expect(client.calls).toHaveLength(1);
    const begin = client.calls[0] as Call;
    expect(isBareBegin(begin.config, begin.values, begin.callback)).toBe(true);
    // Answered with the module's made-up result, the transaction runs to its commit.
    for (let answered = 0; answered < 3; answered++) {
      client.answers[answered]?.();
      await settle();
    }
    await expect(done).resolves.toBe("finished");
    expect(client.calls.map((call) => (call.config as { text?: string }).text?.trim().toLowerCase())).toEqual(["begin", "select 1", "commit"]);
  });

  it("answers at once only bare begins, never a statement with parameters or a callback", () => {
    expect(isBareBegin({ text: "begin isolation level serializable" }, [], undefined)).toBe(true);
    expect(isBareBegin("select 1", [], undefined)).toBe(false);
    expect(isBareBegin({ text: "begin" }, [1], undefined)).toBe(false);
    expect(isBareBegin("begin", [], () => undefined)).toBe(false);
  });
});
