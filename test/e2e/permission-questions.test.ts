/**
 * Permission questions over HTTP, on both databases (and against a SpiceDB server in CI's third
 * configuration): bulk checks and "what can I access" answer in the current tenant only, for the
 * caller or, for tenant admins, another member; they are as fresh as every other check; bad
 * questions are 422s naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_DATABASE_KINDS } from "../support/test-database.js";
import { startTestStack, type TestStack } from "../support/test-stack.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const NO_SUCH_ID = "01JZ8Q6V3C4M8N2P5R7T9W1X3Y";

describe.each(TEST_DATABASE_KINDS)("permission questions on %s", (kind) => {
  let stack: TestStack;
  let ada: string;
  let bob: string;
  let carol: string;
  let acme: string;
  let other: string;
  let root: string;
  let research: string;
  let lab: string;
  let secret: string;
  let eng: string;

  const token = (user: string) => stack.identity.sign({ sub: user, preferred_username: user });
  const call = async (credential: string, method: string, url: string, payload?: object, tenant: string | null = acme) => {
    const auth = credential.startsWith("karto_") ? { "x-api-key": credential } : { authorization: `Bearer ${credential}` };
    const response = await stack.app.server.inject({
      method: method as "GET",
      url,
      headers: { ...auth, ...(tenant ? { "x-tenant-id": tenant } : {}) },
      ...(payload ? { payload } : {}),
    });
    return { status: response.statusCode, body: (response.body ? JSON.parse(response.body) : null) as Json };
  };
  const ok = async (credential: string, method: string, url: string, payload?: object, tenant: string | null = acme) => {
    const response = await call(credential, method, url, payload, tenant);
    expect(response.status, `${method} ${url}: ${JSON.stringify(response.body)}`).toBeLessThan(300);
    return response.body;
  };
  const check = (credential: string, checks: object[], subject?: object, tenant: string | null = acme) =>
    call(credential, "POST", "/iam/permissions/check", { checks, ...(subject ? { subject } : {}) }, tenant);
  const allowed = async (credential: string, checks: [string, string, string][], subject?: object) => {
    const response = await check(credential, checks.map(([resource_type, resource_id, permission]) => ({ resource_type, resource_id, permission })), subject);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return (response.body["results"] as Json[]).map((r) => r["allowed"]);
  };

  beforeAll(async () => {
    stack = await startTestStack(kind, { env: { KARTOGRAPH_IAM_SINGLE_TENANT_MODE: "false" } });
    [ada, bob, carol] = await Promise.all(["ada", "bob", "carol"].map(token)) as [string, string, string];
    acme = (await ok(ada, "POST", "/iam/tenants", { name: "Acme" }, null))["id"];
    other = (await ok(carol, "POST", "/iam/tenants", { name: "Other" }, null))["id"];
    await ok(bob, "GET", "/iam/tenants", undefined, null);
    await ok(ada, "POST", `/iam/tenants/${acme}/members`, { user_id: "bob", role: "member" });
    await ok(carol, "POST", `/iam/tenants/${other}/members`, { user_id: "bob", role: "member" }, other);
    root = (await ok(ada, "GET", "/iam/workspaces"))["workspaces"][0]["id"];
    research = (await ok(ada, "POST", "/iam/workspaces", { name: "Research", parent_workspace_id: root }))["id"];
    lab = (await ok(ada, "POST", "/iam/workspaces", { name: "Lab", parent_workspace_id: root }))["id"];
    await ok(ada, "POST", `/iam/workspaces/${research}/members`, { member_id: "bob", member_type: "user", role: "editor" });
    eng = (await ok(ada, "POST", "/iam/groups", { name: "Eng" }))["id"];
    await ok(ada, "POST", `/iam/groups/${eng}/members`, { user_id: "bob", role: "member" });
    await ok(ada, "POST", `/iam/workspaces/${lab}/members`, { member_id: eng, member_type: "group", role: "member" });
    // bob can edit a workspace of the other tenant too: questions asked in Acme never see it.
    const otherRoot = (await ok(carol, "GET", "/iam/workspaces", undefined, other))["workspaces"][0]["id"];
    secret = (await ok(carol, "POST", "/iam/workspaces", { name: "Secret", parent_workspace_id: otherRoot }, other))["id"];
    await ok(carol, "POST", `/iam/workspaces/${secret}/members`, { member_id: "bob", member_type: "user", role: "editor" }, other);
  });
  afterAll(() => stack?.close());

  it("answers each check in request order, and only of the current tenant's objects", async () => {
    expect(
      await allowed(bob, [
        ["workspace", research, "edit"],
        ["workspace", research, "manage"],
        ["workspace", lab, "view"],
        ["workspace", lab, "edit"],
        ["workspace", root, "create_child"],
        ["group", eng, "member"],
        ["group", eng, "manage"],
        ["tenant", acme, "view"],
        ["tenant", acme, "administrate"],
        ["workspace", secret, "edit"], // bob's right in the other tenant
        ["tenant", other, "view"],
        ["workspace", NO_SUCH_ID, "view"],
        ["workspace", research.toLowerCase(), "edit"],
      ]),
    ).toEqual([true, false, true, false, true, true, false, true, false, false, false, false, true]);
    // In the other tenant, the same question about Secret is answered.
    const there = await check(bob, [{ resource_type: "workspace", resource_id: secret, permission: "edit" }], undefined, other);
    expect(there.body["results"]).toEqual([{ resource_type: "workspace", resource_id: secret, permission: "edit", allowed: true }]);
  });

  it("lets tenant admins ask about another member, and nobody else", async () => {
    expect(await allowed(ada, [["workspace", research, "edit"], ["workspace", research, "manage"]], { type: "user", id: "bob" })).toEqual([true, false]);
    expect(await allowed(ada, [["workspace", research, "manage"]])).toEqual([true]);
    const asked = [{ resource_type: "workspace", resource_id: research, permission: "view" }];
    expect((await check(bob, asked, { type: "user", id: "ada" })).status).toBe(403);
    expect(await allowed(bob, [["workspace", research, "view"]], { type: "user", id: "bob" })).toEqual([true]);
    // carol exists, but not in Acme: the same 404 as for nobody at all.
    const notMember = await check(ada, asked, { type: "user", id: "carol" });
    const nobody = await check(ada, asked, { type: "user", id: "nobody" });
    expect([notMember.status, nobody.status]).toEqual([404, 404]);
    expect(notMember.body["detail"]).toBe("User carol not found in this tenant");
  });

  it("is as fresh as every other check: a grant and a removal are in effect at once", async () => {
    const manage: [string, string, string][] = [["workspace", research, "manage"]];
    expect(await allowed(bob, manage)).toEqual([false]);
    await ok(ada, "PATCH", `/iam/workspaces/${research}/members/bob?member_type=user`, { role: "admin" });
    expect(await allowed(bob, manage)).toEqual([true]);
    await ok(ada, "DELETE", `/iam/groups/${eng}/members/bob`);
    expect(await allowed(bob, [["workspace", lab, "view"], ["group", eng, "member"]])).toEqual([false, false]);
    await ok(ada, "PATCH", `/iam/workspaces/${research}/members/bob?member_type=user`, { role: "editor" });
    await ok(ada, "POST", `/iam/groups/${eng}/members`, { user_id: "bob", role: "member" });
    expect(await allowed(bob, [...manage, ["workspace", lab, "view"]])).toEqual([false, true]);
  });

  it("lists what a subject can access in the current tenant, sorted", async () => {
    const resources = async (credential: string, query: string, tenant: string = acme) => {
      const response = await call(credential, "GET", `/iam/permissions/resources?${query}`, undefined, tenant);
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      return response.body;
    };
    const bobViews = [research, lab].sort();
    expect(await resources(bob, "resource_type=workspace&permission=view")).toEqual({ resource_ids: bobViews, count: 2 });
    expect(await resources(bob, "resource_type=workspace&permission=edit")).toEqual({ resource_ids: [research], count: 1 });
    expect(await resources(ada, "resource_type=workspace&permission=view&subject_type=user&subject_id=bob")).toEqual({ resource_ids: bobViews, count: 2 });
    expect((await resources(ada, "resource_type=workspace&permission=manage"))["resource_ids"]).toEqual([root, research, lab].sort());
    expect(await resources(bob, "resource_type=group&permission=member")).toEqual({ resource_ids: [eng], count: 1 });
    expect(await resources(bob, "resource_type=tenant&permission=view")).toEqual({ resource_ids: [acme], count: 1 });
    expect(await resources(bob, "resource_type=workspace&permission=edit", other)).toEqual({ resource_ids: [secret], count: 1 });
    expect((await call(bob, "GET", "/iam/permissions/resources?resource_type=workspace&permission=view&subject_type=user&subject_id=ada")).status).toBe(403);
    expect((await call(ada, "GET", "/iam/permissions/resources?resource_type=workspace&permission=view&subject_type=user&subject_id=carol")).status).toBe(404);
  });

  it("answers an API key for its creator, in the key's own tenant", async () => {
    const key = (await ok(bob, "POST", "/iam/api-keys", { name: "questions" }))["secret"];
    expect(await allowed(key, [["workspace", research, "edit"], ["workspace", secret, "edit"]])).toEqual([true, false]);
    const viaHeader = await call(key, "POST", "/iam/permissions/check", { checks: [{ resource_type: "workspace", resource_id: secret, permission: "edit" }] }, other);
    expect(viaHeader.body["results"][0]["allowed"]).toBe(false);
  });

  it("reviews who can view a workspace, with their permissions and every path that grants them", async () => {
    const review = await ok(ada, "GET", `/iam/workspaces/${lab}/access`);
    expect(review).toEqual({
      users: [
        {
          user_id: "ada",
          username: "ada",
          permissions: ["view", "edit", "manage", "create_child"],
          via: [{ kind: "direct", role: "admin" }, { kind: "group", group_id: eng, group_name: "Eng", role: "member", group_role: "admin" }, { kind: "tenant_admin" }],
        },
        { user_id: "bob", username: "bob", permissions: ["view"], via: [{ kind: "group", group_id: eng, group_name: "Eng", role: "member", group_role: "member" }] },
      ],
      count: 2,
    });
    const group = await ok(ada, "GET", `/iam/groups/${eng}/access`);
    expect(group["users"]).toEqual([
      { user_id: "ada", username: "ada", permissions: ["view", "manage", "member"], via: [{ kind: "direct", role: "admin" }, { kind: "tenant_admin" }] },
      { user_id: "bob", username: "bob", permissions: ["view", "member"], via: [{ kind: "direct", role: "member" }] },
    ]);
  });

  it("agrees with SpiceDB: every reviewed permission is allowed, every other one refused", async () => {
    const users = ["ada", "bob", "carol"];
    const reviewed = async (type: "workspace" | "group", id: string, permissions: string[]) => {
      const review = await ok(ada, "GET", `/iam/${type}s/${id}/access`);
      for (const user of users) {
        const entry = (review["users"] as Json[]).find((u) => u["user_id"] === user);
        if (user === "carol") {
          expect(entry, "carol is not a member of Acme").toBeUndefined();
          continue;
        }
        const answers = await allowed(ada, permissions.map((p) => [type, id, p] as [string, string, string]), { type: "user", id: user });
        const granted = permissions.filter((_, i) => answers[i]);
        // The review lists who can view; someone unlisted may still create children of the root.
        if (entry === undefined) expect(granted, `${user} on ${type} ${id}`).not.toContain("view");
        else expect(granted, `${user} on ${type} ${id}`).toEqual(entry["permissions"]);
      }
    };
    for (const workspace of [root, research, lab]) await reviewed("workspace", workspace, ["view", "edit", "manage", "create_child"]);
    await reviewed("group", eng, ["view", "manage", "member"]);
  });

  it("lets only those who manage the object, or tenant admins, review it", async () => {
    // bob edits Research but does not manage it: 403; he cannot view the root workspace: 404.
    expect((await call(bob, "GET", `/iam/workspaces/${research}/access`)).status).toBe(403);
    expect((await call(bob, "GET", `/iam/workspaces/${root}/access`)).status).toBe(404);
    expect((await call(bob, "GET", `/iam/groups/${eng}/access`)).status).toBe(403);
    // Another tenant's workspace is not found in Acme, even for bob who edits it there.
    expect((await call(bob, "GET", `/iam/workspaces/${secret}/access`)).status).toBe(404);
    expect((await call(ada, "GET", `/iam/workspaces/${secret}/access`)).status).toBe(404);
    expect((await call(ada, "GET", `/iam/workspaces/${NO_SUCH_ID}/access`)).status).toBe(404);
    expect((await call(ada, "GET", "/iam/workspaces/not-a-ulid/access")).status).toBe(400);
    // A tenant admin without a role on the workspace may review it; one who manages it too.
    await ok(ada, "PATCH", `/iam/workspaces/${research}/members/bob?member_type=user`, { role: "admin" });
    expect((await call(bob, "GET", `/iam/workspaces/${research}/access`)).status).toBe(200);
    await ok(ada, "PATCH", `/iam/workspaces/${research}/members/bob?member_type=user`, { role: "editor" });
    expect((await call(bob, "GET", `/iam/workspaces/${research}/access`)).status).toBe(403);
  });

  it("explains a decision in the review's terms, or says what would grant it", async () => {
    const explain = async (credential: string, query: string) => {
      const response = await call(credential, "GET", `/iam/permissions/explain?${query}`);
      return { status: response.status, body: response.body };
    };
    expect((await explain(ada, `resource_type=workspace&resource_id=${lab}&permission=view&subject_type=user&subject_id=bob`)).body).toEqual({
      allowed: true,
      paths: [{ kind: "group", group_id: eng, group_name: "Eng", role: "member", group_role: "member" }],
      would_grant: null,
    });
    expect((await explain(bob, `resource_type=workspace&resource_id=${lab}&permission=edit`)).body).toEqual({
      allowed: false,
      paths: [],
      would_grant: "editor or admin on this workspace, directly or through a group",
    });
    expect((await explain(ada, `resource_type=workspace&resource_id=${research}&permission=view`)).body["paths"]).toEqual([
      { kind: "direct", role: "admin" },
      { kind: "tenant_admin" },
    ]);
    expect((await explain(bob, `resource_type=workspace&resource_id=${root}&permission=create_child`)).body).toEqual({
      allowed: true,
      paths: [{ kind: "tenant_member" }],
      would_grant: null,
    });
    expect((await explain(bob, `resource_type=tenant&resource_id=${acme}&permission=administrate`)).body).toMatchObject({ allowed: false, would_grant: "tenant admin" });
    // Others' decisions are for tenant admins; an object the caller cannot reach is not found.
    expect((await explain(bob, `resource_type=workspace&resource_id=${lab}&permission=view&subject_type=user&subject_id=ada`)).status).toBe(403);
    expect((await explain(carol, `resource_type=workspace&resource_id=${lab}&permission=view`)).status).toBe(403); // not a member of Acme
    const lonely = (await ok(ada, "POST", "/iam/workspaces", { name: "Lonely", parent_workspace_id: root }))["id"];
    expect((await explain(bob, `resource_type=workspace&resource_id=${lonely}&permission=view`)).status).toBe(404);
    expect((await explain(ada, `resource_type=workspace&resource_id=${lonely}&permission=view&subject_type=user&subject_id=bob`)).body).toMatchObject({ allowed: false });
    expect((await explain(ada, `resource_type=workspace&resource_id=${secret}&permission=view`)).status).toBe(404);
    for (const [query, loc] of [
      [`resource_type=workspace&resource_id=${lab}&permission=revoke`, ["query", "permission"]],
      [`resource_type=api_key&resource_id=${lab}&permission=view`, ["query", "resource_type"]],
      [`resource_type=workspace&resource_id=nope&permission=view`, ["query", "resource_id"]],
    ] as const) {
      const response = await explain(ada, query);
      expect(response.status, query).toBe(422);
      expect((response.body["detail"] as Json[]).map((issue) => issue["loc"])).toContainEqual(loc);
    }
  });

  it("refuses malformed questions with a 422 that names the field", async () => {
    const item = { resource_type: "workspace", resource_id: research, permission: "view" };
    const cases: [object, (string | number)[]][] = [
      [{ checks: [] }, ["body", "checks"]],
      [{ checks: Array.from({ length: 101 }, () => item) }, ["body", "checks"]],
      [{ checks: [{ ...item, permission: "administrate" }] }, ["body", "checks", 0, "permission"]],
      [{ checks: [item, { ...item, resource_type: "knowledge_graph" }] }, ["body", "checks", 1, "resource_type"]],
      [{ checks: [{ ...item, resource_id: "not-a-ulid" }] }, ["body", "checks", 0, "resource_id"]],
      [{ checks: [item], subject: { type: "group", id: eng } }, ["body", "subject", "type"]],
      [{}, ["body", "checks"]],
    ];
    for (const [payload, loc] of cases) {
      const response = await call(ada, "POST", "/iam/permissions/check", payload);
      expect(response.status, JSON.stringify(payload).slice(0, 80)).toBe(422);
      expect((response.body["detail"] as Json[]).map((issue) => issue["loc"]), JSON.stringify(response.body)).toContainEqual(loc);
    }
    for (const [query, loc] of [
      ["resource_type=workspace&permission=revoke", ["query", "permission"]],
      ["resource_type=data_source&permission=view", ["query", "resource_type"]],
      ["permission=view", ["query", "resource_type"]],
      ["resource_type=workspace&permission=view&subject_type=user", ["query", "subject_id"]],
    ] as const) {
      const response = await call(ada, "GET", `/iam/permissions/resources?${query}`);
      expect(response.status, query).toBe(422);
      expect((response.body["detail"] as Json[]).map((issue) => issue["loc"]), JSON.stringify(response.body)).toContainEqual(loc);
    }
  });
});
