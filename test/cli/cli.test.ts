/**
 * The built CLI as a child process: help for every command, start-up failures that end in one
 * clear line, and a graceful shutdown that finishes the request in flight.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { spawn } from "node:child_process";
import { connect, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shippedMigrationCount } from "../../src/platform/database/open-database.js";
import { HAS_POSTGRES_SERVER } from "../support/test-database.js";
import { PACKAGE_ROOT, cliEnvironment, ensureBuilt, expectOneClearLine, runCli, startCli } from "../support/built-cli.js";

let workDir: string;
/** A data directory migrated once, so that the failure tests need not wait for a cold PGlite. */
let dataDir: string;

beforeAll(async () => {
  ensureBuilt();
  workDir = mkdtempSync(join(tmpdir(), "kiam-cli-"));
  dataDir = join(workDir, "data");
  const migrated = await runCli(["migrate"], { KARTOGRAPH_DATA_DIR: dataDir });
  expect(migrated.stderr).toBe("");
  expect(migrated.code).toBe(0);
}, 240_000);

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe("kartograph-iam --help", () => {
  it("lists the commands, and every command answers --help", async () => {
    const main = await runCli(["--help"]);
    expect(main.code).toBe(0);
    expect(main.stdout).toMatch(/^Usage: kartograph-iam <command>/);
    const commands = [...main.stdout.matchAll(/^ {2}(\S+) {2,}\S/gm)].map((m) => m[1] ?? "");
    expect(commands).toEqual(expect.arrayContaining(["serve", "migrate"]));
    for (const command of commands) {
      for (const flag of ["--help", "-h"]) {
        const help = await runCli([command, flag]);
        expect(help.code, `${command} ${flag}`).toBe(0);
        expect(help.stdout).toMatch(new RegExp(`^Usage: kartograph-iam ${command}\\b`));
        expect(help.stderr).toBe("");
      }
    }
  });

  it("with no command prints the usage", async () => {
    const run = await runCli([]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: kartograph-iam <command>/);
  });

  it("refuses an unknown command and an unknown option, with the usage", async () => {
    const unknown = await runCli(["frobnicate"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^kartograph-iam: unknown command "frobnicate"\nUsage: kartograph-iam <command>/);
    const option = await runCli(["migrate", "--force"]);
    expect(option.code).toBe(1);
    expect(option.stderr).toMatch(/^kartograph-iam: Unknown option '--force'/);
    expect(option.stderr).toContain("Usage: kartograph-iam migrate");
  });
});

// PORT 0 where the port is not what is tested: a service on the default 8000 would answer first.
describe("kartograph-iam serve: start-up failures end with one clear line", () => {
  it("a bad configuration value names the variable", async () => {
    const run = await runCli(["serve"], { KARTOGRAPH_DATA_DIR: dataDir, PORT: "eighty" });
    expectOneClearLine(run, /^kartograph-iam: PORT must be a whole number from 0 to 65535 \(got "eighty"\)$/);
  });

  it("an unwritable data directory names KARTOGRAPH_DATA_DIR", async () => {
    const blocker = join(workDir, "a-file");
    writeFileSync(blocker, "not a directory");
    const run = await runCli(["serve"], { KARTOGRAPH_DATA_DIR: join(blocker, "data"), PORT: "0" });
    expectOneClearLine(run, /KARTOGRAPH_DATA_DIR .*a-file\/data is not a writable directory/);
  });

  it("an unreachable database names where it looked, without the password", async () => {
    const run = await runCli(["serve"], { KARTOGRAPH_DB_URL: "postgresql://app:hunter2@127.0.0.1:1/iam", PORT: "0" });
    expectOneClearLine(run, /Cannot open the database \(PostgreSQL at 127\.0\.0\.1:1\/iam\)/);
    expect(run.stderr).not.toContain("hunter2");
  });

  it("an unreachable SpiceDB names SPICEDB_ENDPOINT", async () => {
    const run = await runCli(["serve"], { KARTOGRAPH_DATA_DIR: dataDir, SPICEDB_ENDPOINT: "127.0.0.1:1", SPICEDB_USE_TLS: "false", PORT: "0" });
    expectOneClearLine(
      run,
      /^kartograph-iam: Cannot reach SpiceDB at 127\.0\.0\.1:1 \(SPICEDB_ENDPOINT\): connect ECONNREFUSED 127\.0\.0\.1:1; check that SpiceDB runs there$/,
    );
  });

  it("a port in use names PORT, before any data is touched", async () => {
    const blocker: Server = createServer();
    const port = await new Promise<number>((resolve) => {
      blocker.listen(0, "127.0.0.1", () => resolve((blocker.address() as { port: number }).port));
    });
    const untouched = join(workDir, "never-created");
    try {
      const run = await runCli(["serve"], { KARTOGRAPH_DATA_DIR: untouched, PORT: String(port) });
      expectOneClearLine(run, new RegExp(`^kartograph-iam: PORT must be a free port; 127\\.0\\.0\\.1:${port} is in use`));
      // No database created, migrated or given a default tenant.
      expect(existsSync(untouched)).toBe(false);
    } finally {
      blocker.close();
    }
  });

  it("LOG_LEVEL=debug adds the stack for diagnosis", async () => {
    const run = await runCli(["serve"], { KARTOGRAPH_DATA_DIR: join(workDir, "a-file", "data"), LOG_LEVEL: "debug" });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^\s+at /m);
  });
});

