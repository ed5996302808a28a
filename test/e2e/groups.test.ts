/**
 * The /iam/groups endpoints over HTTP: real JWTs, the real unit of work and relationship sync,
 * an embedded SpiceDB and both databases. Workspaces are seeded with SQL (plus the events their
 * service would record) until the workspace routes exist.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { IamEvent } from "../../src/iam/domain/events.js";
import { queryRows } from "../../src/platform/database/database.js";
import type { SpiceDbEngine } from "../../src/platform/spicedb/spicedb-engine.js";
import { newUlid } from "../../src/shared-kernel/ids.js";
import { seedTenant, seedTenantMember as seedTenantMemberRow, seedUser, seedWorkspace, seedWorkspaceMember } from "../support/sql-seed.js";
import { HAS_POSTGRES_SERVER, TEST_DATABASE_KINDS, type TestDatabase } from "../support/test-database.js";
import { type TestIamServer } from "../support/test-iam-server.js";
import { type TestIdentity } from "../support/test-identity.js";
import { startTestStack, type TestStack } from "../support/test-stack.js";

type Method = "GET" | "POST" | "PATCH" | "DELETE";

describe.each(TEST_DATABASE_KINDS)("/iam/groups on %s", (kind) => {
  let database: TestDatabase;
  let spicedb: SpiceDbEngine;
  let identity: TestIdentity;
  let app: TestIamServer;
  let stack: TestStack;
  let tenantId: string;
  let users: { admin: string; alice: string; bob: string; carol: string };
  const emailOf = (userId: string) => `${userId}@Example.COM`;

  beforeAll(async () => {
    stack = await startTestStack(kind, {
      env: { KARTOGRAPH_IAM_SINGLE_TENANT_MODE: "false" },
    });
    ({ database, spicedb, identity, app } = stack);
  });
  afterAll(() => stack?.close());

  /** Records events the way services do, so that relationships and the decision cache follow. */
  const recordEvents = (...events: IamEvent[]) =>
    app.service.outbox.unitOfWork.run(async (tx) => tx.record(...events));

  /** A tenant member as the tenant service would make one: the row and its event. */
  async function seedTenantMember(tenant: string, userId: string, role: "admin" | "member"): Promise<void> {
    await seedTenantMemberRow(database.handle.db, tenant, userId, { role, email: emailOf(userId) });
    await recordEvents({ type: "TenantMemberAdded", tenantId: tenant, occurredAt: new Date(), userId, role, addedBy: null });
  }

  beforeEach(async () => {
    tenantId = await seedTenant(database.handle.db);
    const suffix = tenantId.slice(-6).toLowerCase();
    users = { admin: `admin-${suffix}`, alice: `alice-${suffix}`, bob: `bob-${suffix}`, carol: `carol-${suffix}` };
    for (const [name, id] of Object.entries(users)) {
      await seedTenantMember(tenantId, id, name === "admin" ? "admin" : "member");
    }
  });

  async function call(method: Method, url: string, userId: string, body?: unknown, tenant = tenantId) {
    const token = await identity.tokenFor(userId, { email: emailOf(userId) });
    const response = await app.server.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}`, "x-tenant-id": tenant },
      ...(body === undefined ? {} : { payload: body as object }),
    });
    return { status: response.statusCode, body: response.body === "" ? null : (response.json() as unknown) };
  }

  async function createGroup(name: string, userId = users.alice): Promise<string> {
    const response = await call("POST", "/iam/groups", userId, { name });
    expect(response.status).toBe(201);
    if (response.status !== 201) throw new Error(JSON.stringify(response));
    return (response.body as unknown as { id: string }).id;
  }

  /** What the workspace service would do to grant a group a role: the row, and its event. */
  async function grantWorkspace(groupId: string, role: "admin" | "editor" | "member", workspaceId?: string) {
    const workspace = workspaceId ?? (await seedWorkspace(database.handle.db, tenantId));
    await seedWorkspaceMember(database.handle.db, workspace, { type: "group", id: groupId }, role);
    const event: IamEvent = {
      type: "WorkspaceMemberAdded",
      tenantId,
      occurredAt: new Date(),
      workspaceId: workspace,
      memberId: groupId,
      memberType: "group",
      role,
    };
    await recordEvents(event);
    return workspace;
  }

  const can = (type: string, id: string, permission: string, userId: string) =>
    app.authorization.check({ resource: { type, id }, permission, subject: { type: "user", id: userId } });

  describe("POST /iam/groups", () => {
    it("creates a group with the caller as admin, name trimmed", async () => {
      const response = await call("POST", "/iam/groups", users.alice, { name: "  Platform Team " });
      expect(response.status).toBe(201);
      expect(response.body).toEqual({
        id: expect.stringMatching(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/),
        name: "Platform Team",
        members: [{ user_id: users.alice, role: "admin" }],
      });
    });

    it("answers 409 for a name the tenant already uses", async () => {
      await createGroup("dup");
      expect(await call("POST", "/iam/groups", users.bob, { name: "dup " })).toEqual({
        status: 409,
        body: { detail: "A group with this name already exists" },
      });
    });

    it("answers 422 for a blank, missing, too long name and for unknown fields", async () => {
      const blank = await call("POST", "/iam/groups", users.alice, { name: "   " });
      expect(blank.status).toBe(422);
      expect(blank.body).toEqual({
        detail: [
          {
            type: "value_error",
            loc: ["body", "name"],
            msg: "Value error, Group name cannot be empty or whitespace-only",
            input: "   ",
            ctx: { error: {} },
          },
        ],
      });
      const missing = await call("POST", "/iam/groups", users.alice, {});
      expect(missing.status).toBe(422);
      expect(JSON.stringify(missing.body)).toContain('"type":"missing"');
      const long = await call("POST", "/iam/groups", users.alice, { name: "x".repeat(256) });
      expect(long.status).toBe(422);
      expect(JSON.stringify(long.body)).toContain("string_too_long");
      const extra = await call("POST", "/iam/groups", users.alice, { name: "ok", admin: true });
      expect(extra.status).toBe(422);
      expect(extra.body).toEqual({
        detail: [{ type: "extra_forbidden", loc: ["body", "admin"], msg: "Extra inputs are not permitted", input: true }],
      });
      expect((await call("GET", "/iam/groups", users.alice)).body).toEqual([]);
    });

    it("refuses callers without credentials", async () => {
      const response = await app.server.inject({ method: "POST", url: "/iam/groups", payload: { name: "x" } });
      expect(response.statusCode).toBe(401);
    });
  });

  describe("GET /iam/groups and /iam/groups/{id}", () => {
    it("lists groups to members, admins and tenant admins only", async () => {
      const id = await createGroup("seen");
      await createGroup("other", users.carol);
      expect(await call("POST", `/iam/groups/${id}/members`, users.alice, { user_id: users.bob, role: "member" })).toMatchObject({
        status: 201,
      });
      const names = async (userId: string) => ((await call("GET", "/iam/groups", userId)).body as { name: string }[]).map((g) => g.name);
      expect(await names(users.alice)).toEqual(["seen"]);
      expect(await names(users.bob)).toEqual(["seen"]);
      expect(await names(users.carol)).toEqual(["other"]);
      expect(await names(users.admin)).toEqual(["other", "seen"]);
      const listed = (await call("GET", "/iam/groups", users.admin)).body as { id: string; members: unknown[] }[];
      expect(listed.find((g) => g.id === id)?.members).toEqual([
        { user_id: users.alice, role: "admin" },
        { user_id: users.bob, role: "member" },
      ]);
    });

    it("shows a tenant admin's repeated listing every change on the very next request", async () => {
      const id = await createGroup("kept");
      const list = async () => {
        const response = await call("GET", "/iam/groups", users.admin);
        expect(response.status).toBe(200);
        return response.body as { name: string; members: { user_id: string; role: string }[] }[];
      };
      const first = await list();
      expect(await list()).toEqual(first);
      const changes: [string, () => Promise<unknown>, (groups: Awaited<ReturnType<typeof list>>) => unknown][] = [
        ["member added", () => call("POST", `/iam/groups/${id}/members`, users.alice, { user_id: users.bob, role: "member" }), (g) => g[0]?.members.length],
        ["role changed", () => call("PATCH", `/iam/groups/${id}/members/${users.bob}`, users.alice, { role: "admin" }), (g) => g[0]?.members.find((m) => m.user_id === users.bob)?.role],
        ["renamed", () => call("PATCH", `/iam/groups/${id}`, users.alice, { name: "kept-renamed" }), (g) => g[0]?.name],
        ["left the tenant", () => call("DELETE", `/iam/tenants/${tenantId}/members/${users.bob}`, users.admin), (g) => g[0]?.members.length],
        ["group created", () => createGroup("second", users.carol), (g) => g.length],
      ];
      const seen: unknown[] = [];
      for (const [what, change, observe] of changes) {
        const before = observe(await list());
        const response = (await change()) as { status?: number } | string;
        if (typeof response === "object") expect(response.status, what).toBeLessThan(300);
        const after = observe(await list());
        expect(after, what).not.toEqual(before);
        seen.push(after);
      }
      expect(seen).toEqual([2, "admin", "kept-renamed", 1, 2]);
    });

    it("gets a group by id in any case, normalised to upper case", async () => {
      const id = await createGroup("cased");
      const response = await call("GET", `/iam/groups/${id.toLowerCase()}`, users.alice);
      expect(response).toEqual({ status: 200, body: { id, name: "cased", members: [{ user_id: users.alice, role: "admin" }] } });
    });

    it("answers 400 for a malformed group id on every route", async () => {
      const bad = "not-a-ulid";
      const expected = { status: 400, body: { detail: "Invalid group ID format" } };
      expect(await call("GET", `/iam/groups/${bad}`, users.alice)).toEqual(expected);
      expect(await call("PATCH", `/iam/groups/${bad}`, users.alice, { name: "x" })).toEqual(expected);
      expect(await call("DELETE", `/iam/groups/${bad}`, users.alice)).toEqual(expected);
      expect(await call("GET", `/iam/groups/${bad}/members`, users.alice)).toEqual(expected);
      expect(await call("POST", `/iam/groups/${bad}/members`, users.alice, { user_id: users.bob, role: "member" })).toEqual(expected);
      expect(await call("PATCH", `/iam/groups/${bad}/members/${users.bob}`, users.alice, { role: "admin" })).toEqual(expected);
      expect(await call("DELETE", `/iam/groups/${bad}/members/${users.bob}`, users.alice)).toEqual(expected);
    });

    it("answers 404 on every route for a group the caller cannot view, and for a missing one", async () => {
      const id = await createGroup("private");
      for (const target of [id, newUlid()]) {
        const expected = { status: 404, body: { detail: "Group not found" } };
        expect(await call("GET", `/iam/groups/${target}`, users.carol)).toEqual(expected);
        expect(await call("PATCH", `/iam/groups/${target}`, users.carol, { name: "mine" })).toEqual(expected);
        expect(await call("DELETE", `/iam/groups/${target}`, users.carol)).toEqual(expected);
        expect(await call("GET", `/iam/groups/${target}/members`, users.carol)).toEqual(expected);
        expect(
          await call("POST", `/iam/groups/${target}/members`, users.carol, { email: "nobody@example.com", role: "admin" }),
        ).toEqual(expected);
        expect(await call("PATCH", `/iam/groups/${target}/members/${users.alice}`, users.carol, { role: "member" })).toEqual(expected);
        expect(await call("DELETE", `/iam/groups/${target}/members/${users.alice}`, users.carol)).toEqual(expected);
      }
      expect((await call("GET", `/iam/groups/${id}`, users.alice)).status).toBe(200);
    });

    it("treats a group of another tenant as missing", async () => {
      const id = await createGroup("home");
      const elsewhere = await seedTenant(database.handle.db);
      await recordEvents({ type: "TenantMemberAdded", tenantId: elsewhere, occurredAt: new Date(), userId: users.alice, role: "admin", addedBy: null });
      await queryRows(database.handle.db, sql`INSERT INTO tenant_members (tenant_id, user_id, role) VALUES (${elsewhere}, ${users.alice}, 'admin')`);
      expect((await call("GET", `/iam/groups/${id}`, users.alice, undefined, elsewhere)).status).toBe(404);
      expect((await call("DELETE", `/iam/groups/${id}`, users.alice, undefined, elsewhere)).status).toBe(404);
      expect((await call("GET", "/iam/groups", users.alice, undefined, elsewhere)).body).toEqual([]);
      expect((await call("GET", `/iam/groups/${id}`, users.alice)).status).toBe(200);
    });
  });

  describe("PATCH and DELETE /iam/groups/{id}", () => {
    it("renames (same name again is 200) and answers 409 for a taken name", async () => {
      const id = await createGroup("old");
      await createGroup("taken");
      expect(await call("PATCH", `/iam/groups/${id}`, users.alice, { name: " new " })).toMatchObject({
        status: 200,
        body: { id, name: "new", members: [{ user_id: users.alice, role: "admin" }] },
      });
      expect((await call("PATCH", `/iam/groups/${id}`, users.alice, { name: "new" })).status).toBe(200);
      expect(await call("PATCH", `/iam/groups/${id}`, users.alice, { name: "taken" })).toEqual({
        status: 409,
        body: { detail: "Group 'taken' already exists in tenant" },
      });
      expect((await call("PATCH", `/iam/groups/${id}`, users.alice, { name: "x", extra: 1 })).status).toBe(422);
    });

    it("answers 403 to those who can view but not manage: members and tenant admins", async () => {
      const id = await createGroup("guarded");
      await call("POST", `/iam/groups/${id}/members`, users.alice, { user_id: users.bob, role: "member" });
      for (const userId of [users.bob, users.admin]) {
        const forbidden = { status: 403, body: { detail: `User ${userId} lacks manage permission on group ${id}` } };
        expect(await call("PATCH", `/iam/groups/${id}`, userId, { name: "mine" })).toEqual(forbidden);
        expect(await call("DELETE", `/iam/groups/${id}`, userId)).toEqual(forbidden);
        expect(await call("POST", `/iam/groups/${id}/members`, userId, { user_id: users.carol, role: "admin" })).toEqual(forbidden);
        expect(await call("PATCH", `/iam/groups/${id}/members/${users.alice}`, userId, { role: "member" })).toEqual(forbidden);
        expect(await call("DELETE", `/iam/groups/${id}/members/${users.alice}`, userId)).toEqual(forbidden);
        expect((await call("GET", `/iam/groups/${id}/members`, userId)).status).toBe(200);
      }
    });

    it("deletes a group with its workspace grants: 204, then gone everywhere at once", async () => {
      const id = await createGroup("doomed");
      await call("POST", `/iam/groups/${id}/members`, users.alice, { user_id: users.bob, role: "member" });
      const workspace = await grantWorkspace(id, "editor");
      expect(await can("workspace", workspace, "edit", users.bob)).toBe(true);

      expect(await call("DELETE", `/iam/groups/${id}`, users.alice)).toEqual({ status: 204, body: null });

      expect((await call("GET", `/iam/groups/${id}`, users.alice)).status).toBe(404);
      expect(await can("workspace", workspace, "edit", users.bob)).toBe(false);
      const rows = await queryRows<{ n: number }>(
        database.handle.db,
        sql`SELECT count(*) AS n FROM workspace_members WHERE member_id = ${id}`,
      );
      expect(Number(rows[0]?.n)).toBe(0);
      expect(await spicedb.authorization.readRelationships({ resourceType: "workspace", subjectType: "group", subjectId: id })).toEqual([]);
    });

    it("answers 409 when the group is the last admin of a workspace, and deletes nothing", async () => {
      const id = await createGroup("keystone");
      const workspace = await grantWorkspace(id, "admin");
      const response = await call("DELETE", `/iam/groups/${id}`, users.alice);
      expect(response.status).toBe(409);
      expect((response.body as { detail: string }).detail).toContain(`last admin of workspace`);
      expect((response.body as { detail: string }).detail).toContain(workspace);
      expect((await call("GET", `/iam/groups/${id}`, users.alice)).status).toBe(200);
      expect(await can("workspace", workspace, "manage", users.alice)).toBe(true);
    });
  });

  describe("members", () => {
    it("adds by user id (same role again is an idempotent 201), changes roles and removes", async () => {
      const id = await createGroup("crew");
      const add = () => call("POST", `/iam/groups/${id}/members`, users.alice, { user_id: users.bob, role: "member" });
      expect(await add()).toEqual({ status: 201, body: { user_id: users.bob, role: "member" } });
      expect(await add()).toEqual({ status: 201, body: { user_id: users.bob, role: "member" } });
      expect(await call("PATCH", `/iam/groups/${id}/members/${users.bob}`, users.alice, { role: "admin" })).toEqual({
        status: 200,
        body: { user_id: users.bob, role: "admin" },
      });
      expect((await call("GET", `/iam/groups/${id}/members`, users.bob)).body).toEqual([
        { user_id: users.alice, role: "admin" },
        { user_id: users.bob, role: "admin" },
      ]);
      expect(await call("DELETE", `/iam/groups/${id}/members/${users.alice}`, users.bob)).toEqual({ status: 204, body: null });
      expect((await call("GET", `/iam/groups/${id}`, users.alice)).status).toBe(404);
    });

    it("adds by email, case-insensitively", async () => {
      const id = await createGroup("mail");
      const response = await call("POST", `/iam/groups/${id}/members`, users.alice, {
        email: `  ${emailOf(users.carol).toUpperCase()} `,
        role: "member",
      });
      expect(response).toEqual({ status: 201, body: { user_id: users.carol, role: "member" } });
      const unknown = await call("POST", `/iam/groups/${id}/members`, users.alice, { email: "ghost@example.com", role: "member" });
      expect(unknown.status).toBe(404);
    });

    it("answers 422 unless exactly one of user_id and email is given, and for bad roles and unknown fields", async () => {
      const id = await createGroup("strict");
      const both = await call("POST", `/iam/groups/${id}/members`, users.alice, {
        user_id: users.bob,
        email: emailOf(users.bob),
        role: "member",
      });
      expect(both.status).toBe(422);
      expect(JSON.stringify(both.body)).toContain("Value error, Provide either user_id or email, not both");
      const neither = await call("POST", `/iam/groups/${id}/members`, users.alice, { email: "  ", role: "member" });
      expect(neither.status).toBe(422);
      expect(JSON.stringify(neither.body)).toContain("Value error, Either user_id or email is required");
      const badRole = await call("POST", `/iam/groups/${id}/members`, users.alice, { user_id: users.bob, role: "owner" });
      expect(badRole.status).toBe(422);
      expect(JSON.stringify(badRole.body)).toContain("Input should be 'admin' or 'member'");
      expect((await call("POST", `/iam/groups/${id}/members`, users.alice, { user_id: users.bob, role: "member", x: 1 })).status).toBe(422);
      expect((await call("PATCH", `/iam/groups/${id}/members/${users.alice}`, users.alice, { role: "member", x: 1 })).status).toBe(422);
    });

    it("answers 400 for users outside the tenant and for blank user ids", async () => {
      const id = await createGroup("closed");
      await seedUser(database.handle.db, `stranger-${tenantId}`);
      expect(await call("POST", `/iam/groups/${id}/members`, users.alice, { user_id: `stranger-${tenantId}`, role: "member" })).toEqual({
        status: 400,
        body: { detail: `User stranger-${tenantId} is not a member of this tenant` },
      });
      expect(await call("POST", `/iam/groups/${id}/members`, users.alice, { user_id: "   ", role: "member" })).toEqual({
        status: 400,
        body: { detail: "Invalid user ID format" },
      });
      expect((await call("PATCH", `/iam/groups/${id}/members/${users.carol}`, users.alice, { role: "admin" })).status).toBe(400);
      expect((await call("DELETE", `/iam/groups/${id}/members/%20`, users.alice)).status).toBe(400);
    });

    it("answers 409 for demoting or removing the last admin, also through a re-add", async () => {
      const id = await createGroup("solo");
      await call("POST", `/iam/groups/${id}/members`, users.alice, { user_id: users.bob, role: "member" });
      expect(await call("PATCH", `/iam/groups/${id}/members/${users.alice}`, users.alice, { role: "member" })).toEqual({
        status: 409,
        body: { detail: "Cannot demote the last admin. Promote another member first." },
      });
      expect(await call("POST", `/iam/groups/${id}/members`, users.alice, { user_id: users.alice, role: "member" })).toMatchObject({
        status: 409,
      });
      expect(await call("DELETE", `/iam/groups/${id}/members/${users.alice}`, users.alice)).toEqual({
        status: 409,
        body: { detail: "Cannot remove the last admin. Promote another member first." },
      });
    });
  });

  describe("workspace access through a group", () => {
    it("is granted on the very next request after joining and denied on the very next after leaving", async () => {
      const id = await createGroup("editors");
      const workspace = await grantWorkspace(id, "editor");
      expect(await can("workspace", workspace, "edit", users.bob)).toBe(false);
      await call("POST", `/iam/groups/${id}/members`, users.alice, { email: emailOf(users.bob), role: "member" });
      expect(await can("workspace", workspace, "edit", users.bob)).toBe(true);
      await call("DELETE", `/iam/groups/${id}/members/${users.bob}`, users.alice);
      expect(await can("workspace", workspace, "edit", users.bob)).toBe(false);
    });
  });

  it("lists 1,000 groups to a tenant admin", async () => {
    const ids = Array.from({ length: 1000 }, () => newUlid());
    await queryRows(
      database.handle.db,
      sql`INSERT INTO groups (id, tenant_id, name) VALUES ${sql.join(
        ids.map((id, i) => sql`(${id}, ${tenantId}, ${`bulk-${String(i).padStart(4, "0")}`})`),
        sql`, `,
      )}`,
    );
    await queryRows(
      database.handle.db,
      sql`INSERT INTO group_members (group_id, user_id, role) VALUES ${sql.join(
        ids.map((id) => sql`(${id}, ${users.alice}, 'admin')`),
        sql`, `,
      )}`,
    );
    const events: IamEvent[] = ids.flatMap((groupId): IamEvent[] => [
      { type: "GroupCreated", tenantId, occurredAt: new Date(), groupId },
      { type: "GroupMemberAdded", tenantId, occurredAt: new Date(), groupId, userId: users.alice, role: "admin" },
    ]);
    await recordEvents(...events);
    const listed = await call("GET", "/iam/groups", users.admin);
    expect(listed.status).toBe(200);
    expect(listed.body).toHaveLength(1000);
    expect((await call("GET", "/iam/groups", users.bob)).body).toEqual([]);
  });

  it.runIf(kind === "postgres" && HAS_POSTGRES_SERVER)(
    "lets one of two concurrent renames to the same name win and answers the other 409",
    async () => {
      const first = await createGroup("first");
      const second = await createGroup("second");
      const statuses = await Promise.all([
        call("PATCH", `/iam/groups/${first}`, users.alice, { name: "contested" }),
        call("PATCH", `/iam/groups/${second}`, users.alice, { name: "contested" }),
      ]).then((responses) => responses.map((r) => r.status).sort());
      expect(statuses).toEqual([200, 409]);
    },
  );
});
