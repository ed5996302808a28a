/**
 * The deployed topology, with real processes (the SpiceDB-server configuration): two API processes
 * started with KARTOGRAPH_OUTBOX_ENABLED=false and one `kartograph-iam worker`, on one PostgreSQL
 * database and one SpiceDB server, driven over HTTP by a client that alternates between the two,
 * through a worker killed mid-burst, a SpiceDB killed and restarted, and a SpiceDB datastore wiped.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcile } from "../../src/iam/infrastructure/reconciler.js";
import { queryRows } from "../../src/platform/database/database.js";
import { startSpiceDb, type SpiceDbEngine } from "../../src/platform/spicedb/spicedb-engine.js";
import { ensureBuilt, runCli, startCli, type RunningCli } from "../support/built-cli.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { HAS_SPICEDB_SERVER, startTestSpiceDbServer, type TestSpiceDbServer } from "../support/test-spicedb.js";

describe.skipIf(!HAS_SPICEDB_SERVER)("two API processes and a worker over one database and one SpiceDB server", () => {
  let workDir: string;
  let database: TestDatabase;
  let spicedbServer: TestSpiceDbServer;
  let spicedb: SpiceDbEngine;
  const processes: RunningCli[] = [];
  let worker: RunningCli;
  /** Resolves once the current worker has started (it reaches SpiceDB at start, or exits). */
  let workerReady: Promise<string>;
  const addresses: string[] = [];
  const tokens = new Map<string, string>();
  let root = "";

  const environment = (extra: Record<string, string> = {}) => ({
    KARTOGRAPH_DB_URL: database.url ?? "",
    KARTOGRAPH_DATA_DIR: join(workDir, "data"),
    SPICEDB_ENDPOINT: spicedbServer.endpoint,
    SPICEDB_PRESHARED_KEY: spicedbServer.presharedKey,
    SPICEDB_USE_TLS: "false",
    KARTOGRAPH_IAM_BOOTSTRAP_ADMIN_USERNAMES: '["alice"]',
    ...extra,
  });
  const startApi = async () => {
    const cli = startCli(["serve"], environment({ PORT: "0", KARTOGRAPH_OUTBOX_ENABLED: "false" }));
    processes.push(cli);
    const ready = JSON.parse(await cli.waitForLine(/kartograph-iam ready/)) as { address: string };
    addresses.push(ready.address);
  };
  const startWorker = () => {
    worker = startCli(["worker"], environment());
    processes.push(worker);
    workerReady = worker.waitForLine(/outbox_worker_started/);
  };
  const tokenOf = async (user: string) => {
    let token = tokens.get(user);
    if (token === undefined) {
      token = (await runCli(["token", user], { KARTOGRAPH_DATA_DIR: join(workDir, "data") })).stdout.trim();
      tokens.set(user, token);
    }
    return token;
  };
  let turn = 0;
  /** Each call goes to the other process than the last one (or to `on`). */
  const call = async (user: string, method: string, path: string, body?: unknown, on?: number) => {
    const address = addresses[on ?? turn++ % addresses.length]!;
    const response = await fetch(`${address}${path}`, {
      method,
      headers: { authorization: `Bearer ${await tokenOf(user)}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>) };
  };

  beforeAll(async () => {
    ensureBuilt();
    workDir = mkdtempSync(join(tmpdir(), "kiam-multi-process-"));
    [database, spicedbServer] = await Promise.all([createTestDatabase("postgres"), startTestSpiceDbServer()]);
    spicedb = await startSpiceDb({ endpoint: spicedbServer.endpoint, presharedKey: spicedbServer.presharedKey, useTls: false, certPath: null });
    // One after the other: the first creates the development issuer's key that the second reads.
    await startApi();
    await startApi();
    startWorker();
    await workerReady;
    const listed = await call("alice", "GET", "/iam/workspaces", undefined, 0);
    root = (listed.body["workspaces"] as { id: string; parent_workspace_id: string | null }[]).find((w) => w.parent_workspace_id === null)!.id;
    // Bob joins the default tenant at his first tenant-scoped request.
    expect((await call("bob", "GET", "/iam/workspaces", undefined, 1)).status).toBe(200);
  }, 180_000);

  afterAll(async () => {
    for (const cli of processes) cli.child.kill("SIGTERM");
    await Promise.all(processes.map((cli) => cli.exited));
    spicedb?.close();
    await Promise.all([spicedbServer?.stop(), database?.dispose()]);
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it("reads on one process what was created on the other, every time", async () => {
    const answers = new Map<string, number>();
    for (let round = 0; round < 500; round++) {
      const created = await call("alice", "POST", "/iam/workspaces", { name: `round ${round}`, parent_workspace_id: root });
      const read = await call("alice", "GET", `/iam/workspaces/${String(created.body["id"])}`);
      const key = `${created.status} ${read.status}`;
      answers.set(key, (answers.get(key) ?? 0) + 1);
    }
    expect(Object.fromEntries(answers)).toEqual({ "201 200": 500 });
  }, 180_000);

  it("lets a grantee read on one process at once after the grant on the other, and refuses at once after a removal", async () => {
    const wrong: string[] = [];
    for (let round = 0; round < 30; round++) {
      const id = String((await call("alice", "POST", "/iam/workspaces", { name: `grant ${round}`, parent_workspace_id: root }, 0)).body["id"]);
      const answers = [
        (await call("alice", "POST", `/iam/workspaces/${id}/members`, { member_type: "user", member_id: "bob", role: "editor" }, 0)).status,
        (await call("bob", "GET", `/iam/workspaces/${id}`, undefined, 1)).status,
        (await call("alice", "DELETE", `/iam/workspaces/${id}/members/bob?member_type=user`, undefined, 1)).status,
        (await call("bob", "GET", `/iam/workspaces/${id}`, undefined, 0)).status,
      ].join(" ");
      if (answers !== "201 200 204 404") wrong.push(`round ${round}: ${answers}`);
    }
    expect(wrong).toEqual([]);
  }, 180_000);

  it("does the same through a group: grant and read on one process, join and leave on the other", async () => {
    const group = String((await call("alice", "POST", "/iam/groups", { name: "cross-process readers" }, 0)).body["id"]);
    const wrong: string[] = [];
    for (let round = 0; round < 20; round++) {
      const id = String((await call("alice", "POST", "/iam/workspaces", { name: `via group ${round}`, parent_workspace_id: root }, 0)).body["id"]);
      const answers = [
        (await call("alice", "POST", `/iam/workspaces/${id}/members`, { member_type: "group", member_id: group, role: "editor" }, 0)).status,
        (await call("alice", "POST", `/iam/groups/${group}/members`, { user_id: "bob", role: "member" }, 1)).status,
        (await call("bob", "GET", `/iam/workspaces/${id}`, undefined, 0)).status,
        (await call("alice", "DELETE", `/iam/groups/${group}/members/bob`, undefined, 1)).status,
        (await call("bob", "GET", `/iam/workspaces/${id}`, undefined, 0)).status,
      ].join(" ");
      if (answers !== "201 201 200 204 404") wrong.push(`round ${round}: ${answers}`);
    }
    expect(wrong).toEqual([]);
  }, 180_000);

  it("loses nothing when the worker is killed with SIGKILL in a burst of 200 writes", async () => {
    const statuses: number[] = [];
    const writes = Array.from({ length: 200 }, (_, n) => n);
    let killed = false;
    // Ten at a time, on both processes.
    for (let start = 0; start < writes.length; start += 10) {
      if (!killed && start >= 100) {
        worker.child.kill("SIGKILL");
        await worker.exited;
        killed = true;
        startWorker();
      }
      const batch = writes.slice(start, start + 10);
      statuses.push(...(await Promise.all(batch.map((n) => call("alice", "POST", "/iam/groups", { name: `burst ${n}` }).then((r) => r.status)))));
    }
    expect(statuses.filter((status) => status !== 201)).toEqual([]);
    await workerReady;
    // Every committed change is applied (nothing pending, nothing dead), and SpiceDB holds exactly what the tables say.
    const deadline = Date.now() + 30_000;
    const waiting = async () =>
      Number((await queryRows<{ n: string }>(database.handle.db, sql`SELECT count(*) AS n FROM outbox WHERE processed_at IS NULL`))[0]?.n);
    while ((await waiting()) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await waiting()).toBe(0);
    const report = await reconcile(database.handle.db, spicedb.authorization, { dryRun: true });
    expect(report.missing).toEqual([]);
    expect(report.orphaned).toEqual([]);
    expect(report.expected).toBeGreaterThan(400);
  }, 180_000);

  /** Outbox entries neither applied nor dead-lettered. */
  const pendingEntries = async () =>
    Number((await queryRows<{ n: string }>(database.handle.db, sql`SELECT count(*) AS n FROM outbox WHERE processed_at IS NULL AND failed_at IS NULL`))[0]?.n);
  const untilApplied = async (timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while ((await pendingEntries()) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    return pendingEntries();
  };

  /**
   * A worker that cannot reach SpiceDB at start stops with one line, as `serve` does. These two
   * tests once failed in 2 of 7 runs under load: the worker restarted by the test above was still
   * starting when the next test killed SpiceDB, so it exited, and nothing retried the entries the
   * API processes (outbox off) had left. They now wait for the worker to have started.
   */
  it("answers 503 while SpiceDB is killed, loses no saved change, and recovers on both processes when it is back", { timeout: 240_000 }, async () => {
    const unread = String((await call("alice", "POST", "/iam/workspaces", { name: "never read", parent_workspace_id: root }, 0)).body["id"]);
    await workerReady;
    await spicedbServer.kill();
    const read = await call("alice", "GET", `/iam/workspaces/${unread}`);
    expect(read.status).toBe(503);
    const writes = [];
    for (let n = 0; n < 10; n++) writes.push({ name: `outage ${n}`, ...(await call("alice", "POST", "/iam/groups", { name: `outage ${n}` })) });
    // Refused before anything was saved (the permission check needs SpiceDB), or saved and said to be not in effect yet.
    expect(writes.filter((w) => w.status !== 503)).toEqual([]);
    const savedNames = writes.filter((w) => String(w.body["detail"]).startsWith("The change was saved")).map((w) => w.name);

    await spicedbServer.restart();
    // Within about 2 s (the clients' reconnect back-off is capped at 2 s); the wait is generous for loaded machines.
    const left = await untilApplied(60_000);
    const stuck = left === 0 ? [] : await queryRows(database.handle.db, sql`SELECT event_type, retry_count, last_error, next_attempt_at FROM outbox WHERE processed_at IS NULL AND failed_at IS NULL`);
    expect(stuck, `stuck: ${JSON.stringify(stuck)}; worker log: ${worker.stdout().slice(-1500)} ${worker.stderr().slice(-1500)}`).toEqual([]);
    for (const on of [0, 1]) expect((await call("alice", "GET", `/iam/workspaces/${unread}`, undefined, on)).status).toBe(200);
    const listed = await call("alice", "GET", "/iam/groups", undefined, 1);
    expect(listed.status).toBe(200);
    const names = (listed.body as unknown as { name: string }[]).map((g) => g.name);
    for (const name of savedNames) expect(names).toContain(name);
    const report = await reconcile(database.handle.db, spicedb.authorization, { dryRun: true });
    expect([report.missing, report.orphaned]).toEqual([[], []]);
  });

  it("restores every relationship with `reconcile` after SpiceDB's datastore is wiped", async () => {
    const before = await reconcile(database.handle.db, spicedb.authorization, { dryRun: true });
    expect(before.missing).toEqual([]);
    await spicedbServer.restart({ wiped: true });
    const run = await runCli(["reconcile"], environment());
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`${before.expected} relationships expected, 0 found in SpiceDB: added ${before.expected}, deleted 0`));
    const after = await reconcile(database.handle.db, spicedb.authorization, { dryRun: true });
    expect([after.missing, after.orphaned, after.found]).toEqual([[], [], before.expected]);
    // Permissions answer as before, on both processes: bob was granted nothing that survived.
    for (const on of [0, 1]) expect((await call("alice", "GET", `/iam/workspaces/${root}`, undefined, on)).status).toBe(200);
  }, 180_000);
});
