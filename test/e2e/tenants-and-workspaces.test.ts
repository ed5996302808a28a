/**
 * Endpoints 1-16 through HTTP with real JWTs, the real unit of work and an in-process SpiceDB:
 * the reference's contract with DESIGN §3's decisions, the happy paths and the unhappy ones.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/platform/database/database.js";
import type { SpiceDbEngine } from "../../src/platform/spicedb/spicedb-engine.js";
import { TEST_DATABASE_KINDS, type TestDatabase } from "../support/test-database.js";
import { startTestIamServer, type TestIamServer } from "../support/test-iam-server.js";
import { type TestIdentity } from "../support/test-identity.js";
import { startTestStack, type TestStack } from "../support/test-stack.js";

type Json = Record<string, unknown>;

describe.each(TEST_DATABASE_KINDS)("tenants and workspaces over HTTP on %s", (kind) => {
  let database: TestDatabase;
  let spicedb: SpiceDbEngine;
  let identity: TestIdentity;
  let app: TestIamServer;
  let stack: TestStack;
  let acme: string; // ada's tenant
  let rootId: string;
  const tokens = new Map<string, string>();

  const token = async (user: string) => {
    let value = tokens.get(user);
    if (!value) {
      value = await identity.tokenFor(user, { email: `${user[0]?.toUpperCase()}${user.slice(1)}@Example.com` });
      tokens.set(user, value);
    }
    return value;
  };
  const call = async (user: string, method: string, url: string, body?: unknown, tenant: string | null = acme) => {
    const headers: Record<string, string> = { authorization: `Bearer ${await token(user)}` };
    if (tenant !== null) headers["x-tenant-id"] = tenant;
    const response = await app.server.inject({
      method: method as "GET",
      url,
      headers,
      ...(body === undefined ? {} : { payload: body as Json }),
    });
    const text = response.body;
    return { status: response.statusCode, body: (text ? JSON.parse(text) : null) as Json & Json[] };
  };
  const signIn = (user: string) => call(user, "GET", "/iam/tenants", undefined, null);

  beforeAll(async () => {
    stack = await startTestStack(kind, {
      env: { KARTOGRAPH_IAM_SINGLE_TENANT_MODE: "false" },
    });
    ({ database, spicedb, identity, app } = stack);
    for (const user of ["ada", "bob", "cat", "otto"]) expect((await signIn(user)).status).toBe(200);
    const created = await call("ada", "POST", "/iam/tenants", { name: "acme" }, null);
    expect(created.status).toBe(201);
    acme = String(created.body["id"]);
    const list = await call("ada", "GET", "/iam/workspaces");
    rootId = String((list.body["workspaces"] as Json[])[0]?.["id"]);
    expect((await call("ada", "POST", `/iam/tenants/${acme}/members`, { user_id: "bob", role: "member" })).status).toBe(201);
    expect((await call("ada", "POST", `/iam/tenants/${acme}/members`, { user_id: "cat", role: "member" })).status).toBe(201);
  });
  afterAll(() => stack?.close());

  describe("tenants", () => {
    it("creates and lists tenants, and shows one to its members only", async () => {
      expect(await call("ada", "GET", "/iam/tenants", undefined, null)).toEqual({ status: 200, body: [{ id: acme, name: "acme" }] });
      expect(await call("ada", "GET", `/iam/tenants/${acme.toLowerCase()}`)).toEqual({ status: 200, body: { id: acme, name: "acme" } });
      const other = await call("otto", "POST", "/iam/tenants", { name: "otto's" }, null);
      expect(other.status).toBe(201);
      // Ada cannot view otto's tenant: the same 404 as a tenant that does not exist.
      expect((await call("ada", "GET", `/iam/tenants/${String(other.body["id"])}`)).body).toEqual({
        detail: `Tenant ${String(other.body["id"])} not found`,
      });
      expect((await call("ada", "GET", "/iam/tenants/not-a-ulid")).body).toEqual({
        detail: "Invalid tenant ID format: Invalid TenantId: not-a-ulid",
      });
      // Names are unique per creator: otto may call his tenant "acme" too, and learns nothing of ada's.
      expect((await call("otto", "POST", "/iam/tenants", { name: "acme" }, null)).status).toBe(201);
      expect(await call("ada", "POST", "/iam/tenants", { name: "acme" }, null)).toEqual({
        status: 409,
        body: { detail: "You already created a tenant named 'acme'; choose another name" },
      });
    });

    it("validates tenant bodies with 422 and never 500", async () => {
      for (const body of [{}, { name: "" }, { name: "t".repeat(256) }, { name: 5 }, { name: "x", extra: true }]) {
        const response = await call("ada", "POST", "/iam/tenants", body, null);
        expect(response.status, JSON.stringify(body)).toBe(422);
        expect(Array.isArray(response.body["detail"])).toBe(true);
      }
      const both = await call("ada", "POST", `/iam/tenants/${acme}/members`, { user_id: "bob", email: "bob@example.com", role: "member" });
      expect(both.status).toBe(422);
      expect((both.body["detail"] as Json[])[0]?.["msg"]).toBe("Value error, Provide either user_id or email, not both");
      const neither = await call("ada", "POST", `/iam/tenants/${acme}/members`, { email: "  ", role: "member" });
      expect((neither.body["detail"] as Json[])[0]?.["msg"]).toBe("Value error, Either user_id or email is required");
      expect((await call("ada", "POST", `/iam/tenants/${acme}/members`, { user_id: "bob", role: "owner" })).status).toBe(422);
      expect(await call("ada", "POST", `/iam/tenants/${acme}/members`, { user_id: "   ", role: "member" })).toEqual({
        status: 400,
        body: { detail: "Invalid user ID format" },
      });
    });

    it("manages members: 403 for members, 409 for the last admin, email matched in any case", async () => {
      expect((await call("ada", "GET", `/iam/tenants/${acme}/members`)).body).toEqual(
        expect.arrayContaining([
          { user_id: "ada", role: "admin", status: "active" },
          { user_id: "bob", role: "member", status: "active" },
        ]),
      );
      expect(await call("bob", "GET", `/iam/tenants/${acme}/members`)).toEqual({ status: 403, body: { detail: "Insufficient permissions" } });
      expect(await call("ada", "POST", `/iam/tenants/${acme}/members`, { user_id: "ada", role: "member" })).toEqual({
        status: 409,
        body: { detail: "Cannot demote the last admin of the tenant" },
      });
      expect((await call("ada", "DELETE", `/iam/tenants/${acme}/members/ada`)).status).toBe(409);
      // The same role again is an idempotent success.
      expect(await call("ada", "POST", `/iam/tenants/${acme}/members`, { user_id: "bob", role: "member" })).toEqual({
        status: 201,
        body: { user_id: "bob", role: "member", status: "active" },
      });
      // By email, a member of the tenant is found in any case.
      expect(await call("ada", "POST", `/iam/tenants/${acme}/members`, { email: " BOB@example.com ", role: "member" })).toEqual({
        status: 201,
        body: { user_id: "bob", role: "member", status: "active" },
      });
    });

    it("refuses tenant management in single-tenant mode", async () => {
      const single = await startTestIamServer({ database: database.handle, spicedb, identity });
      try {
        const response = await single.server.inject({
          method: "POST",
          url: "/iam/tenants",
          headers: { authorization: `Bearer ${await token("ada")}` },
          payload: { name: "blocked" },
        });
        expect(response.statusCode).toBe(403);
        expect(response.json()).toEqual({ detail: "Tenant management is disabled in single-tenant mode" });
      } finally {
        await single.close();
      }
    });
  });

  describe("workspaces", () => {
    it("lets a creator read, list, rename and delete their workspace in the very next requests", async () => {
      const created = await call("bob", "POST", "/iam/workspaces", { name: "bob's", parent_workspace_id: rootId.toLowerCase() });
      expect(created.status).toBe(201);
      const body = created.body;
      expect(body).toMatchObject({ tenant_id: acme, name: "bob's", parent_workspace_id: rootId, is_root: false });
      expect(body["created_at"]).toBe(body["updated_at"]);
      expect(String(body["created_at"])).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$/);
      const id = String(body["id"]);
      expect((await call("bob", "GET", `/iam/workspaces/${id.toLowerCase()}`)).body).toEqual(body);
      const list = await call("bob", "GET", "/iam/workspaces");
      expect(list.body["count"]).toBe((list.body["workspaces"] as Json[]).length);
      expect((list.body["workspaces"] as Json[]).map((w) => w["id"])).toEqual([id]);
      const renamed = await call("bob", "PATCH", `/iam/workspaces/${id}`, { name: "bob's renamed" });
      expect(renamed.status).toBe(200);
      expect(renamed.body["name"]).toBe("bob's renamed");
      expect((await call("bob", "GET", `/iam/workspaces/${id}/members`)).body).toEqual([{ member_id: "bob", member_type: "user", role: "admin" }]);
      const deleted = await call("bob", "DELETE", `/iam/workspaces/${id}`);
      expect(deleted).toEqual({ status: 204, body: null });
      expect((await call("bob", "GET", `/iam/workspaces/${id}`)).status).toBe(404);
    });

    it("lets a plain member create under the root only, and hides what they cannot view", async () => {
      const adaOnly = await call("ada", "POST", "/iam/workspaces", { name: "ada only", parent_workspace_id: rootId });
      const id = String(adaOnly.body["id"]);
      expect(await call("bob", "POST", "/iam/workspaces", { name: "under ada", parent_workspace_id: id })).toEqual({
        status: 404,
        body: { detail: `Parent workspace ${id} not found` },
      });
      for (const [method, url, body] of [
        ["GET", `/iam/workspaces/${id}`, undefined],
        ["PATCH", `/iam/workspaces/${id}`, { name: "mine now" }],
        ["DELETE", `/iam/workspaces/${id}`, undefined],
        ["GET", `/iam/workspaces/${id}/members`, undefined],
        ["POST", `/iam/workspaces/${id}/members`, { member_id: "bob", member_type: "user", role: "admin" }],
        ["PATCH", `/iam/workspaces/${id}/members/ada?member_type=user`, { role: "member" }],
        ["DELETE", `/iam/workspaces/${id}/members/ada?member_type=user`, undefined],
      ] as const) {
        expect(await call("bob", method, url, body), `${method} ${url}`).toEqual({ status: 404, body: { detail: `Workspace ${id} not found` } });
      }
      // As a plain member bob can view it, but not act.
      expect((await call("ada", "POST", `/iam/workspaces/${id}/members`, { member_id: "bob", member_type: "user", role: "member" })).status).toBe(201);
      expect(await call("bob", "PATCH", `/iam/workspaces/${id}`, { name: "mine now" })).toEqual({
        status: 403,
        body: { detail: "You do not have permission to perform this action" },
      });
      expect((await call("bob", "POST", "/iam/workspaces", { name: "under ada", parent_workspace_id: id })).status).toBe(403);
      // Removed: denied in the very next request.
      expect((await call("ada", "DELETE", `/iam/workspaces/${id}/members/bob?member_type=user`)).status).toBe(204);
      expect((await call("bob", "GET", `/iam/workspaces/${id}`)).status).toBe(404);
    });

    it("shows tenant admins every workspace but lets them manage only where they are admin", async () => {
      const cats = await call("cat", "POST", "/iam/workspaces", { name: "cat's", parent_workspace_id: rootId });
      const id = String(cats.body["id"]);
      expect((await call("ada", "GET", `/iam/workspaces/${id}`)).status).toBe(200);
      expect(((await call("ada", "GET", "/iam/workspaces")).body["workspaces"] as Json[]).map((w) => w["id"])).toContain(id);
      expect((await call("ada", "DELETE", `/iam/workspaces/${id}`)).status).toBe(403);
    });

    it("treats another tenant's workspaces as missing", async () => {
      const ottos = await call("otto", "GET", "/iam/tenants", undefined, null);
      const ottoTenant = String((ottos.body as Json[])[0]?.["id"]);
      const ottoRoot = String(((await call("otto", "GET", "/iam/workspaces", undefined, ottoTenant)).body["workspaces"] as Json[])[0]?.["id"]);
      expect((await call("ada", "GET", `/iam/workspaces/${ottoRoot}`)).status).toBe(404);
      expect((await call("ada", "POST", "/iam/workspaces", { name: "x", parent_workspace_id: ottoRoot })).status).toBe(404);
      expect((await call("otto", "GET", `/iam/workspaces/${rootId}`, undefined, ottoTenant)).status).toBe(404);
    });

    it("answers 409 for the root, for parents and for duplicate names (case-sensitive)", async () => {
      expect(await call("ada", "DELETE", `/iam/workspaces/${rootId}`)).toEqual({ status: 409, body: { detail: "Root workspace cannot be deleted" } });
      const parent = await call("ada", "POST", "/iam/workspaces", { name: "Parent", parent_workspace_id: rootId });
      await call("ada", "POST", "/iam/workspaces", { name: "child", parent_workspace_id: String(parent.body["id"]) });
      expect(await call("ada", "DELETE", `/iam/workspaces/${String(parent.body["id"])}`)).toEqual({
        status: 409,
        body: { detail: "Cannot delete workspace with children" },
      });
      expect(await call("ada", "POST", "/iam/workspaces", { name: "Parent", parent_workspace_id: rootId })).toEqual({
        status: 409,
        body: { detail: "Workspace 'Parent' already exists in tenant" },
      });
      expect((await call("ada", "POST", "/iam/workspaces", { name: "parent", parent_workspace_id: rootId })).status).toBe(201);
    });

    it("never leaves a workspace without an admin: 409 on every route", async () => {
      const ws = await call("ada", "POST", "/iam/workspaces", { name: "guarded", parent_workspace_id: rootId });
      const id = String(ws.body["id"]);
      const refused = { status: 409, body: { detail: "Cannot remove the last admin from the workspace" } };
      expect(await call("ada", "DELETE", `/iam/workspaces/${id}/members/ada?member_type=user`)).toEqual(refused);
      expect(await call("ada", "PATCH", `/iam/workspaces/${id}/members/ada?member_type=user`, { role: "editor" })).toEqual(refused);
      expect(await call("ada", "POST", `/iam/workspaces/${id}/members`, { member_id: "ada", member_type: "user", role: "member" })).toEqual(refused);
    });

    it("adds members by email in any case, and treats the same role again as a success", async () => {
      const ws = await call("ada", "POST", "/iam/workspaces", { name: "team", parent_workspace_id: rootId });
      const id = String(ws.body["id"]);
      const added = await call("ada", "POST", `/iam/workspaces/${id}/members`, { email: "CAT@EXAMPLE.COM", member_type: "user", role: "editor" });
      expect(added).toEqual({ status: 201, body: { member_id: "cat", member_type: "user", role: "editor" } });
      expect((await call("ada", "POST", `/iam/workspaces/${id}/members`, { member_id: "cat", member_type: "user", role: "editor" })).status).toBe(201);
      expect(await call("ada", "PATCH", `/iam/workspaces/${id}/members/cat?member_type=user`, { role: "member" })).toEqual({
        status: 200,
        body: { member_id: "cat", member_type: "user", role: "member" },
      });
      expect((await call("ada", "PATCH", `/iam/workspaces/${id}/members/bob?member_type=user`, { role: "member" })).body).toEqual({
        detail: "user bob is not a member of this workspace",
      });
      expect((await call("ada", "POST", `/iam/workspaces/${id}/members`, { member_id: "otto", member_type: "user", role: "member" })).status).toBe(400);
    });

    it("answers bad input with 400 or 422 and a clear message, never 500", async () => {
      const cases: [string, string, unknown, number][] = [
        ["GET", "/iam/workspaces/not-a-ulid", undefined, 400],
        ["GET", `/iam/workspaces/${"I".repeat(26)}`, undefined, 400],
        ["POST", "/iam/workspaces", { name: "x", parent_workspace_id: "Z".repeat(26) }, 400],
        ["POST", "/iam/workspaces", { name: "x", parent_workspace_id: "short" }, 422],
        ["POST", "/iam/workspaces", { name: "", parent_workspace_id: rootId }, 422],
        ["POST", "/iam/workspaces", { name: "w".repeat(513), parent_workspace_id: rootId }, 422],
        ["POST", "/iam/workspaces", { name: 42, parent_workspace_id: rootId }, 422],
        ["POST", "/iam/workspaces", { name: "x", parent_workspace_id: rootId, extra: 1 }, 422],
        ["POST", "/iam/workspaces", [], 422],
        ["PATCH", `/iam/workspaces/${rootId}`, { name: "" }, 422],
        ["POST", `/iam/workspaces/${rootId}/members`, { member_id: "bob", member_type: "robot", role: "member" }, 422],
        ["POST", `/iam/workspaces/${rootId}/members`, { member_id: "bob", member_type: "user", role: "owner" }, 422],
        ["POST", `/iam/workspaces/${rootId}/members`, { member_id: "bob", email: "bob@example.com", member_type: "user", role: "member" }, 422],
        ["POST", `/iam/workspaces/${rootId}/members`, { email: "bob@example.com", member_type: "group", role: "member" }, 422],
        ["POST", `/iam/workspaces/${rootId}/members`, { member_type: "user", role: "member" }, 422],
        ["PATCH", `/iam/workspaces/${rootId}/members/bob`, { role: "member" }, 422],
        ["PATCH", `/iam/workspaces/${rootId}/members/bob?member_type=robot`, { role: "member" }, 422],
        ["DELETE", `/iam/workspaces/${rootId}/members/%20?member_type=user`, undefined, 400],
        // Text PostgreSQL cannot store (NUL, half a surrogate pair): refused before the database.
        ["POST", "/iam/workspaces", { name: "a\u0000b", parent_workspace_id: rootId }, 422],
        ["PATCH", `/iam/workspaces/${rootId}`, { name: "\u0000" }, 422],
        ["POST", `/iam/workspaces/${rootId}/members`, { member_id: "a\u0000b", member_type: "user", role: "member" }, 422],
        ["POST", `/iam/workspaces/${rootId}/members`, { email: "a\u0000@example.com", member_type: "user", role: "member" }, 422],
        ["DELETE", `/iam/workspaces/${rootId}/members/a%00b?member_type=user`, undefined, 400],
        ["POST", "/iam/workspaces", { name: "a\ud800", parent_workspace_id: rootId }, 422],
      ];
      for (const [method, url, body, status] of cases) {
        const response = await call("ada", method, url, body);
        expect(response.status, `${method} ${url} ${JSON.stringify(body)}`).toBe(status);
        expect(response.body["detail"]).toBeTruthy();
      }
      expect((await call("ada", "GET", "/iam/workspaces/not-a-ulid")).body).toEqual({ detail: "Invalid workspace ID format" });
      expect((await call("ada", "POST", "/iam/workspaces", { name: "x", parent_workspace_id: "Z".repeat(26) })).body).toEqual({
        detail: "Invalid parent workspace ID format",
      });
      const extra = await call("ada", "POST", "/iam/workspaces", { name: "x", parent_workspace_id: rootId, extra: 1 });
      expect((extra.body["detail"] as Json[])[0]).toMatchObject({ type: "extra_forbidden", loc: ["body", "extra"] });
      const long = await call("ada", "POST", "/iam/workspaces", { name: "w".repeat(512), parent_workspace_id: rootId });
      expect(long.status).toBe(201);
      expect(long.body["name"]).toHaveLength(512);
    });
  });

  it("documents every route with its error responses", async () => {
    const doc = (await app.server.inject({ method: "GET", url: "/openapi.json" })).json() as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    const expected: [string, string, string[]][] = [
      ["/iam/tenants", "post", ["201", "403", "409", "422"]],
      ["/iam/tenants", "get", ["200", "401"]],
      ["/iam/tenants/{tenant_id}", "get", ["200", "400", "404"]],
      ["/iam/tenants/{tenant_id}", "delete", ["204", "403", "404"]],
      ["/iam/tenants/{tenant_id}/members", "post", ["201", "403", "404", "409", "422"]],
      ["/iam/tenants/{tenant_id}/members", "get", ["200", "403", "404"]],
      ["/iam/tenants/{tenant_id}/members/{user_id}", "delete", ["204", "409"]],
      ["/iam/workspaces", "post", ["201", "400", "404", "409", "422"]],
      ["/iam/workspaces", "get", ["200"]],
      ["/iam/workspaces/{workspace_id}", "get", ["200", "400", "404"]],
      ["/iam/workspaces/{workspace_id}", "patch", ["200", "403", "404", "409", "422"]],
      ["/iam/workspaces/{workspace_id}", "delete", ["204", "403", "404", "409"]],
      ["/iam/workspaces/{workspace_id}/members", "post", ["201", "403", "404", "409", "422"]],
      ["/iam/workspaces/{workspace_id}/members", "get", ["200", "404"]],
      ["/iam/workspaces/{workspace_id}/members/{member_id}", "patch", ["200", "409", "422"]],
      ["/iam/workspaces/{workspace_id}/members/{member_id}", "delete", ["204", "409", "422"]],
    ];
    for (const [path, method, statuses] of expected) {
      const operation = doc.paths[path]?.[method];
      expect(operation, `${method} ${path}`).toBeDefined();
      for (const status of statuses) expect(operation?.responses[status], `${method} ${path} ${status}`).toBeDefined();
    }
  });

  it("deletes a tenant with everything in it, refusing members", async () => {
    const doomed = await call("ada", "POST", "/iam/tenants", { name: "doomed" }, null);
    const id = String(doomed.body["id"]);
    expect((await call("ada", "POST", `/iam/tenants/${id}/members`, { user_id: "bob", role: "member" }, id)).status).toBe(201);
    const root = String(((await call("ada", "GET", "/iam/workspaces", undefined, id)).body["workspaces"] as Json[])[0]?.["id"]);
    const child = await call("bob", "POST", "/iam/workspaces", { name: "bob's", parent_workspace_id: root }, id);
    await call("bob", "POST", "/iam/workspaces", { name: "grandchild", parent_workspace_id: String(child.body["id"]) }, id);
    expect(await call("bob", "DELETE", `/iam/tenants/${id}`, undefined, id)).toEqual({
      status: 403,
      body: { detail: "Insufficient permissions to delete tenant" },
    });
    expect((await call("ada", "DELETE", `/iam/tenants/${id}`, undefined, id)).status).toBe(204);
    expect(await queryRows(database.handle.db, sql`SELECT count(*)::int AS n FROM workspaces WHERE tenant_id = ${id}`)).toEqual([{ n: 0 }]);
    expect((await call("ada", "GET", "/iam/tenants", undefined, null)).body).not.toContainEqual({ id, name: "doomed" });
    expect(await spicedb.authorization.readRelationships({ resourceType: "workspace", resourceId: root })).toEqual([]);
  });
});
