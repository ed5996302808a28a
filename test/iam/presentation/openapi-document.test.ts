/**
 * The OpenAPI document against what the routes do. Every IAM operation is called the ways a
 * client can get it wrong (no credentials, a bad tenant header, someone outside the tenant, a
 * plain member, an API key, malformed, unknown and over-long ids, an unknown body field, a
 * conflict, SpiceDB down) and the right way; each status it answers must be one the document
 * names for it. The document itself must name, describe and exemplify every operation, and an
 * operation that reads X-Tenant-ID must document it. A route added without a case here fails.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SpiceDbEngine } from "../../../src/platform/spicedb/spicedb-engine.js";
import { newUlid } from "../../../src/shared-kernel/ids.js";
import { switchableAuthorization } from "../../support/switchable-authorization.js";
import { TEST_DATABASE_KINDS, createTestDatabase, type TestDatabase } from "../../support/test-database.js";
import { startTestIamServer, type TestIamServer } from "../../support/test-iam-server.js";
import { startTestIdentity, type TestIdentity } from "../../support/test-identity.js";
import { startTestSpiceDb } from "../../support/test-spicedb.js";

type Json = Record<string, unknown>;

interface DocumentedOperation {
  readonly operationId?: string;
  readonly summary?: string;
  readonly description?: string;
  readonly security?: Record<string, string[]>[];
  readonly parameters?: { in: string; name: string }[];
  readonly requestBody?: { content?: Record<string, { example?: unknown; examples?: unknown }> };
  readonly responses: Record<string, { description?: string; content?: Record<string, { example?: unknown; examples?: unknown }> }>;
}
type OpenApi = { paths: Record<string, Record<string, DocumentedOperation>> };

/** One tenant with one of everything, made through the API, so each case may spend it. */
interface World {
  readonly tenant_id: string;
  readonly rootWorkspaceId: string;
  readonly workspace_id: string;
  readonly group_id: string;
  readonly api_key_id: string;
  readonly apiKey: string;
  readonly scim_token_id: string;
  /** A plain member of the tenant, the child workspace (editor) and the group. */
  readonly user_id: string;
  readonly member_id: string;
}

type Caller = "admin" | "member" | "outsider" | "apiKey" | "none";

interface Request {
  readonly caller?: Caller;
  /** Path parameters that differ from the world's. */
  readonly path?: Record<string, string>;
  readonly query?: Record<string, string>;
  readonly body?: unknown;
  readonly tenantHeader?: string;
}

interface Case {
  /** The right request (as the tenant's admin unless said otherwise): must answer the documented success. */
  readonly valid: (world: World) => Request;
  /** Requests that break a rule of this route (409s and the like), each in a world of its own. */
  readonly refusals?: ((world: World) => Request)[];
}

const ADMIN = "oa-admin";
const MEMBER = "oa-member";
const OUTSIDER = "oa-outsider";

let names = 0;
const fresh = (prefix: string) => `${prefix}-${++names}`;

