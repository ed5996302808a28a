/**
 * Development mode's first user: with the development token issuer only, the first user to join
 * the empty default tenant becomes its admin, so the README's walk-through reaches an admin
 * session without configuration. With a real issuer, nobody becomes admin this way.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TenantService } from "../../../../src/iam/application/tenant-service.js";
import { DevelopmentIssuer } from "../../../../src/iam/infrastructure/identity/development-issuer.js";
import { createRepositories } from "../../../../src/iam/infrastructure/repositories.js";
import { queryRows } from "../../../../src/platform/database/database.js";
import { RecordingTenantServiceProbe } from "../../../support/recording-probes.js";
import { createTenancyFixture, type TenancyFixture } from "../../../support/tenancy-fixture.js";
import { HAS_POSTGRES_SERVER, TEST_DATABASE_KINDS, type TestDatabaseKind } from "../../../support/test-database.js";
import { startTestStack, type TestStack } from "../../../support/test-stack.js";

interface Me {
  id: string;
  tenant_id: string | null;
  tenant_role: "admin" | "member" | null;
}

/** A stack trusting the development issuer of a fresh data directory (no KARTOGRAPH_OIDC_ISSUER_URL). */
async function developmentStack(kind: TestDatabaseKind, env: Record<string, string> = {}) {
  const dataDir = await mkdtemp(join(tmpdir(), "kartograph-dev-first-admin-"));
  const stack = await startTestStack(kind, { env: { KARTOGRAPH_OIDC_ISSUER_URL: "", KARTOGRAPH_DATA_DIR: dataDir, ...env } });
  const issuer = await DevelopmentIssuer.open(dataDir);
  const me = async (username: string) => {
    const token = await issuer.sign({ subject: username, username, audience: stack.app.config.oidc.audience, ttlSeconds: 600 });
    const response = await stack.app.server.inject({ method: "GET", url: "/iam/users/me", headers: { authorization: `Bearer ${token}` } });
    expect(response.statusCode, response.body).toBe(200);
    return response.json<Me>();
  };
  const roles = () =>
    queryRows<{ user_id: string; role: string }>(stack.database.handle.db, sql`SELECT user_id, role FROM tenant_members ORDER BY user_id`);
  const rootAdmins = () =>
    queryRows<{ member_id: string }>(
      stack.database.handle.db,
      sql`SELECT m.member_id FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id WHERE w.is_root AND m.role = 'admin'`,
    );
  return {
    stack,
    me,
    roles,
    rootAdmins,
    async close() {
      await stack.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

describe.each(TEST_DATABASE_KINDS)("the development issuer's first user on %s", (kind) => {
  let dev: Awaited<ReturnType<typeof developmentStack>>;
  beforeAll(async () => {
    dev = await developmentStack(kind);
  });
  afterAll(() => dev?.close());

  it("makes the first user of the empty default tenant its admin (and the root workspace's), the next a member", async () => {
    expect(dev.stack.app.config.iam.firstJoinerBecomesAdmin).toBe(true);
    expect(await dev.me("alice")).toMatchObject({ id: "alice", tenant_role: "admin" });
    expect(await dev.me("bob")).toMatchObject({ id: "bob", tenant_role: "member" });
    // Calling again changes nothing.
    expect(await dev.me("alice")).toMatchObject({ tenant_role: "admin" });
    expect(await dev.roles()).toEqual([
      { user_id: "alice", role: "admin" },
      { user_id: "bob", role: "member" },
    ]);
    expect(await dev.rootAdmins()).toEqual([{ member_id: "alice" }]);
  });
});

describe.each(TEST_DATABASE_KINDS)("concurrent first sign-ins with the development issuer on %s", (kind) => {
  let dev: Awaited<ReturnType<typeof developmentStack>>;
  beforeAll(async () => {
    dev = await developmentStack(kind);
  });
  afterAll(() => dev?.close());

  it("yield exactly one admin", async () => {
    const users = Array.from({ length: 8 }, (_, index) => `racer-${index}`);
    const answers = await Promise.all(users.map((user) => dev.me(user)));
    expect(answers.filter((answer) => answer.tenant_role === "admin")).toHaveLength(1);
    expect(answers.filter((answer) => answer.tenant_role === "member")).toHaveLength(7);
    const roles = await dev.roles();
    expect(roles.filter((row) => row.role === "admin")).toHaveLength(1);
    expect(roles).toHaveLength(8);
    expect(await dev.rootAdmins()).toHaveLength(1);
  });
});

// `npm run cluster` and CI's smoke name their admin this way: a first user who signs in before the
// named admin must not become one (the smoke then saw a removed grantee keep access as admin).
describe("the development issuer with bootstrap admins named", () => {
  let dev: Awaited<ReturnType<typeof developmentStack>>;
  beforeAll(async () => {
    dev = await developmentStack("pglite", { KARTOGRAPH_IAM_BOOTSTRAP_ADMIN_USERNAMES: '["alice"]' });
  });
  afterAll(() => dev?.close());

  it("makes only the named users admins: a first user not named joins as a member", async () => {
    expect(dev.stack.app.config.iam.firstJoinerBecomesAdmin).toBe(false);
    expect(await dev.me("bob")).toMatchObject({ id: "bob", tenant_role: "member" });
    expect(await dev.me("alice")).toMatchObject({ id: "alice", tenant_role: "admin" });
    expect(await dev.roles()).toEqual([
      { user_id: "alice", role: "admin" },
      { user_id: "bob", role: "member" },
    ]);
  });
});

describe("with a real OIDC issuer", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack("pglite");
  });
  afterAll(() => stack?.close());

  it("makes nobody admin by being first: the first user of the empty default tenant is a member", async () => {
    expect(stack.app.config.iam.firstJoinerBecomesAdmin).toBe(false);
    const response = await stack.app.server.inject({
      method: "GET",
      url: "/iam/users/me",
      headers: { authorization: `Bearer ${await stack.identity.tokenFor("alice")}` },
    });
    expect(response.json<Me>()).toMatchObject({ id: "alice", tenant_role: "member" });
    expect(await queryRows(stack.database.handle.db, sql`SELECT role FROM tenant_members`)).toEqual([{ role: "member" }]);
  });
});