describe("kartograph-iam serve: graceful shutdown", () => {
  it("on SIGTERM finishes the request in flight, then exits 0", async () => {
    const cli = startCli(["serve"], { KARTOGRAPH_DATA_DIR: dataDir, PORT: "0" });
    try {
      const ready = JSON.parse(await cli.waitForLine(/kartograph-iam ready/)) as { address: string };
      const address = new URL(ready.address);
      expect(Number(address.port)).toBeGreaterThan(0);

      // A request whose body is still arriving is in flight until the last byte is sent.
      const body = JSON.stringify({ name: "in flight" });
      let responded = false;
      const inFlight = request({
        host: address.hostname,
        port: address.port,
        method: "POST",
        path: "/health",
        agent: false,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      });
      const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
        inFlight.on("error", reject);
        inFlight.on("response", (res) => {
          let text = "";
          res.on("data", (chunk: Buffer) => (text += chunk.toString()));
          res.on("end", () => {
            responded = true;
            resolve({ status: res.statusCode ?? 0, body: text });
          });
        });
      });
      inFlight.write(body.slice(0, 5));
      await new Promise((resolve) => setTimeout(resolve, 200));

      cli.child.kill("SIGTERM");
      await cli.waitForLine(/shutting down: finishing in-flight requests/);
      expect(responded).toBe(false);
      expect(cli.child.exitCode).toBeNull();

      inFlight.end(body.slice(5));
      const response = await answer;
      expect(response.status).toBe(405);
      expect(JSON.parse(response.body)).toEqual({ detail: "Method Not Allowed" });

      const exit = await cli.exited;
      expect(exit.code).toBe(0);
      expect(exit.stderr).toBe("");
      expect(exit.stdout).toMatch(/"msg":"stopped"/);
    } finally {
      if (cli.child.exitCode === null) cli.child.kill("SIGKILL");
    }
  });
});

describe("kartograph-iam serve: a restart on the same data directory", () => {
  async function call(base: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: { id?: string; workspaces?: { id: string }[] } }> {
    const response = await fetch(new URL(path, base), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: (await response.json()) as { id?: string; workspaces?: { id: string }[] } };
  }

  async function serveOnce<T>(directory: string, work: (base: string) => Promise<T>): Promise<{ result: T; output: string }> {
    const cli = startCli(["serve"], { KARTOGRAPH_DATA_DIR: directory, PORT: "0" });
    try {
      const ready = JSON.parse(await cli.waitForLine(/kartograph-iam ready/)) as { address: string };
      const result = await work(ready.address);
      cli.child.kill("SIGTERM");
      const exit = await cli.exited;
      expect(exit.code).toBe(0);
      return { result, output: exit.stdout + exit.stderr };
    } finally {
      if (cli.child.exitCode === null) cli.child.kill("SIGKILL");
    }
  }

  // The freshness token kept in the database came from the last run's in-process SpiceDB, whose
  // datastore is gone: asked for it, the new engine logged a warning for every check until a write.
  it("serves what the last run wrote, with no SpiceDB warning about another datastore's token", async () => {
    const directory = join(workDir, "restarted");
    const token = (await runCli(["token", "alice"], { KARTOGRAPH_DATA_DIR: directory })).stdout.trim();
    const first = await serveOnce(directory, async (base) => {
      const root = (await call(base, token, "GET", "/iam/workspaces")).json.workspaces?.[0]?.id;
      const created = await call(base, token, "POST", "/iam/workspaces", { name: "Research", parent_workspace_id: root });
      expect(created.status).toBe(201);
      return created.json.id;
    });
    const second = await serveOnce(directory, async (base) => {
      const answers = [];
      for (const path of ["/iam/workspaces", `/iam/workspaces/${first.result}`, "/iam/users/me", "/iam/groups"]) {
        answers.push((await call(base, token, "GET", path)).status);
      }
      return answers;
    });
    expect(second.result).toEqual([200, 200, 200, 200]);
    expect(first.output + second.output).not.toMatch(/different datastore/);
  }, 120_000);
});

