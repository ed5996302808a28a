/**
 * Races between a tenant's lifecycle (a member's removal, the tenant's deletion) and creations in
 * it, through HTTP (PostgreSQL server only: PGlite serialises every transaction). Each race runs
 * for many rounds; every round must end with no access left behind and no 5xx.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/platform/database/database.js";
import { HAS_POSTGRES_SERVER } from "../support/test-database.js";
import { startTestStack, type TestStack } from "../support/test-stack.js";

const ROUNDS = 20;

describe.runIf(HAS_POSTGRES_SERVER)("tenant lifecycle races over HTTP on postgres", () => {
  let stack: TestStack;
  const tokens = new Map<string, string>();

  const as = async (user: string, tenantId?: string) => {
    if (!tokens.has(user)) tokens.set(user, await stack.identity.tokenFor(user));
    return { authorization: `Bearer ${tokens.get(user)}`, ...(tenantId ? { "x-tenant-id": tenantId } : {}) };
  };
  const call = async (user: string, method: string, url: string, tenantId?: string, payload?: object) => {
    const response = await stack.app.server.inject({ method: method as "GET", url, headers: await as(user, tenantId), ...(payload ? { payload } : {}) });
    return { status: response.statusCode, body: response.body, json: <T>() => response.json<T>() };
  };
  const rows = <T = Record<string, unknown>>(query: ReturnType<typeof sql>) => queryRows<T>(stack.database.handle.db, query);
  const tally = (counts: Record<string, number>, key: string) => {
    counts[key] = (counts[key] ?? 0) + 1;
  };

  beforeAll(async () => {
    stack = await startTestStack("postgres", { env: { KARTOGRAPH_IAM_SINGLE_TENANT_MODE: "false" } });
    for (const user of ["ann", "bob", "cal"]) await call(user, "GET", "/iam/tenants"); // provisions them
  });
  afterAll(() => stack?.close());

  it("never leaves a usable API key to someone removed from the tenant while creating it", async () => {
    const tenant = (await call("ann", "POST", "/iam/tenants", undefined, { name: "keys race" })).json<{ id: string }>().id;
    const counts: Record<string, number> = {};
    const secrets: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      expect((await call("ann", "POST", `/iam/tenants/${tenant}/members`, tenant, { user_id: "bob", role: "member" })).status).toBe(201);
      const [created, removed] = await Promise.all([
        call("bob", "POST", "/iam/api-keys", tenant, { name: `key ${round}` }),
        call("ann", "DELETE", `/iam/tenants/${tenant}/members/bob`, tenant),
      ]);
      tally(counts, `create ${created.status}`);
      expect(removed.status, removed.body).toBe(204);
      expect([201, 403], created.body).toContain(created.status);
      if (created.status === 201) secrets.push(created.json<{ secret: string }>().secret);
      const live = await rows(sql`SELECT id FROM api_keys WHERE tenant_id = ${tenant} AND created_by_user_id = 'bob' AND revoked_at IS NULL`);
      expect(live, `round ${round}: ${JSON.stringify(counts)}`).toEqual([]);
    }
    // Back in the tenant, bob's keys from before stay revoked.
    await call("ann", "POST", `/iam/tenants/${tenant}/members`, tenant, { user_id: "bob", role: "member" });
    for (const secret of secrets) {
      const response = await stack.app.server.inject({ method: "GET", url: "/iam/api-keys", headers: { "x-api-key": secret } });
      expect(response.statusCode).toBe(401);
    }
    console.info(`API key creation racing its creator's removal, ${ROUNDS} rounds: ${JSON.stringify(counts)}`);
  });

  it("answers 404 (or succeeds first), never 5xx, to creations racing the tenant's deletion, and leaves nothing of it", async () => {
    const counts: Record<string, number> = {};
    for (let round = 0; round < ROUNDS; round++) {
      const tenant = (await call("ann", "POST", "/iam/tenants", undefined, { name: `doomed ${round}` })).json<{ id: string }>().id;
      await call("ann", "POST", `/iam/tenants/${tenant}/members`, tenant, { user_id: "bob", role: "member" });
      const root = (await call("ann", "GET", "/iam/workspaces", tenant)).json<{ workspaces: { id: string }[] }>().workspaces[0]?.id ?? "";
      const group = (await call("ann", "POST", "/iam/groups", tenant, { name: "existing" })).json<{ id: string }>().id;
      const racers: [string, Promise<{ status: number; body: string }>][] = [
        ["api key", call("ann", "POST", "/iam/api-keys", tenant, { name: "racing" })],
        ["group", call("ann", "POST", "/iam/groups", tenant, { name: "racing" })],
        ["workspace", call("ann", "POST", "/iam/workspaces", tenant, { name: "racing", parent_workspace_id: root })],
        ["workspace member", call("ann", "POST", `/iam/workspaces/${root}/members`, tenant, { member_id: "bob", member_type: "user", role: "editor" })],
        ["group member", call("ann", "POST", `/iam/groups/${group}/members`, tenant, { user_id: "bob", role: "member" })],
        ["tenant member", call("ann", "POST", `/iam/tenants/${tenant}/members`, tenant, { user_id: "cal", role: "member" })],
        ["delete", call("ann", "DELETE", `/iam/tenants/${tenant}`, tenant)],
      ];
      for (const [name, answer] of racers) {
        const { status, body } = await answer;
        tally(counts, `${name} ${status}`);
        if (name === "delete") expect(status, body).toBe(204);
        // 403: the tenant was gone before the request's tenant context was checked.
        else expect([201, 403, 404], `round ${round} ${name}: ${status} ${body}`).toContain(status);
        if (status === 403) expect(JSON.parse(body)).toEqual({ detail: "You do not have access to this tenant" });
      }
      for (const table of ["api_keys", "groups", "workspaces", "tenant_members"]) {
        const left = await rows(sql`SELECT count(*)::int AS n FROM ${sql.identifier(table)} WHERE tenant_id = ${tenant}`);
        expect(left, `round ${round}: ${table}`).toEqual([{ n: 0 }]);
      }
    }
    console.info(`creations racing the tenant's deletion, ${ROUNDS} rounds: ${JSON.stringify(counts)}`);
    const pending = await rows(sql`SELECT count(*)::int AS n FROM outbox WHERE processed_at IS NULL`);
    expect(pending).toEqual([{ n: 0 }]);
  });
});
