/**
 * `kartograph-iam admin ...` as an operator runs it, on the embedded default: create a tenant,
 * give a signed-in user its admin role without any token, and the service then lets that user
 * administer it; wrong arguments and a running serve are refused in one line.
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
let env: Record<string, string>;
const admin = (...args: string[]) => runCli(["admin", ...args], env);
/** Each command is a whole process that opens the database and the embedded SpiceDB: give a test of several room on a loaded machine. */
const SEVERAL_COMMANDS_MS = 300_000;

beforeAll(async () => {
  ensureBuilt();
  workDir = mkdtempSync(join(tmpdir(), "kiam-admin-cli-"));
  env = { KARTOGRAPH_DATA_DIR: join(workDir, "data"), KARTOGRAPH_IAM_SINGLE_TENANT_MODE: "false", PORT: "0" };
  expect((await runCli(["migrate"], env)).code).toBe(0);
  // Users appear at their first sign-in; these two have signed in once.
  const database = await openPglite(env["KARTOGRAPH_DATA_DIR"]!);
  try {
    await queryRows(database.db, sql`INSERT INTO users (id, username, name, email) VALUES ('u-alice', 'Alice', 'Alice Liddell', 'alice@example.com'), ('u-bob', 'bob', NULL, NULL)`);
  } finally {
    await database.close();
  }
}, 240_000);

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe("kartograph-iam admin", () => {
  let tenantId = "";

  it("creates a tenant, lists it, and makes a user (by username, any case) its admin", async () => {
    expect(await admin("tenants")).toMatchObject({ code: 0, stdout: "no tenants\n" });
    const created = await admin("tenant", "create", "Acme", "Corp", "--json");
    expect(created.code, created.stderr).toBe(0);
    const tenant = JSON.parse(created.stdout) as { id: string; name: string };
    expect(tenant.name).toBe("Acme Corp");
    tenantId = tenant.id;
    const added = await admin("member", "add", tenantId.toLowerCase(), "alice", "--role", "admin");
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/^TENANT_ID +USER_ID +USERNAME +ROLE +CHANGE\n\w{26} +u-alice +Alice +admin +added\n$/);
    expect((await admin("member", "add", tenantId, "u-bob", "--role", "member", "--json")).stdout).toContain('"change":"added"');
    const listed = await admin("tenants", "--json");
    expect(JSON.parse(listed.stdout)).toEqual({ id: tenantId, name: "Acme Corp", members: 2 });
    const users = await admin("users", "--search", "LIDDELL");
    expect(users.stdout).toBe("ID       USERNAME  NAME           EMAIL\nu-alice  Alice     Alice Liddell  alice@example.com\n");
  }, SEVERAL_COMMANDS_MS);

  it("keeps the domain's rules: the last admin cannot be demoted", async () => {
    const demoted = await admin("member", "add", tenantId, "u-alice", "--role", "member");
    expect(demoted.code).toBe(1);
    expect(demoted.stderr).toMatch(/^kartograph-iam: .*last admin/i);
  }, SEVERAL_COMMANDS_MS);

  it("refuses what it cannot do in one line, with exit status 1", async () => {
    for (const [args, message] of [
      [["member", "add", tenantId, "nobody", "--role", "admin"], /No user with the id or username "nobody"/],
      [["member", "add", "01ZZZZZZZZZZZZZZZZZZZZZZZZ".replace(/Z/g, "0"), "u-bob", "--role", "admin"], /Tenant \w+ not found/],
      [["member", "add", "acme", "u-bob", "--role", "admin"], /TENANT_ID is not a tenant id/],
      [["member", "add", tenantId, "u-bob", "--role", "owner"], /--role must be admin or member/],
      [["member", "add", tenantId, "u-bob"], /needs --role/],
      [["tenant", "create"], /needs a NAME/],
      [["frobnicate"], /admin needs "tenants"/],
    ] as const) {
      const run = await admin(...args);
      expect(run.code, args.join(" ")).toBe(1);
      expect(run.stderr, args.join(" ")).toMatch(message);
    }
  }, SEVERAL_COMMANDS_MS);

  it("is refused beside a running serve, and the service then grants what the command gave", async () => {
    const serve = startCli(["serve"], env);
    try {
      const ready = JSON.parse(await serve.waitForLine(/kartograph-iam ready/)) as { address: string };
      const refused = await admin("tenants");
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^kartograph-iam: KARTOGRAPH_DATA_DIR \S+ is in use by process \d+ \(kartograph-iam serve/);
      const token = (await runCli(["token", "Alice", "--subject", "u-alice"], env)).stdout.trim();
      const members = await fetch(`${ready.address}/iam/tenants/${tenantId}/members`, { headers: { authorization: `Bearer ${token}`, "x-tenant-id": tenantId } });
      expect(members.status).toBe(200);
      expect(await members.json()).toEqual(
        expect.arrayContaining([
          { user_id: "u-alice", role: "admin", status: "active" },
          { user_id: "u-bob", role: "member", status: "active" },
        ]),
      );
      const audit = await fetch(`${ready.address}/iam/audit-events?action=tenant.`, { headers: { authorization: `Bearer ${token}`, "x-tenant-id": tenantId } });
      expect(audit.status).toBe(200);
      const events = ((await audit.json()) as { events: { action: string; actor: { type: string } }[] }).events;
      expect(events.map((e) => [e.action, e.actor.type])).toEqual([
        ["tenant.member_added", "system"],
        ["tenant.member_added", "system"],
        ["tenant.created", "system"],
      ]);
    } finally {
      serve.child.kill("SIGTERM");
      await serve.exited;
    }
  }, SEVERAL_COMMANDS_MS);
});
