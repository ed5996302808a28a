/**
 * The audit log through HTTP, on both databases: every mutating route records exactly the
 * documented events, with the actor (user or API key), the target as it was, what changed and
 * where the request came from; failed requests record nothing; only the tenant's admins read it,
 * and bad filters are 422s.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { queryRows } from "../../src/platform/database/database.js";
import { AuditSealer } from "../../src/platform/audit/audit-sealer.js";
import { verifyChain } from "../../src/platform/audit/audit-verifier.js";
import { TEST_DATABASE_KINDS } from "../support/test-database.js";
import { startTestStack, type TestStack } from "../support/test-stack.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe.each(TEST_DATABASE_KINDS)("audit log over HTTP on %s", (kind) => {
  let stack: TestStack;
  let acme: string;
  let ada: string;
  let bob: string;

  const token = (user: string) => stack.identity.sign({ sub: user, preferred_username: user });
  const call = async (credential: string, method: string, url: string, payload?: object, tenant: string | null = acme) => {
    const auth = credential.startsWith("karto_") ? { "x-api-key": credential } : { authorization: `Bearer ${credential}` };
    const response = await stack.app.server.inject({
      method: method as "GET",
      url,
      headers: { ...auth, "user-agent": "audit-test/1.0", "x-request-id": `req-${method}-${url.length}`, ...(tenant ? { "x-tenant-id": tenant } : {}) },
      ...(payload ? { payload } : {}),
    });
    return { status: response.statusCode, body: (response.body ? JSON.parse(response.body) : null) as Json };
  };
  /** Every event of the tenant so far, oldest first. */
  const allEvents = async (): Promise<Json[]> => (await call(ada, "GET", "/iam/audit-events?limit=1000")).body["events"].reverse();
  let seen = 0;
  /** The events recorded since the last call. */
  const newEvents = async (): Promise<Json[]> => {
    const events = await allEvents();
    const fresh = events.slice(seen);
    seen = events.length;
    return fresh;
  };

  beforeAll(async () => {
    stack = await startTestStack(kind, { env: { KARTOGRAPH_IAM_SINGLE_TENANT_MODE: "false" } });
    ada = await token("ada");
    bob = await token("bob");
    acme = (await call(ada, "POST", "/iam/tenants", { name: "Acme" }, null)).body["id"];
    await call(bob, "GET", "/iam/tenants", undefined, null); // bob signs in once
  });
  afterAll(() => stack?.close());

  /** The actions recorded since the last look, with the target and the changes of each. */
  const recorded = async () => (await newEvents()).map((e) => ({ action: e["action"], target: e["target"], changes: e["changes"] }));

  it("records exactly the documented events for every mutating route, with targets as they were", async () => {
    const tenant = { type: "tenant", id: acme, name: "Acme" };
    const created = await recorded();
    const root = (await call(ada, "GET", "/iam/workspaces")).body["workspaces"][0]["id"];
    const rootTarget = { type: "workspace", id: root, name: "Acme" };
    const role = (before: string | null, after: string | null) => ({ before, after });
    const user = (id: string) => ({ type: "user", id });
    expect(created).toEqual([
      { action: "tenant.created", target: tenant, changes: { name: role(null, "Acme") } },
      { action: "tenant.member_added", target: tenant, changes: { member: user("ada"), role: role(null, "admin") } },
      { action: "workspace.created", target: rootTarget, changes: { name: role(null, "Acme"), parent_workspace_id: null } },
      { action: "workspace.member_added", target: rootTarget, changes: { member: user("ada"), role: role(null, "admin") } },
    ]);

    expect((await call(ada, "POST", `/iam/tenants/${acme}/members`, { user_id: "bob", role: "member" })).status).toBe(201);
    expect(await recorded()).toEqual([{ action: "tenant.member_added", target: tenant, changes: { member: user("bob"), role: role(null, "member") } }]);
    await call(ada, "POST", `/iam/tenants/${acme}/members`, { user_id: "bob", role: "admin" });
    expect(await recorded()).toEqual([
      { action: "tenant.member_role_changed", target: tenant, changes: { member: user("bob"), role: role("member", "admin") } },
      // Tenant admins administer the root workspace.
      { action: "workspace.member_added", target: rootTarget, changes: { member: user("bob"), role: role(null, "admin") } },
    ]);

    const research = (await call(ada, "POST", "/iam/workspaces", { name: "Research Lab", parent_workspace_id: root })).body["id"];
    await call(ada, "PATCH", `/iam/workspaces/${research}`, { name: "Research" });
    const researchTarget = { type: "workspace", id: research, name: "Research" };
    const labTarget = { ...researchTarget, name: "Research Lab" };
    expect(await recorded()).toEqual([
      { action: "workspace.created", target: labTarget, changes: { name: role(null, "Research Lab"), parent_workspace_id: root } },
      { action: "workspace.member_added", target: labTarget, changes: { member: user("ada"), role: role(null, "admin") } },
      { action: "workspace.renamed", target: researchTarget, changes: { name: role("Research Lab", "Research") } },
    ]);
    await call(ada, "POST", `/iam/workspaces/${research}/members`, { member_id: "bob", member_type: "user", role: "editor" });
    await call(ada, "PATCH", `/iam/workspaces/${research}/members/bob?member_type=user`, { role: "admin" });
    expect(await recorded()).toEqual([
      { action: "workspace.member_added", target: researchTarget, changes: { member: user("bob"), role: role(null, "editor") } },
      { action: "workspace.member_role_changed", target: researchTarget, changes: { member: user("bob"), role: role("editor", "admin") } },
    ]);

    const group = (await call(ada, "POST", "/iam/groups", { name: "Eng" })).body["id"];
    await call(ada, "PATCH", `/iam/groups/${group}`, { name: "Engineering" });
    const groupAs = (name: string) => ({ type: "group", id: group, name });
    await call(ada, "POST", `/iam/groups/${group}/members`, { user_id: "bob", role: "member" });
    await call(ada, "PATCH", `/iam/groups/${group}/members/bob`, { role: "admin" });
    await call(ada, "POST", `/iam/workspaces/${research}/members`, { member_id: group, member_type: "group", role: "editor" });
    expect(await recorded()).toEqual([
      { action: "group.created", target: groupAs("Eng"), changes: { name: role(null, "Eng") } },
      { action: "group.member_added", target: groupAs("Eng"), changes: { member: user("ada"), role: role(null, "admin") } },
      { action: "group.renamed", target: groupAs("Engineering"), changes: { name: role("Eng", "Engineering") } },
      { action: "group.member_added", target: groupAs("Engineering"), changes: { member: user("bob"), role: role(null, "member") } },
      { action: "group.member_role_changed", target: groupAs("Engineering"), changes: { member: user("bob"), role: role("member", "admin") } },
      { action: "workspace.member_added", target: researchTarget, changes: { member: { type: "group", id: group }, role: role(null, "editor") } },
    ]);
    await call(ada, "DELETE", `/iam/groups/${group}`);
    expect(await recorded()).toEqual([
      { action: "workspace.member_removed", target: researchTarget, changes: { member: { type: "group", id: group }, role: role("editor", null) } },
      { action: "group.deleted", target: groupAs("Engineering"), changes: { members_removed: 2, grants_removed: 1 } },
    ]);

    const key = (await call(ada, "POST", "/iam/api-keys", { name: "ci" })).body;
    const keyTarget = { type: "api_key", id: key["id"], name: "ci" };
    expect(await recorded()).toEqual([
      { action: "api_key.created", target: keyTarget, changes: { name: role(null, "ci"), prefix: key["prefix"], owner: user("ada") } },
    ]);
    const child = (await call(key["secret"], "POST", "/iam/workspaces", { name: "From CI", parent_workspace_id: root })).body["id"];
    const byKey = await newEvents();
    expect(byKey.map((e) => [e["action"], e["actor"]])).toEqual([
      ["workspace.created", { type: "api_key", id: key["id"], username: null, user_id: "ada" }],
      ["workspace.member_added", { type: "api_key", id: key["id"], username: null, user_id: "ada" }],
    ]);
    await call(ada, "DELETE", `/iam/workspaces/${child}`);
    await call(ada, "DELETE", `/iam/api-keys/${key["id"]}`);
    expect(await recorded()).toEqual([
      { action: "workspace.deleted", target: { type: "workspace", id: child, name: "From CI" }, changes: { members_removed: 1 } },
      { action: "api_key.revoked", target: keyTarget, changes: { owner: user("ada") } },
    ]);

    const bobsKey = (await call(bob, "POST", "/iam/api-keys", { name: "bobs" })).body;
    await newEvents();
    expect((await call(ada, "DELETE", `/iam/tenants/${acme}/members/bob`)).status).toBe(204);
    expect(await recorded()).toEqual([
      { action: "workspace.member_removed", target: rootTarget, changes: { member: user("bob"), role: role("admin", null) } },
      { action: "workspace.member_removed", target: { ...researchTarget, name: "Research" }, changes: { member: user("bob"), role: role("admin", null) } },
      { action: "api_key.revoked", target: { type: "api_key", id: bobsKey["id"], name: "bobs" }, changes: { owner: user("bob") } },
      {
        action: "tenant.member_removed",
        target: tenant,
        changes: { member: user("bob"), role: role("admin", null), cascade: { workspace_roles_removed: 2, group_roles_removed: 0, api_keys_revoked: 1 } },
      },
    ]);
  });

  it("names the actor and where the request came from", async () => {
    await call(ada, "POST", "/iam/groups", { name: "Context" });
    const [event] = (await call(ada, "GET", "/iam/audit-events?limit=1&action=group.created")).body["events"];
    expect(event).toMatchObject({
      tenant_id: acme,
      actor: { type: "user", id: "ada", username: "ada" },
      context: { request_id: expect.stringMatching(/^req-POST-/), ip: "127.0.0.1", user_agent: "audit-test/1.0" },
    });
    expect(event["occurred_at"]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(event["id"]).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  it("records invitations sent, changed and revoked, and names the user who signs in as the actor of what their sign-in binds", async () => {
    const tenant = { type: "tenant", id: acme, name: "Acme" };
    await newEvents();
    const invite = (email: string, role: string) => call(ada, "POST", `/iam/tenants/${acme}/members`, { email, role });
    expect((await invite("erin@example.com", "admin")).status).toBe(201);
    expect((await invite("erin@example.com", "member")).status).toBe(201);
    expect((await invite("erin@example.com", "member")).status).toBe(201); // the same again changes nothing
    expect((await invite("frank@example.com", "member")).status).toBe(201);
    expect((await call(ada, "DELETE", `/iam/tenants/${acme}/members/invitation:frank@example.com`)).status).toBe(204);
    expect(await recorded()).toEqual([
      { action: "tenant.invitation_created", target: tenant, changes: { email: "erin@example.com", role: { before: null, after: "admin" } } },
      { action: "tenant.invitation_created", target: tenant, changes: { email: "erin@example.com", role: { before: "admin", after: "member" } } },
      { action: "tenant.invitation_created", target: tenant, changes: { email: "frank@example.com", role: { before: null, after: "member" } } },
      { action: "tenant.invitation_revoked", target: tenant, changes: { email: "frank@example.com" } },
    ]);
    const erin = await stack.identity.sign({ sub: "erin", preferred_username: "erin", email: "erin@example.com", email_verified: true });
    expect((await call(erin, "GET", "/iam/workspaces")).status).toBe(200);
    const [joined] = (await call(ada, "GET", "/iam/audit-events?limit=1&action=tenant.member_added")).body["events"];
    expect(joined).toMatchObject({ actor: { type: "user", id: "erin", username: "erin" }, changes: { member: { type: "user", id: "erin" } } });
    seen = (await allEvents()).length;
  });

  it("records a user's first sign-in in the system scope, and a profile change there and in each of their tenants", async () => {
    const db = stack.database.handle.db;
    const systemEvents = async (userId: string) =>
      (await queryRows<{ action: string; body: Json }>(db, sql`SELECT action, body FROM audit_events WHERE tenant_id = 'system' AND target_id = ${userId} ORDER BY sequence`)).map(
        (row) => ({ action: row.action, actor: row.body["actor"], target: row.body["target"], changes: row.body["changes"] }),
      );
    const gina = await stack.identity.sign({ sub: "gina", preferred_username: "gina", email: "gina@example.com", name: "Gina" });
    expect((await call(gina, "GET", "/iam/tenants", undefined, null)).status).toBe(200);
    expect((await call(gina, "GET", "/iam/tenants", undefined, null)).status).toBe(200); // unchanged claims record nothing
    const ginaActor = { type: "user", id: "gina", username: "gina" };
    const ginaTarget = { type: "user", id: "gina", name: "gina" };
    expect(await systemEvents("gina")).toEqual([
      {
        action: "user.provisioned",
        actor: ginaActor,
        target: ginaTarget,
        changes: { username: { before: null, after: "gina" }, name: { before: null, after: "Gina" }, email: { before: null, after: "gina@example.com" } },
      },
    ]);
    await newEvents();
    expect((await call(ada, "POST", `/iam/tenants/${acme}/members`, { user_id: "gina", role: "member" })).status).toBe(201);
    await newEvents();
    const renamed = await stack.identity.sign({ sub: "gina", preferred_username: "gina", email: "gina@corp.example", name: "Gina" });
    expect((await call(renamed, "GET", "/iam/workspaces")).status).toBe(200);
    const changed = { action: "user.profile_changed", target: ginaTarget, changes: { email: { before: "gina@example.com", after: "gina@corp.example" } } };
    expect(await recorded()).toEqual([changed]);
    expect((await systemEvents("gina")).at(-1)).toEqual({ ...changed, actor: ginaActor });
    // A username another account holds is refused, and records nothing.
    const clash = await stack.identity.sign({ sub: "gina-2", preferred_username: "GINA" });
    expect((await call(clash, "GET", "/iam/tenants", undefined, null)).status).toBe(409);
    expect(await systemEvents("gina-2")).toEqual([]);
    await new AuditSealer(db, { sealed: () => undefined, purged: () => undefined, failed: (e) => { throw e; } }, { retentionDays: 0 }).runOnce();
    expect(await verifyChain(db, "system")).toMatchObject({ break: null });
  });

  it("records nothing for a request that fails", async () => {
    const before = (await allEvents()).length;
    expect((await call(ada, "POST", "/iam/groups", { name: "Dup" })).status).toBe(201);
    expect((await call(ada, "POST", "/iam/groups", { name: "Dup" })).status).toBe(409);
    const refused = await call(bob, "POST", "/iam/groups", { name: "Not a member" });
    expect(refused, JSON.stringify(refused.body)).toMatchObject({ status: 403 });
    expect((await allEvents()).length).toBe(before + 2); // group.created and its admin, once
    seen = before + 2;
  });

  it("pages newest first with an opaque cursor and filters by action, actor, target and time", async () => {
    const all = (await call(ada, "GET", "/iam/audit-events?limit=1000")).body["events"] as Json[];
    const pages: Json[] = [];
    let cursor: string | null = null;
    do {
      const page: Json = (await call(ada, "GET", `/iam/audit-events?limit=4${cursor ? `&cursor=${cursor}` : ""}`)).body;
      pages.push(...page["events"]);
      cursor = page["next_cursor"];
    } while (cursor !== null);
    expect(pages.map((e) => e["id"])).toEqual(all.map((e) => e["id"]));
    const only = async (query: string) => ((await call(ada, "GET", `/iam/audit-events?${query}`)).body["events"] as Json[]).map((e) => e["id"]);
    expect(await only("action=group.")).toEqual(all.filter((e) => e["action"].startsWith("group.")).map((e) => e["id"]));
    expect(await only("action=group.created")).toEqual(all.filter((e) => e["action"] === "group.created").map((e) => e["id"]));
    const someTarget = all.find((e) => e["target"]["type"] === "workspace")!["target"]["id"];
    expect(await only(`target_id=${someTarget}`)).toEqual(all.filter((e) => e["target"]["id"] === someTarget).map((e) => e["id"]));
    expect(await only("actor_id=bob")).toEqual(all.filter((e) => e["actor"]["id"] === "bob").map((e) => e["id"]));
    expect(await only("since=2999-01-01T00:00:00Z")).toEqual([]);
    expect(await only("until=2000-01-01T00:00:00%2B02:00")).toEqual([]);
    expect(await only("action=unknown.")).toEqual([]);
  });

  it("answers 422 in the list shape for malformed filters", async () => {
    for (const [query, field] of [
      ["since=yesterday", "since"],
      ["until=2026-12-01", "until"],
      ["limit=0", "limit"],
      ["limit=100000", "limit"],
      ["limit=ten", "limit"],
      ["cursor=a1.bm90LWEtbnVtYmVy", "cursor"],
      ["cursor=garbage", "cursor"],
    ] as const) {
      const response = await call(ada, "GET", `/iam/audit-events?${query}`);
      expect(response.status, query).toBe(422);
      expect(response.body["detail"].map((issue: Json) => issue["loc"]), query).toContainEqual(["query", field]);
    }
  });

  it("answers a time outside the years 0001-9999 with a 422 naming the parameter, before the database sees it", async () => {
    const reachedDatabase = async () =>
      /kartograph_validation_reached_database_total\{route="GET \/iam\/audit-events"\} (\d+)/.exec((await stack.app.server.inject({ method: "GET", url: "/metrics" })).body)?.[1] ?? "0";
    const before = await reachedDatabase();
    for (const [name, value] of [
      ["since", "0000-01-01T00:00:00Z"],
      ["until", "0000-12-31T23:59:59Z"],
      ["since", "0001-01-01T00:00:00%2B01:00"],
      ["until", "9999-12-31T23:00:00-05:00"],
    ] as const) {
      const response = await call(ada, "GET", `/iam/audit-events?${name}=${value}`);
      expect({ name, value, status: response.status, detail: response.body["detail"] }).toEqual({
        name,
        value,
        status: 422,
        detail: [{ type: "datetime_parsing", loc: ["query", name], msg: "Input should be a date and time in the years 0001 to 9999 (UTC)", input: decodeURIComponent(value) }],
      });
    }
    expect(await reachedDatabase()).toBe(before);
    // The edges themselves are times to filter by.
    expect((await call(ada, "GET", "/iam/audit-events?since=0001-01-01T00:00:00Z&until=9999-12-31T23:59:59.999Z")).status).toBe(200);
  });

  it("is for the tenant's admins only, and never shows another tenant's events", async () => {
    const carol = await token("carol");
    const other = (await call(carol, "POST", "/iam/tenants", { name: "Other" }, null)).body["id"];
    await call(ada, "POST", `/iam/tenants/${acme}/members`, { user_id: "carol", role: "member" });
    expect((await call(carol, "GET", "/iam/audit-events", undefined, acme)).status).toBe(403);
    expect((await call(ada, "GET", "/iam/audit-events", undefined, other)).status).toBe(403);
    const theirs = (await call(carol, "GET", "/iam/audit-events?limit=1000", undefined, other)).body["events"] as Json[];
    expect(theirs.length).toBeGreaterThan(0);
    expect(new Set(theirs.map((e) => e["tenant_id"]))).toEqual(new Set([other]));
    // An API key acts in its own tenant only, whatever the header says.
    const key = (await call(carol, "POST", "/iam/api-keys", { name: "k" }, other)).body["secret"];
    const viaKey = (await call(key, "GET", "/iam/audit-events?limit=1000", undefined, acme)).body["events"] as Json[];
    expect(new Set(viaKey.map((e) => e["tenant_id"]))).toEqual(new Set([other]));
  });

  it("keeps a deleted tenant's events, sealed into a chain that verifies", async () => {
    const dave = await token("dave");
    const doomed = (await call(dave, "POST", "/iam/tenants", { name: "Doomed" }, null)).body["id"];
    const deleted = await call(dave, "DELETE", `/iam/tenants/${doomed}`, undefined, doomed);
    expect(deleted, JSON.stringify(deleted.body)).toMatchObject({ status: 204 });
    const db = stack.database.handle.db;
    // The service's own sealer may hold the tenant's chain at this moment (this run then skips it):
    // seal until nothing of the tenant waits.
    const sealer = new AuditSealer(db, { sealed: () => undefined, purged: () => undefined, failed: (e) => { throw e; } }, { retentionDays: 0 });
    for (let attempt = 0; attempt < 100; attempt++) {
      await sealer.runOnce();
      const waiting = await queryRows(db, sql`SELECT 1 FROM audit_unsealed WHERE tenant_id = ${doomed}`);
      if (waiting.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const rows = await queryRows<{ action: string }>(db, sql`SELECT action FROM audit_events WHERE tenant_id = ${doomed} ORDER BY sequence`);
    expect(rows.map((r) => r.action).at(-1)).toBe("tenant.deleted");
    expect(await verifyChain(db, doomed)).toMatchObject({ verified: rows.length, break: null });
    expect(await verifyChain(db, acme)).toMatchObject({ break: null });
  });
});