const CASES: Record<string, Case> = {
  "POST /iam/tenants": {
    valid: () => ({ body: { name: fresh("tenant") } }),
    refusals: [() => ({ body: { name: "acme-0" } }), () => ({ caller: "apiKey", body: { name: fresh("tenant") } })],
  },
  "GET /iam/tenants": { valid: () => ({}) },
  "GET /iam/tenants/{tenant_id}": { valid: () => ({}) },
  "DELETE /iam/tenants/{tenant_id}": { valid: () => ({}), refusals: [() => ({ caller: "apiKey" })] },
  "POST /iam/tenants/{tenant_id}/members": {
    valid: () => ({ body: { user_id: OUTSIDER, role: "member" } }),
    refusals: [
      () => ({ body: { user_id: ADMIN, role: "member" } }),
      () => ({ body: { user_id: "  ", role: "member" } }),
      () => ({ body: { role: "member" } }),
    ],
  },
  "GET /iam/tenants/{tenant_id}/members": { valid: () => ({}) },
  "DELETE /iam/tenants/{tenant_id}/members/{user_id}": {
    valid: () => ({}),
    refusals: [() => ({ path: { user_id: ADMIN } }), () => ({ path: { user_id: "%20" } })],
  },
  "POST /iam/workspaces": {
    valid: (w) => ({ body: { name: fresh("ws"), parent_workspace_id: w.rootWorkspaceId } }),
    refusals: [
      (w) => ({ body: { name: "child", parent_workspace_id: w.rootWorkspaceId } }),
      () => ({ body: { name: "x", parent_workspace_id: "z".repeat(26) } }),
      () => ({ body: { name: "x", parent_workspace_id: newUlid() } }),
    ],
  },
  "GET /iam/workspaces": { valid: () => ({}) },
  "GET /iam/workspaces/{workspace_id}": { valid: () => ({}) },
  "PATCH /iam/workspaces/{workspace_id}": {
    valid: () => ({ body: { name: fresh("renamed") } }),
    refusals: [(w) => ({ path: { workspace_id: w.rootWorkspaceId }, body: { name: "child" } }), () => ({ body: { name: " " } })],
  },
  "DELETE /iam/workspaces/{workspace_id}": {
    valid: () => ({}),
    refusals: [(w) => ({ path: { workspace_id: w.rootWorkspaceId } })],
  },
  "POST /iam/workspaces/{workspace_id}/members": {
    valid: (w) => ({ body: { member_id: w.group_id, member_type: "group", role: "member" } }),
    refusals: [
      () => ({ body: { member_id: ADMIN, member_type: "user", role: "member" } }),
      () => ({ body: { member_id: " ", member_type: "user", role: "member" } }),
      () => ({ body: { email: "x@example.com", member_type: "group", role: "member" } }),
      () => ({ body: { member_id: newUlid(), member_type: "group", role: "member" } }),
    ],
  },
  "GET /iam/workspaces/{workspace_id}/members": { valid: () => ({}) },
  "PATCH /iam/workspaces/{workspace_id}/members/{member_id}": {
    valid: () => ({ query: { member_type: "user" }, body: { role: "admin" } }),
    refusals: [
      () => ({ path: { member_id: ADMIN }, query: { member_type: "user" }, body: { role: "member" } }),
      () => ({ path: { member_id: "%20" }, query: { member_type: "user" }, body: { role: "member" } }),
      () => ({ body: { role: "member" } }),
    ],
  },
  "DELETE /iam/workspaces/{workspace_id}/members/{member_id}": {
    valid: () => ({ query: { member_type: "user" } }),
    refusals: [() => ({ path: { member_id: ADMIN }, query: { member_type: "user" } }), () => ({})],
  },
  "GET /iam/groups": { valid: () => ({}) },
  "POST /iam/groups": { valid: () => ({ body: { name: fresh("group") } }), refusals: [() => ({ body: { name: "group" } })] },
  "GET /iam/groups/{group_id}": { valid: () => ({}) },
  "PATCH /iam/groups/{group_id}": { valid: () => ({ body: { name: fresh("group") } }) },
  "DELETE /iam/groups/{group_id}": { valid: () => ({}) },
  "POST /iam/groups/{group_id}/members": {
    valid: () => ({ body: { user_id: ADMIN, role: "admin" } }),
    refusals: [
      () => ({ body: { user_id: ADMIN, role: "member" } }),
      () => ({ body: { user_id: OUTSIDER, role: "member" } }),
      () => ({ body: { user_id: ADMIN, email: "a@example.com", role: "member" } }),
    ],
  },
  "GET /iam/groups/{group_id}/members": { valid: () => ({}) },
  "PATCH /iam/groups/{group_id}/members/{user_id}": {
    valid: () => ({ body: { role: "admin" } }),
    refusals: [() => ({ path: { user_id: ADMIN }, body: { role: "member" } }), () => ({ path: { user_id: OUTSIDER }, body: { role: "admin" } })],
  },
  "DELETE /iam/groups/{group_id}/members/{user_id}": {
    valid: () => ({}),
    refusals: [() => ({ path: { user_id: ADMIN } }), () => ({ path: { user_id: OUTSIDER } })],
  },
  "POST /iam/api-keys": {
    valid: () => ({ body: { name: fresh("key") } }),
    refusals: [() => ({ body: { name: "automation" } }), () => ({ caller: "apiKey", body: { name: fresh("key") } })],
  },
  "GET /iam/api-keys": { valid: () => ({}), refusals: [() => ({ query: { user_id: " " } })] },
  "DELETE /iam/api-keys/{api_key_id}": {
    valid: () => ({}),
    refusals: [(w) => ({ path: { api_key_id: w.api_key_id }, caller: "member" })],
  },
  "POST /iam/scim-tokens": { valid: () => ({ body: { name: fresh("directory") } }), refusals: [() => ({ body: { name: " " } })] },
  "GET /iam/scim-tokens": { valid: () => ({}) },
  "DELETE /iam/scim-tokens/{scim_token_id}": { valid: () => ({}) },
  "GET /iam/audit-events": {
    valid: () => ({ query: { limit: "5" } }),
    refusals: [() => ({ query: { since: "yesterday" } }), () => ({ caller: "member" })],
  },
  "POST /iam/permissions/check": {
    valid: (w) => ({ body: { checks: [{ resource_type: "workspace", resource_id: w.workspace_id, permission: "edit" }] } }),
    refusals: [
      (w) => ({ caller: "member", body: { checks: [{ resource_type: "workspace", resource_id: w.workspace_id, permission: "edit" }], subject: { type: "user", id: ADMIN } } }),
      (w) => ({ body: { checks: [{ resource_type: "workspace", resource_id: w.workspace_id, permission: "edit" }], subject: { type: "user", id: OUTSIDER } } }),
    ],
  },
  "GET /iam/workspaces/{workspace_id}/access": {
    valid: () => ({}),
    refusals: [() => ({ caller: "member" })],
  },
  "GET /iam/groups/{group_id}/access": {
    valid: () => ({}),
    refusals: [() => ({ caller: "member" })],
  },
  "GET /iam/permissions/explain": {
    valid: (w) => ({ query: { resource_type: "workspace", resource_id: w.workspace_id, permission: "edit" } }),
    refusals: [
      (w) => ({ caller: "member", query: { resource_type: "workspace", resource_id: w.workspace_id, permission: "edit", subject_type: "user", subject_id: ADMIN } }),
      () => ({ query: { resource_type: "workspace", resource_id: "01JZ8Q6V3C4M8N2P5R7T9W1X3Y", permission: "edit" } }),
    ],
  },
  "GET /iam/permissions/resources": {
    valid: () => ({ query: { resource_type: "workspace", permission: "edit" } }),
    refusals: [
      () => ({ caller: "member", query: { resource_type: "workspace", permission: "edit", subject_type: "user", subject_id: ADMIN } }),
      () => ({ query: { resource_type: "workspace", permission: "edit", subject_type: "user", subject_id: OUTSIDER } }),
    ],
  },
  "GET /iam/users": {
    valid: () => ({ query: { search: "oa" } }),
    refusals: [() => ({}), () => ({ query: { ids: "a", search: "b" } }), () => ({ query: { ids: "x".repeat(300) } })],
  },
  // Refuses no one who authenticates: an outsider is answered a null role.
  "GET /iam/users/me": { valid: () => ({}) },
};

