/**
 * Invitations through HTTP with real JWTs: a tenant admin adds someone by email before their first
 * sign-in, and the answer never tells whether the email belongs to an account.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/platform/database/database.js";
import { TEST_DATABASE_KINDS } from "../support/test-database.js";
import { startTestIamServer } from "../support/test-iam-server.js";
import { startTestStack, type TestStack } from "../support/test-stack.js";

type Json = Record<string, unknown>;

describe.each(TEST_DATABASE_KINDS)("invitations over HTTP on %s", (kind) => {
  let stack: TestStack;
  let acme: string;

  /** A token whose email is vouched for (email_verified: true) unless `verified` is false. */
  const token = (user: string, email: string, verified = true) =>
    stack.identity.sign({ sub: user, preferred_username: user, email, ...(verified ? { email_verified: true } : {}) });
  const call = async (bearer: string, method: string, url: string, tenant: string | null = acme, payload?: object) => {
    const response = await stack.app.server.inject({
      method: method as "GET",
      url,
      headers: { authorization: `Bearer ${bearer}`, ...(tenant ? { "x-tenant-id": tenant } : {}) },
      ...(payload ? { payload } : {}),
    });
    return { status: response.statusCode, body: (response.body ? JSON.parse(response.body) : null) as Json & Json[] };
  };
  let ada: string;
  const invite = (email: string, role = "member") => call(ada, "POST", `/iam/tenants/${acme}/members`, acme, { email, role });
  const members = async () => (await call(ada, "GET", `/iam/tenants/${acme}/members`)).body;

  beforeAll(async () => {
    stack = await startTestStack(kind, { env: { KARTOGRAPH_IAM_SINGLE_TENANT_MODE: "false" } });
    ada = await token("ada", "ada@example.com");
    acme = String((await call(ada, "POST", "/iam/tenants", null, { name: "acme" })).body["id"]);
    // otto has an account, in another tenant only.
    const otto = await token("otto", "Otto@Example.com");
    expect((await call(otto, "POST", "/iam/tenants", null, { name: "otto's" })).status).toBe(201);
  });
  afterAll(() => stack?.close());

  it("answers alike for an email with an account elsewhere and for one without, and lists both as pending", async () => {
    const unknown = await invite(" Dora@Example.com ");
    const elsewhere = await invite("OTTO@example.com");
    expect(unknown).toEqual({
      status: 201,
      body: { user_id: "invitation:dora@example.com", role: "member", status: "pending", email: "dora@example.com" },
    });
    expect(JSON.stringify(elsewhere).replaceAll("otto", "dora")).toBe(JSON.stringify(unknown));
    expect(await members()).toEqual([
      { user_id: "ada", role: "admin", status: "active" },
      { user_id: "invitation:dora@example.com", role: "member", status: "pending", email: "dora@example.com" },
      { user_id: "invitation:otto@example.com", role: "member", status: "pending", email: "otto@example.com" },
    ]);
    // A workspace admin adding the pending person by email gets the not-a-member answer.
    const root = String(((await call(ada, "GET", "/iam/workspaces")).body["workspaces"] as Json[])[0]?.["id"]);
    const byEmail = (email: string) => call(ada, "POST", `/iam/workspaces/${root}/members`, acme, { email, member_type: "user", role: "member" });
    const pending = await byEmail("dora@example.com");
    expect(pending.status).toBe(404);
    expect(JSON.stringify((await byEmail("nobody@example.com")).body).replace("nobody", "dora")).toBe(JSON.stringify(pending.body));
  });

  it("binds at the first request whose token vouches for the email, in any case, and never without", async () => {
    expect((await call(await token("dora", "dora@example.com", false), "GET", "/iam/workspaces")).status).toBe(403);
    expect((await call(await token("dora", "dora@example.com", false), "GET", "/iam/tenants", null)).body).toEqual([]);
    // The first request names the tenant it was invited to: the invitation binds on the way in.
    const dora = await token("dora", "DORA@example.COM");
    expect((await call(dora, "GET", "/iam/workspaces")).status).toBe(200);
    expect(await members()).toContainEqual({ user_id: "dora", role: "member", status: "active" });
    expect((await members()).map((m) => m["user_id"])).not.toContain("invitation:dora@example.com");
    const events = await queryRows(
      stack.database.handle.db,
      sql`SELECT payload->>'addedBy' AS added_by FROM outbox WHERE tenant_id = ${acme} AND event_type = 'TenantMemberAdded' AND payload->>'userId' = 'dora'`,
    );
    expect(events).toEqual([{ added_by: "ada" }]);
  });

  it("binds once when the invited user's first requests arrive together", async () => {
    const otto = await token("otto", "otto@example.com");
    const answers = await Promise.all(Array.from({ length: 6 }, () => call(otto, "GET", "/iam/workspaces")));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    const rows = await queryRows(stack.database.handle.db, sql`SELECT role FROM tenant_members WHERE tenant_id = ${acme} AND user_id = 'otto'`);
    expect(rows).toEqual([{ role: "member" }]);
    const added = await queryRows(
      stack.database.handle.db,
      sql`SELECT count(*)::int AS n FROM outbox WHERE tenant_id = ${acme} AND event_type = 'TenantMemberAdded' AND payload->>'userId' = 'otto'`,
    );
    expect(added).toEqual([{ n: 1 }]);
  });

  it("binds for a user this process already knows, at their next request, and an admin invitation administers", async () => {
    const carl = await token("carl", "carl@example.com");
    expect((await call(carl, "GET", "/iam/tenants", null)).body).toEqual([]);
    expect((await invite("carl@example.com", "admin")).status).toBe(201);
    expect((await call(carl, "GET", "/iam/tenants", null)).body).toEqual([{ id: acme, name: "acme" }]);
    expect((await call(carl, "GET", `/iam/tenants/${acme}/members`)).status).toBe(200);
    const root = String(((await call(carl, "GET", "/iam/workspaces")).body["workspaces"] as Json[])[0]?.["id"]);
    expect((await call(carl, "GET", `/iam/workspaces/${root}/members`)).body).toContainEqual({ member_id: "carl", member_type: "user", role: "admin" });
  });

  it("changes an invitation's role by inviting again, and revokes it through the member route", async () => {
    await invite("eve@example.com", "admin");
    await invite("Eve@example.com", "member");
    expect(await members()).toContainEqual({ user_id: "invitation:eve@example.com", role: "member", status: "pending", email: "eve@example.com" });
    expect((await call(ada, "DELETE", `/iam/tenants/${acme}/members/invitation:eve@example.com`)).status).toBe(204);
    expect((await members()).map((m) => m["user_id"])).not.toContain("invitation:eve@example.com");
    expect((await call(await token("eve", "eve@example.com"), "GET", "/iam/tenants", null)).body).toEqual([]);
  });

  it("lets the default tenant's admin invite in single-tenant mode: the invitee's first call joins with the role", async () => {
    const single = await startTestIamServer({
      database: stack.database.handle,
      spicedb: stack.spicedb,
      identity: stack.identity,
      env: { KARTOGRAPH_IAM_BOOTSTRAP_ADMIN_USERNAMES: '["Alice"]' },
    });
    try {
      const inject = async (bearer: string, method: string, url: string, payload?: object) => {
        const response = await single.server.inject({ method: method as "GET", url, headers: { authorization: `Bearer ${bearer}` }, ...(payload ? { payload } : {}) });
        return { status: response.statusCode, body: response.json<Json & Json[]>() };
      };
      const alice = await token("alice", "alice@example.com");
      expect((await inject(alice, "GET", "/iam/workspaces")).status).toBe(200);
      const defaultTenant = String((await inject(alice, "GET", "/iam/tenants")).body.find((t) => t["name"] === "default")?.["id"]);
      expect((await inject(alice, "POST", `/iam/tenants/${defaultTenant}/members`, { email: "carol@example.com", role: "admin" })).status).toBe(201);
      const carol = await token("carol", "carol@example.com");
      expect((await inject(carol, "GET", `/iam/tenants/${defaultTenant}/members`)).body).toContainEqual({ user_id: "carol", role: "admin", status: "active" });
    } finally {
      await single.close();
    }
  });
});
