/**
 * A property test over generated tenants (users, tenant admins, groups with members and admins,
 * workspaces granted to users and groups): the answers of `POST /iam/permissions/check`,
 * `GET /iam/permissions/explain`, `GET /iam/permissions/resources` and the access reviews agree, question by question, with an
 * evaluation of DESIGN.md's rules written here, independently of the service and of SpiceDB's
 * schema. Every disagreement is collected and reported; there must be none.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_DATABASE_KINDS } from "../support/test-database.js";
import { startTestStack, type TestStack } from "../support/test-stack.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type WorkspaceRole = "admin" | "editor" | "member";
type GroupRole = "admin" | "member";

/** A generated tenant. User 0 creates the tenant and everything in it (so administers all of it). */
interface World {
  readonly admins: readonly boolean[]; // users 1..3: tenant admin or plain member
  readonly groups: readonly { readonly members: readonly (GroupRole | null)[] }[]; // roles of users 1..3
  readonly workspaces: readonly {
    readonly users: readonly (WorkspaceRole | null)[]; // direct roles of users 1..3
    readonly groups: readonly (WorkspaceRole | null)[]; // roles of each group
  }[];
}

const OTHERS = 3;
const workspaceRole = fc.constantFrom<WorkspaceRole | null>(null, null, "admin", "editor", "member");
const worlds: fc.Arbitrary<World> = fc.integer({ min: 0, max: 3 }).chain((groupCount) =>
  fc.record({
    admins: fc.array(fc.boolean(), { minLength: OTHERS, maxLength: OTHERS }),
    groups: fc.array(fc.record({ members: fc.array(fc.constantFrom<GroupRole | null>(null, "admin", "member"), { minLength: OTHERS, maxLength: OTHERS }) }), {
      minLength: groupCount,
      maxLength: groupCount,
    }),
    workspaces: fc.array(
      fc.record({
        users: fc.array(workspaceRole, { minLength: OTHERS, maxLength: OTHERS }),
        groups: fc.array(workspaceRole, { minLength: groupCount, maxLength: groupCount }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  }),
);

/** DESIGN.md's rules, evaluated on the generated world. `user` 0 is the creator. */
function expected(world: World, user: number) {
  const tenantAdmin = user === 0 || world.admins[user - 1] === true;
  const groupRole = (g: number): GroupRole | null => (user === 0 ? "admin" : (world.groups[g]?.members[user - 1] ?? null));
  const workspaceRoles = (w: number): WorkspaceRole[] => {
    const roles: WorkspaceRole[] = [];
    if (user === 0) roles.push("admin"); // the creator
    const direct = world.workspaces[w]?.users[user - 1];
    if (user > 0 && direct) roles.push(direct);
    world.workspaces[w]?.groups.forEach((role, g) => {
      if (role && groupRole(g) !== null) roles.push(role);
    });
    return roles;
  };
  return {
    tenant: { view: true, manage: tenantAdmin, administrate: tenantAdmin, create_api_key: true },
    // The root: tenant admins are its admins; every member may create children there.
    root: { view: tenantAdmin, edit: tenantAdmin, manage: tenantAdmin, create_child: true },
    workspace: (w: number) => {
      const roles = workspaceRoles(w);
      const edit = roles.includes("admin") || roles.includes("editor");
      return { view: roles.length > 0 || tenantAdmin, edit, manage: roles.includes("admin"), create_child: edit };
    },
    group: (g: number) => {
      const role = groupRole(g);
      return { view: role !== null || tenantAdmin, manage: role === "admin", member: role !== null };
    },
  };
}

describe.each(TEST_DATABASE_KINDS)("permission questions against DESIGN.md's rules on %s", (kind) => {
  let stack: TestStack;
  let run = 0;
  let cases = 0;
  const disagreements: string[] = [];

  const call = async (user: string, method: string, url: string, payload?: object, tenant?: string) => {
    const token = await stack.identity.sign({ sub: user, preferred_username: user });
    const response = await stack.app.server.inject({
      method: method as "GET",
      url,
      headers: { authorization: `Bearer ${token}`, ...(tenant ? { "x-tenant-id": tenant } : {}) },
      ...(payload ? { payload } : {}),
    });
    if (response.statusCode >= 300) throw new Error(`${method} ${url} answered ${response.statusCode}: ${response.body}`);
    return (response.body ? JSON.parse(response.body) : null) as Json;
  };

  beforeAll(async () => {
    stack = await startTestStack(kind, { env: { KARTOGRAPH_IAM_SINGLE_TENANT_MODE: "false" } });
  });
  afterAll(() => stack?.close());

  /** Builds the world through the API; returns the ids of what it made. */
  async function build(world: World) {
    run++;
    const users = Array.from({ length: OTHERS + 1 }, (_, i) => `r${run}-u${i}`);
    const owner = users[0] as string;
    for (const user of users) await call(user, "GET", "/iam/tenants");
    const tenant = (await call(owner, "POST", "/iam/tenants", { name: `World ${run}` }))["id"] as string;
    const as = (method: string, url: string, payload?: object) => call(owner, method, url, payload, tenant);
    for (let i = 1; i <= OTHERS; i++) await as("POST", `/iam/tenants/${tenant}/members`, { user_id: users[i], role: world.admins[i - 1] ? "admin" : "member" });
    const root = (await as("GET", "/iam/workspaces"))["workspaces"][0]["id"] as string;
    const groups: string[] = [];
    for (const [g, group] of world.groups.entries()) {
      const id = (await as("POST", "/iam/groups", { name: `g${g}` }))["id"] as string;
      groups.push(id);
      for (const [i, role] of group.members.entries()) if (role) await as("POST", `/iam/groups/${id}/members`, { user_id: users[i + 1], role });
    }
    const workspaces: string[] = [];
    for (const [w, workspace] of world.workspaces.entries()) {
      const id = (await as("POST", "/iam/workspaces", { name: `w${w}`, parent_workspace_id: root }))["id"] as string;
      workspaces.push(id);
      for (const [i, role] of workspace.users.entries()) if (role) await as("POST", `/iam/workspaces/${id}/members`, { member_id: users[i + 1], member_type: "user", role });
      for (const [g, role] of workspace.groups.entries()) if (role) await as("POST", `/iam/workspaces/${id}/members`, { member_id: groups[g], member_type: "group", role });
    }
    return { users, owner, tenant, root, groups, workspaces, as };
  }

  it("agrees on check, explain, resources and access reviews in every generated case", { timeout: 900_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(worlds, async (world) => {
        const made = await build(world);
        const differ = (what: string, actual: unknown, wanted: unknown) => {
          cases++;
          if (JSON.stringify(actual) !== JSON.stringify(wanted)) disagreements.push(`${what}: service ${JSON.stringify(actual)}, rules ${JSON.stringify(wanted)}`);
        };
        const objects: { type: string; id: string; rules: (user: number) => Record<string, boolean> }[] = [
          { type: "tenant", id: made.tenant, rules: (u) => expected(world, u).tenant },
          { type: "workspace", id: made.root, rules: (u) => expected(world, u).root },
          ...made.workspaces.map((id, w) => ({ type: "workspace", id, rules: (u: number) => expected(world, u).workspace(w) })),
          ...made.groups.map((id, g) => ({ type: "group", id, rules: (u: number) => expected(world, u).group(g) })),
        ];
        for (const [u, user] of made.users.entries()) {
          // check: every permission of every object, in one bulk call per user
          const checks = objects.flatMap((o) => Object.keys(o.rules(u)).map((permission) => ({ resource_type: o.type, resource_id: o.id, permission })));
          const answers = (await made.as("POST", "/iam/permissions/check", { checks, subject: { type: "user", id: user } }))["results"] as Json[];
          checks.forEach((c, i) => {
            const object = objects.find((o) => o.id === c.resource_id);
            differ(`check ${user} ${c.permission} on ${c.resource_type} ${c.resource_id}`, answers[i]?.["allowed"], object?.rules(u)[c.permission]);
          });
          // explain: the same decision as check, with a reason for every allowed one
          for (const c of checks) {
            const query = `resource_type=${c.resource_type}&resource_id=${c.resource_id}&permission=${c.permission}&subject_type=user&subject_id=${user}`;
            const explained = await made.as("GET", `/iam/permissions/explain?${query}`);
            const wanted = objects.find((o) => o.id === c.resource_id)?.rules(u)[c.permission];
            differ(`explain ${user} ${c.permission} on ${c.resource_type} ${c.resource_id}`, [explained["allowed"], explained["paths"].length > 0], [wanted, wanted]);
          }
          // resources: every type and permission
          for (const [type, permissions] of [["workspace", ["view", "edit", "manage", "create_child"]], ["group", ["view", "manage", "member"]]] as const) {
            for (const permission of permissions) {
              const query = `resource_type=${type}&permission=${permission}&subject_type=user&subject_id=${user}`;
              const ids = (await made.as("GET", `/iam/permissions/resources?${query}`))["resource_ids"];
              const wanted = objects.filter((o) => o.type === type && o.rules(u)[permission]).map((o) => o.id).sort();
              differ(`resources ${user} ${type} ${permission}`, ids, wanted);
            }
          }
        }
        // access reviews: who can view, with which permissions
        for (const object of objects.filter((o) => o.type !== "tenant")) {
          const review = (await made.as("GET", `/iam/${object.type}s/${object.id}/access`))["users"] as Json[];
          const actual = Object.fromEntries(review.map((entry) => [entry["user_id"], entry["permissions"]]));
          const wanted = Object.fromEntries(
            made.users.flatMap((user, u) => {
              const rules = object.rules(u);
              return rules["view"] ? [[user, Object.keys(rules).filter((p) => rules[p])]] : [];
            }),
          );
          differ(`access ${object.type} ${object.id}`, actual, wanted);
        }
      }),
      { numRuns: 12 },
    );
    expect(disagreements.slice(0, 20)).toEqual([]);
    expect(cases).toBeGreaterThanOrEqual(1_000);
    console.log(`permission questions on ${kind}: ${cases} cases over ${run} generated tenants, ${disagreements.length} disagreements`);
  });
});
