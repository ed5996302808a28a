/**
 * OIDC subjects as identity providers issue them (emails, Keycloak's federated `f:<idp>:<user>`,
 * anything with `.`, `:`, `@`, `*`, `|` or letters of any script) are user ids like any other:
 * tenants, grants, removals, reconcile and a reload of SpiceDB from the tables all work for them.
 * Before the id encoding, the first of them to create a tenant poisoned it (every request a 500, a
 * blocked outbox, a start-up that exited 1).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcile } from "../../src/iam/infrastructure/reconciler.js";
import { loadEmbeddedSpiceDb } from "../../src/outbox-runtime.js";
import { TEST_DATABASE_KINDS } from "../support/test-database.js";
import { startTestSpiceDb } from "../support/test-spicedb.js";
import { startTestStack, type TestStack } from "../support/test-stack.js";

const OWNER = "john.doe@example.com";
const FEDERATED = "f:corp-idp:3f0c9a";
const STAR = "*";
const PIPE = "|looks-encoded";
const SCRIPT = "名前.テスト";
const SPACES = "a b+c/d=e";
const PLAIN = "bob";
const EVERYONE = [OWNER, FEDERATED, STAR, PIPE, SCRIPT, SPACES, PLAIN];

describe.each(TEST_DATABASE_KINDS)("user ids SpiceDB cannot store as they are, on %s", (kind) => {
  let stack: TestStack;
  let tenant: string;
  let research: string;

  const as = async (user: string, extra: Record<string, string> = {}) => ({
    authorization: `Bearer ${await stack.identity.tokenFor(user)}`,
    ...(tenant ? { "x-tenant-id": tenant } : {}),
    ...extra,
  });
  const call = async (user: string, method: string, url: string, payload?: object) =>
    stack.app.server.inject({ method: method as "GET", url, headers: await as(user), ...(payload ? { payload } : {}) });

  beforeAll(async () => {
    stack = await startTestStack(kind, { env: { KARTOGRAPH_IAM_SINGLE_TENANT_MODE: "false" } });
    for (const user of EVERYONE) expect((await call(user, "GET", "/iam/tenants")).statusCode).toBe(200);
    const created = await call(OWNER, "POST", "/iam/tenants", { name: "jdoe-co" });
    expect(created.statusCode, created.body).toBe(201);
    tenant = created.json<{ id: string }>().id;
  });
  afterAll(() => stack?.close());

  it("lets such a user create a tenant and use it at once", async () => {
    expect((await call(OWNER, "GET", `/iam/tenants/${tenant}`)).statusCode).toBe(200);
    for (const user of EVERYONE.filter((u) => u !== OWNER)) {
      const added = await call(OWNER, "POST", `/iam/tenants/${tenant}/members`, { user_id: user, role: "member" });
      expect(added.statusCode, `${user}: ${added.body}`).toBe(201);
    }
    const members = (await call(OWNER, "GET", `/iam/tenants/${tenant}/members`)).json<{ user_id: string }[]>();
    expect(members.map((m) => m.user_id).sort()).toEqual([...EVERYONE].sort());
    const workspaces = (await call(OWNER, "GET", "/iam/workspaces")).json<{ workspaces: { id: string; parent_workspace_id: string | null }[] }>();
    const root = workspaces.workspaces.find((w) => w.parent_workspace_id === null)!.id;
    const made = await call(OWNER, "POST", "/iam/workspaces", { name: "Research", parent_workspace_id: root });
    expect(made.statusCode, made.body).toBe(201);
    research = made.json<{ id: string }>().id;
  });

  it("grants and revokes for them (404 for what they may not see), and a member named * is nobody's wildcard", async () => {
    for (const user of [FEDERATED, STAR, PIPE, SCRIPT, SPACES]) {
      expect((await call(user, "GET", `/iam/workspaces/${research}`)).statusCode, user).toBe(404);
      const granted = await call(OWNER, "POST", `/iam/workspaces/${research}/members`, { member_type: "user", member_id: user, role: "editor" });
      expect(granted.statusCode, `${user}: ${granted.body}`).toBe(201);
      expect((await call(user, "GET", `/iam/workspaces/${research}`)).statusCode, user).toBe(200);
    }
    // SpiceDB's `user:*` would mean every user: bob was granted nothing.
    expect((await call(PLAIN, "GET", `/iam/workspaces/${research}`)).statusCode).toBe(404);

    const removed = await call(OWNER, "DELETE", `/iam/workspaces/${research}/members/${encodeURIComponent(FEDERATED)}?member_type=user`);
    expect(removed.statusCode, removed.body).toBe(204);
    expect((await call(FEDERATED, "GET", `/iam/workspaces/${research}`)).statusCode).toBe(404);
    expect((await call(SCRIPT, "GET", `/iam/workspaces/${research}`)).statusCode).toBe(200);
  });

  it("leaves SpiceDB exactly as the tables say: reconcile has nothing to repair", async () => {
    const report = await reconcile(stack.database.handle.db, stack.spicedb.authorization, { dryRun: true });
    expect(report.missing).toEqual([]);
    expect(report.orphaned).toEqual([]);
    expect(report.expected).toBeGreaterThan(10);
  });

  it("loads into a fresh SpiceDB from the tables, as the embedded mode does at every start", async () => {
    const fresh = await startTestSpiceDb();
    try {
      const { loaded, refused } = await loadEmbeddedSpiceDb(stack.database.handle, fresh);
      expect(refused).toEqual([]);
      expect(loaded).toBeGreaterThan(10);
      const canView = (id: string) =>
        fresh.authorization.check({ resource: { type: "workspace", id: research }, permission: "view", subject: { type: "user", id } });
      expect(await canView(SCRIPT)).toBe(true);
      expect(await canView(STAR)).toBe(true);
      expect(await canView(FEDERATED)).toBe(false);
      expect(await canView(PLAIN)).toBe(false);
    } finally {
      await fresh.close();
    }
  });

  it("refuses at the door a user id too long for SpiceDB once encoded, and a token whose subject is", async () => {
    const tooLong = "😀".repeat(200); // 200 characters, 800 bytes of UTF-8
    const added = await call(OWNER, "POST", `/iam/tenants/${tenant}/members`, { user_id: tooLong, role: "member" });
    expect(added.statusCode).toBe(400);
    expect(added.json<{ detail: string }>().detail).toContain("767 bytes");
    const signedIn = await stack.app.server.inject({
      method: "GET",
      url: "/iam/tenants",
      headers: { authorization: `Bearer ${await stack.identity.tokenFor(tooLong)}` },
    });
    expect(signedIn.statusCode).toBe(401);
    expect(signedIn.json<{ detail: string }>().detail).toMatch(/^Invalid token claims: sub is longer than/);
  });
});