// Separate service instances, as separate processes would be: the row lock decides, not memory.
describe.runIf(HAS_POSTGRES_SERVER)("first joiners across instances on postgres", () => {
  let f: TenancyFixture;
  beforeAll(async () => {
    f = await createTenancyFixture("postgres", {}, { poolMax: 20 });
  });
  afterAll(() => f?.dispose());

  it("make exactly one admin when ten join the empty default tenant through five instances at once", async () => {
    const users = Array.from({ length: 10 }, (_, index) => `joiner-${index}`);
    await f.addUsers(...users);
    const instances = Array.from(
      { length: 5 },
      () =>
        new TenantService({
          unitOfWork: f.runtime.unitOfWork,
          repositories: createRepositories(f.database.handle.db),
          authorization: f.runtime.authorization,
          probe: new RecordingTenantServiceProbe(),
          settings: { singleTenantMode: true, defaultTenantName: "default", defaultWorkspaceName: null, firstJoinerBecomesAdmin: true },
        }),
    );
    const granted = await Promise.all(users.map((user, index) => instances[index % instances.length]!.join(user, false)));
    expect(granted.filter((role) => role === "admin")).toHaveLength(1);
    expect(granted.filter((role) => role === "member")).toHaveLength(9);
    expect(await f.rows(sql`SELECT count(*)::int AS n FROM tenant_members WHERE role = 'admin'`)).toEqual([{ n: 1 }]);
    // Joining again grants nothing, and the bootstrap list still makes admins.
    expect(await instances[0]!.join(users[0]!, true)).toBeNull();
    await f.addUsers("boss");
    expect(await instances[1]!.join("boss", true)).toBe("admin");
  });
});