describe("npm start: the README's way to run the service", () => {
  it("stops on SIGTERM to npm, leaving no service behind on the port", async () => {
    const npm = spawn("npm", ["start", "--silent"], {
      cwd: PACKAGE_ROOT,
      env: cliEnvironment({ KARTOGRAPH_DATA_DIR: dataDir, PORT: "0" }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    const ready = new Promise<string>((resolve) =>
      npm.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const line = out.split("\n").find((candidate) => candidate.includes("kartograph-iam ready"));
        if (line !== undefined) resolve(line);
      }),
    );
    const exited = new Promise<number | null>((resolve) => npm.on("close", resolve));
    try {
      const address = new URL((JSON.parse(await ready) as { address: string }).address);
      npm.kill("SIGTERM");
      expect(await exited).toBe(0);
      // Without `exec` in the start script, npm's shell took the signal and the service ran on.
      const refused = await new Promise<boolean>((resolve) => {
        const probe = connect(Number(address.port), address.hostname);
        probe.on("connect", () => (probe.destroy(), resolve(false)));
        probe.on("error", () => resolve(true));
      });
      expect(refused).toBe(true);
    } finally {
      if (npm.exitCode === null) npm.kill("SIGKILL");
    }
  }, 120_000);
});

describe("the embedded data directory: one process at a time", () => {
  const holderLine = (pid: number) =>
    new RegExp(`^kartograph-iam: KARTOGRAPH_DATA_DIR \\S+ is in use by process ${pid} \\(kartograph-iam serve, since [^)]+\\); .*stop that one first`);

  it("refuses every other opener while serve runs, naming serve, and lets them in once it has stopped", async () => {
    const cli = startCli(["serve"], { KARTOGRAPH_DATA_DIR: dataDir, PORT: "0" });
    try {
      await cli.waitForLine(/kartograph-iam ready/);
      const pid = cli.child.pid ?? 0;
      for (const args of [["migrate"], ["outbox", "retry", "--all"], ["serve"]]) {
        const run = await runCli(args, { KARTOGRAPH_DATA_DIR: dataDir, PORT: "0" });
        expectOneClearLine(run, holderLine(pid));
      }
      // The token command only reads the development issuer's key: it works beside serve.
      const token = await runCli(["token", "alice"], { KARTOGRAPH_DATA_DIR: dataDir });
      expect(token.code, token.stderr).toBe(0);

      cli.child.kill("SIGTERM");
      expect((await cli.exited).code).toBe(0);
      const after = await runCli(["outbox", "failed"], { KARTOGRAPH_DATA_DIR: dataDir });
      expect(after.stderr).toBe("");
      expect(after.stdout).toBe("no dead letters\n");
    } finally {
      if (cli.child.exitCode === null) cli.child.kill("SIGKILL");
    }
  }, 180_000); // six CLI processes, one after the other

  it("does not stay locked by a process that was killed outright", async () => {
    const cli = startCli(["serve"], { KARTOGRAPH_DATA_DIR: dataDir, PORT: "0" });
    await cli.waitForLine(/kartograph-iam ready/);
    cli.child.kill("SIGKILL");
    await cli.exited;
    const run = await runCli(["migrate"], { KARTOGRAPH_DATA_DIR: dataDir });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
  }, 120_000);
});

describe("kartograph-iam migrate says how many migrations it applied", () => {
  async function expectMigrateSays(variables: Record<string, string>, stdout: string): Promise<void> {
    const run = await runCli(["migrate"], variables);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(stdout);
  }

  it("on PGlite: every shipped one in a new data directory, then none", async () => {
    const variables = { KARTOGRAPH_DATA_DIR: join(workDir, "migrate-counts") };
    await expectMigrateSays(variables, `migrations: applied ${shippedMigrationCount()}\n`);
    await expectMigrateSays(variables, "migrations: already up to date\n");
  }, 120_000);

  it.skipIf(!HAS_POSTGRES_SERVER)("on a PostgreSQL server: every shipped one in an empty database, then none", async () => {
    const { onTestServer, testServerDatabaseUrl } = await import("../support/test-server-admin.js");
    const name = `kiam_test_migrate_${process.pid}`;
    await onTestServer(`CREATE DATABASE ${name}`);
    try {
      const variables = { KARTOGRAPH_DB_URL: testServerDatabaseUrl(name) };
      await expectMigrateSays(variables, `migrations: applied ${shippedMigrationCount()}\n`);
      await expectMigrateSays(variables, "migrations: already up to date\n");
    } finally {
      await onTestServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  }, 120_000);
});