const ULID_PARAMETERS = new Set(["tenant_id", "workspace_id", "group_id", "api_key_id", "scim_token_id"]);

describe.each(TEST_DATABASE_KINDS)("the OpenAPI document against the routes on %s", (kind) => {
  let database: TestDatabase;
  let spicedb: SpiceDbEngine;
  let identity: TestIdentity;
  let app: TestIamServer;
  let authorization: ReturnType<typeof switchableAuthorization>;
  let document: OpenApi;
  const tokens = new Map<string, string>();

  const token = async (user: string) => {
    if (!tokens.has(user)) tokens.set(user, await identity.tokenFor(user));
    return tokens.get(user) as string;
  };

  async function send(method: string, url: string, caller: Caller, options: { tenant?: string; apiKey?: string; body?: unknown } = {}) {
    const headers: Record<string, string> = {};
    if (caller === "apiKey") headers["x-api-key"] = options.apiKey ?? "";
    else if (caller !== "none") {
      headers.authorization = `Bearer ${await token(caller === "admin" ? ADMIN : caller === "member" ? MEMBER : OUTSIDER)}`;
    }
    if (options.tenant !== undefined) headers["x-tenant-id"] = options.tenant;
    const response = await app.server.inject({
      method: method as "GET",
      url,
      headers,
      ...(options.body === undefined ? {} : { payload: options.body as Json }),
    });
    return { status: response.statusCode, body: response.body === "" ? null : (response.json() as Json) };
  }

  async function created(method: string, url: string, tenant: string | undefined, body: unknown): Promise<Json> {
    const response = await send(method, url, "admin", { tenant, body });
    expect(response.status, `${method} ${url}: ${JSON.stringify(response.body)}`).toBe(201);
    return response.body as Json;
  }

  async function newWorld(): Promise<World> {
    const tenant = (await created("POST", "/iam/tenants", undefined, { name: fresh("acme") }))["id"] as string;
    const workspaces = await send("GET", "/iam/workspaces", "admin", { tenant });
    const root = ((workspaces.body as { workspaces: Json[] }).workspaces[0] as Json)["id"] as string;
    await created("POST", `/iam/tenants/${tenant}/members`, tenant, { user_id: MEMBER, role: "member" });
    const workspace = (await created("POST", "/iam/workspaces", tenant, { name: "child", parent_workspace_id: root }))["id"] as string;
    await created("POST", `/iam/workspaces/${workspace}/members`, tenant, { member_id: MEMBER, member_type: "user", role: "editor" });
    const group = (await created("POST", "/iam/groups", tenant, { name: "group" }))["id"] as string;
    await created("POST", `/iam/groups/${group}/members`, tenant, { user_id: MEMBER, role: "member" });
    const key = await created("POST", "/iam/api-keys", tenant, { name: "automation" });
    const scimToken = await created("POST", "/iam/scim-tokens", tenant, { name: "directory" });
    return {
      tenant_id: tenant,
      rootWorkspaceId: root,
      workspace_id: workspace,
      group_id: group,
      api_key_id: key["id"] as string,
      apiKey: key["secret"] as string,
      scim_token_id: scimToken["id"] as string,
      user_id: MEMBER,
      member_id: MEMBER,
    };
  }

  function urlOf(path: string, world: World, request: Request): string {
    const filled = path.replace(/\{(\w+)\}/g, (_, name: string) => request.path?.[name] ?? (world[name as keyof World] as string));
    const query = new URLSearchParams(request.query ?? {}).toString();
    return query === "" ? filled : `${filled}?${query}`;
  }

  /** Answers one request of a case in the given world. */
  function call(method: string, path: string, world: World, request: Request) {
    const caller = request.caller ?? "admin";
    return send(method, urlOf(path, world, request), caller, {
      tenant: request.tenantHeader ?? world.tenant_id,
      apiKey: world.apiKey,
      body: request.body,
    });
  }

  const operations = () =>
    Object.entries(document.paths)
      .filter(([path]) => path.startsWith("/iam/"))
      .flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ path, method: method.toUpperCase(), operation })));

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    spicedb = await startTestSpiceDb();
    identity = await startTestIdentity();
    app = await startTestIamServer({
      database: database.handle,
      spicedb,
      authorization: (real) => (authorization = switchableAuthorization(real)),
      identity,
      env: { KARTOGRAPH_IAM_SINGLE_TENANT_MODE: "false" },
    });
    document = (await app.server.inject({ method: "GET", url: "/openapi.json" })).json<OpenApi>();
    // Everyone signs in once; the first world's tenant name is the one the 409 case repeats.
    for (const user of ["admin", "member", "outsider"] as const) expect((await send("GET", "/iam/tenants", user)).status).toBe(200);
    names = -1;
  });
  afterAll(async () => {
    await app?.close();
    await identity?.close();
    await spicedb?.close();
    await database?.dispose();
  });

  it("names, describes and exemplifies every operation", () => {
    const ids = new Set<string>();
    for (const { path, method, operation } of operations()) {
      const name = `${method} ${path}`;
      expect(operation.operationId, name).toMatch(/^[a-z][A-Za-z]+$/);
      expect(ids.has(operation.operationId as string), `${name}: operationId ${operation.operationId} twice`).toBe(false);
      ids.add(operation.operationId as string);
      expect(operation.summary, name).toBeTruthy();
      expect(operation.description, name).toBeTruthy();
      for (const [status, response] of Object.entries(operation.responses)) {
        expect(response.description, `${name} ${status}`).toBeTruthy();
        expect(response.description, `${name} ${status}`).not.toBe("Default Response");
        if (status !== "204") expect(response.content?.["application/json"]?.example, `${name} ${status}: an example`).toBeDefined();
      }
      if (operation.requestBody !== undefined) {
        expect(operation.requestBody.content?.["application/json"]?.example, `${name}: a request example`).toBeDefined();
      }
    }
    expect(ids.size).toBe(Object.keys(CASES).length);
  });

  it("documents every status each operation answers, its security and the tenant header it reads", { timeout: 240_000 }, async () => {
    const problems: string[] = [];
    for (const { path, method, operation } of operations()) {
      const name = `${method} ${path}`;
      const testCase = CASES[name];
      if (testCase === undefined) {
        problems.push(`${name}: no case in CASES (add its valid request)`);
        continue;
      }
      const documented = new Set(Object.keys(operation.responses));
      const observed = new Map<number, string>();
      const note = (what: string, answer: { status: number; body: Json | null }) => {
        if (!observed.has(answer.status)) observed.set(answer.status, `${what}: ${JSON.stringify(answer.body).slice(0, 160)}`);
      };

      // Probes that cannot act share one world; the valid request there comes last. A fresh
      // valid request each time, so that names stay unique.
      const world = await newWorld();
      const parameters = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1] as string);
      const probe = async (what: string, change: (valid: Request) => Request, where = world) => {
        const valid = testCase.valid(where);
        const answer = await call(method, path, where, { ...valid, ...change(valid) });
        note(what, answer);
        return answer;
      };

      const unauthenticated = await probe("no credentials", () => ({ caller: "none" }));
      const badHeader = await probe("malformed X-Tenant-ID", () => ({ tenantHeader: "not-a-tenant" }));
      await probe("someone outside the tenant", () => ({ caller: "outsider" }));
      await probe("a plain member", () => ({ caller: "member" }));
      for (const parameter of parameters) {
        const ulid = ULID_PARAMETERS.has(parameter);
        await probe(`malformed ${parameter}`, (valid) => ({ path: { ...valid.path, [parameter]: ulid ? "not-a-ulid" : "%20" } }));
        if (ulid) await probe(`unknown ${parameter}`, (valid) => ({ path: { ...valid.path, [parameter]: newUlid() } }));
        await probe(`over-long ${parameter}`, (valid) => ({ path: { ...valid.path, [parameter]: "x".repeat(300) } }));
      }
      if (testCase.valid(world).body !== undefined) {
        await probe("an unknown body field", (valid) => ({ body: { ...(valid.body as Json), unknown_field: 1 } }));
      }
      // Probes that may act get a world of their own.
      await probe("an API key", () => ({ caller: "apiKey" }), await newWorld());
      const outage = await newWorld();
      authorization.down = true;
      try {
        await probe("SpiceDB down", () => ({}), outage);
      } finally {
        authorization.down = false;
      }
      for (const refusal of testCase.refusals ?? []) {
        const elsewhere = await newWorld();
        const request = refusal(elsewhere);
        note(`refusal ${JSON.stringify(request)}`, await call(method, path, elsewhere, request));
      }
      const success = await call(method, path, world, testCase.valid(world));
      note("the valid request", success);

      const successes = [...documented].filter((status) => status.startsWith("2"));
      if (successes.length !== 1 || String(success.status) !== successes[0]) {
        problems.push(`${name}: the valid request answered ${success.status} ${JSON.stringify(success.body)}, documented success ${successes.join(",")}`);
      }
      for (const [status, how] of observed) {
        if (!documented.has(String(status))) problems.push(`${name}: answers ${status} (${how}), undocumented`);
      }
      if (unauthenticated.status === 401) {
        if (JSON.stringify(operation.security) !== JSON.stringify([{ bearer: [] }, { apiKey: [] }])) problems.push(`${name}: protected, no security`);
      } else problems.push(`${name}: answered ${unauthenticated.status} without credentials`);
      const readsTenantHeader = badHeader.status === 400 && JSON.stringify(badHeader.body).includes("X-Tenant-ID");
      const documentsTenantHeader = (operation.parameters ?? []).some((p) => p.in === "header" && p.name.toLowerCase() === "x-tenant-id");
      if (readsTenantHeader !== documentsTenantHeader) {
        problems.push(`${name}: reads X-Tenant-ID ${readsTenantHeader}, documents it ${documentsTenantHeader}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
