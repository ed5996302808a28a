/**
 * An API key acts only inside the tenant it was created in (DESIGN §7), whatever its creator may do
 * elsewhere. The walk reads the service's own OpenAPI document, so a tenant route added later is
 * covered without anyone remembering to add it here.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/platform/database/database.js";
import { TEST_DATABASE_KINDS } from "../support/test-database.js";
import { startTestStack, type TestStack } from "../support/test-stack.js";

type Operation = { requestBody?: unknown };

/** A valid body for each tenant-scoped operation that takes one (the walk fails for a missing one). */
const VALID_BODIES: Record<string, object> = {
  "POST /iam/tenants/{tenant_id}/members": { user_id: "bob", role: "admin" },
};
/** Values for the other path parameters. */
const PATH_VALUES: Record<string, string> = { user_id: "bob" };

const KEYS_CANNOT_MANAGE_TENANTS = "API keys cannot create or delete tenants; use a person's token";
const NOWHERE = "01J0000000000000000000ZZZZ";

describe.each(TEST_DATABASE_KINDS)("API keys confined to their tenant on %s", (kind) => {
  let stack: TestStack;
  let home: string;
  let elsewhere: string;
  let secret: string;

  const bearer = async (user: string) => ({ authorization: `Bearer ${await stack.identity.tokenFor(user)}` });
  const inject = (method: string, url: string, headers: Record<string, string>, payload?: object) =>
    stack.app.server.inject({ method: method as "GET", url, headers, ...(payload ? { payload } : {}) });
  const asKey = (method: string, url: string, payload?: object) => inject(method, url, { "x-api-key": secret }, payload);

  /** Everything a request could change, without the key's own last-use stamp. */
  const snapshot = async () => {
    const tables = ["tenants", "tenant_members", "tenant_invitations", "workspaces", "workspace_members", "groups", "group_members"];
    const rows: Record<string, unknown[]> = {};
    for (const table of tables) rows[table] = await queryRows(stack.database.handle.db, sql.raw(`SELECT * FROM ${table} ORDER BY 1, 2`));
    rows["api_keys"] = await queryRows(stack.database.handle.db, sql`SELECT id, tenant_id, revoked_at FROM api_keys ORDER BY id`);
    return rows;
  };

  beforeAll(async () => {
    stack = await startTestStack(kind, { env: { KARTOGRAPH_IAM_SINGLE_TENANT_MODE: "false" } });
    for (const user of ["ada", "bob"]) await inject("GET", "/iam/tenants", await bearer(user));
    const create = async (name: string) => (await inject("POST", "/iam/tenants", await bearer("ada"), { name })).json<{ id: string }>().id;
    home = await create("home");
    elsewhere = await create("elsewhere");
    // Ada administers both tenants; bob is a plain member of the other one.
    expect((await inject("POST", `/iam/tenants/${elsewhere}/members`, { ...(await bearer("ada")), "x-tenant-id": elsewhere }, { user_id: "bob", role: "member" })).statusCode).toBe(201);
    const key = await inject("POST", "/iam/api-keys", { ...(await bearer("ada")), "x-tenant-id": home }, { name: "automation" });
    secret = key.json<{ secret: string }>().secret;
    expect((await asKey("GET", `/iam/tenants/${home}`)).statusCode).toBe(200); // the key works at home
  });
  afterAll(() => stack?.close());

  it("answers 404 on every route that takes a tenant id, for another tenant of its creator, and changes nothing", async () => {
    const document = (await stack.app.server.inject({ method: "GET", url: "/openapi.json" })).json<{
      paths: Record<string, Record<string, Operation>>;
    }>();
    const operations = Object.entries(document.paths)
      .filter(([path]) => path.includes("{tenant_id}"))
      .flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ path, method: method.toUpperCase(), operation })));
    expect(operations.length).toBeGreaterThanOrEqual(5);

    const before = await snapshot();
    for (const { path, method, operation } of operations) {
      const name = `${method} ${path}`;
      const body = VALID_BODIES[name];
      if (operation.requestBody !== undefined) expect(body, `${name}: add a valid body to VALID_BODIES`).toBeDefined();
      const url = (tenantId: string) =>
        path.replace(/\{(\w+)\}/g, (_, parameter: string) => (parameter === "tenant_id" ? tenantId : (PATH_VALUES[parameter] ?? "x")));
      const confined = await asKey(method, url(elsewhere), body);
      const missing = await asKey(method, url(NOWHERE), body);
      expect(confined.statusCode, `${name}: ${confined.body}`).toBe(404);
      // Exactly what a tenant that does not exist gets.
      expect(confined.body.replace(elsewhere, NOWHERE), name).toBe(missing.body);
    }
    expect(await snapshot()).toEqual(before);
    // The creator herself still may do all of it: the refusal is the key's.
    expect((await inject("GET", `/iam/tenants/${elsewhere}/members`, { ...(await bearer("ada")), "x-tenant-id": elsewhere })).statusCode).toBe(200);
  });

  it("lists only the key's tenant", async () => {
    expect((await asKey("GET", "/iam/tenants")).json()).toEqual([{ id: home, name: "home" }]);
    expect((await inject("GET", "/iam/tenants", await bearer("ada"))).json<unknown[]>()).toHaveLength(2);
  });

  it("refuses tenant creation and deletion, and key creation, with a clear 403", async () => {
    const before = await snapshot();
    expect(await asKey("POST", "/iam/tenants", { name: "by key" }).then((r) => [r.statusCode, r.json()])).toEqual([
      403,
      { detail: KEYS_CANNOT_MANAGE_TENANTS },
    ]);
    expect(await asKey("DELETE", `/iam/tenants/${home}`).then((r) => [r.statusCode, r.json()])).toEqual([403, { detail: KEYS_CANNOT_MANAGE_TENANTS }]);
    expect(await asKey("POST", "/iam/api-keys", { name: "child" }).then((r) => [r.statusCode, r.json()])).toEqual([
      403,
      { detail: "API keys cannot create API keys; use a person's token" },
    ]);
    expect(await snapshot()).toEqual(before);
  });
});
