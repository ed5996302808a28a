/**
 * `audit export` and `audit verify` as an operator runs them: against the data directory a real
 * `serve` wrote its audit events to (and sealed them in), after it stopped.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/platform/database/database.js";
import { openPglite } from "../../src/platform/database/pglite-database.js";
import { ensureBuilt, runCli, startCli } from "../support/built-cli.js";

let workDir: string;
let dataDir: string;

beforeAll(async () => {
  ensureBuilt();
  workDir = mkdtempSync(join(tmpdir(), "kiam-audit-cli-"));
  dataDir = join(workDir, "data");
  const env = { KARTOGRAPH_DATA_DIR: dataDir, PORT: "0", KARTOGRAPH_IAM_BOOTSTRAP_ADMIN_USERNAMES: "alice" };
  const serve = startCli(["serve"], env);
  try {
    const ready = JSON.parse(await serve.waitForLine(/kartograph-iam ready/, 120_000)) as { address: string };
    const token = (await runCli(["token", "alice"], env)).stdout.trim();
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const root = ((await (await fetch(`${ready.address}/iam/workspaces`, { headers })).json()) as { workspaces: { id: string }[] }).workspaces[0]!.id;
    for (const name of ["One", "Two", "Three"]) {
      const created = await fetch(`${ready.address}/iam/workspaces`, { method: "POST", headers, body: JSON.stringify({ name, parent_workspace_id: root }) });
      expect(created.status).toBe(201);
    }
    // The sealer runs within a second of a commit; wait until the log says every event is sealed.
    for (let i = 0; i < 50; i++) {
      const page = (await (await fetch(`${ready.address}/iam/audit-events?limit=1000`, { headers })).json()) as { events: { sequence: number | null }[] };
      if (page.events.length > 0 && page.events.every((event) => event.sequence !== null)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    serve.child.kill("SIGTERM");
    await serve.exited;
  }
}, 240_000);

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe("kartograph-iam audit", () => {
  it("export writes one JSON event per line, oldest first, and filters by tenant and time", async () => {
    const run = await runCli(["audit", "export"], { KARTOGRAPH_DATA_DIR: dataDir });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const events = run.stdout.trim().split("\n").map((line) => JSON.parse(line) as { action: string; tenant_id: string; target: { name: string } });
    const created = events.filter((event) => event.action === "workspace.created").map((event) => event.target.name);
    expect(created.slice(-3)).toEqual(["One", "Two", "Three"]);
    const tenant = events.at(-1)!.tenant_id;
    const own = await runCli(["audit", "export", "--tenant", tenant.toLowerCase()], { KARTOGRAPH_DATA_DIR: dataDir });
    expect(own.stdout.trim().split("\n")).toHaveLength(events.filter((event) => event.tenant_id === tenant).length);
    const future = await runCli(["audit", "export", "--since", "2999-01-01"], { KARTOGRAPH_DATA_DIR: dataDir });
    expect(future).toMatchObject({ code: 0, stdout: "" });
  });

  it("refuses malformed options in one line", async () => {
    for (const args of [["audit", "export", "--tenant", "acme"], ["audit", "export", "--since", "yesterday"], ["audit", "verify", "--until", "2026-01-01"], ["audit"]]) {
      const run = await runCli(args, { KARTOGRAPH_DATA_DIR: dataDir });
      expect(run.code, args.join(" ")).toBe(1);
      expect(run.stderr).toMatch(/^kartograph-iam: /);
    }
    // A year the database cannot compare with is refused before it is asked.
    const outside = await runCli(["audit", "export", "--since", "0000-01-01"], { KARTOGRAPH_DATA_DIR: dataDir });
    expect({ code: outside.code, stderr: outside.stderr.split("\n")[0] }).toEqual({ code: 1, stderr: "kartograph-iam: --since must lie in the years 0001 to 9999 (UTC): 0000-01-01" });
  });

  it("verify passes on the untouched log and names the event an UPDATE altered (exit 2)", async () => {
    const clean = await runCli(["audit", "verify"], { KARTOGRAPH_DATA_DIR: dataDir });
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/^ok {6}tenant \w{26}: \d+ events verified \(positions 1-\d+\)$/m);
    const database = await openPglite(dataDir);
    try {
      await queryRows(database.db, sql`UPDATE audit_events SET body = jsonb_set(body, '{target,name}', '"Tampered"') WHERE sequence = (SELECT sequence FROM audit_seals WHERE chain_position = 2 LIMIT 1)`);
    } finally {
      await database.close();
    }
    const broken = await runCli(["audit", "verify"], { KARTOGRAPH_DATA_DIR: dataDir });
    expect(broken.code).toBe(2);
    expect(broken.stdout).toMatch(/^BROKEN {2}tenant \w{26}: altered at position 2: /m);
  });
});
