/**
 * SCIM 2.0 groups over HTTP, on both databases, and the two provisioning sequences real
 * directories send, written from Okta's and Microsoft Entra ID's published SCIM request examples:
 * create users, create a group, add and remove members, rename, deactivate, delete. A directory's
 * group can hold workspace roles, so its membership drives workspace access at once.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/platform/database/database.js";
import { TEST_DATABASE_KINDS } from "../support/test-database.js";
import { startTestStack, type TestStack } from "../support/test-stack.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- SCIM bodies are read several levels deep in assertions
type Json = Record<string, any>;

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

describe.each(TEST_DATABASE_KINDS)("SCIM groups on %s", (kind) => {
  let stack: TestStack;
  let acme: string;
  let ada: string;
  let scim: string;
  let root: string;

  const call = async (bearer: string, method: string, url: string, payload?: object) => {
    const response = await stack.app.server.inject({
      method: method as "GET",
      url,
      headers: { authorization: `Bearer ${bearer}`, "x-tenant-id": acme },
      ...(payload ? { payload } : {}),
    });
    return { status: response.statusCode, body: (response.body ? JSON.parse(response.body) : null) as Json };
  };
  const scimCall = async (method: string, url: string, payload?: unknown, headers: Record<string, string> = {}) => {
    const response = await stack.app.server.inject({
      method: method as "GET",
      url: `/scim/v2${url}`,
      headers: { authorization: `Bearer ${scim}`, ...(payload === undefined ? {} : { "content-type": "application/scim+json" }), ...headers },
      ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
    });
    return { status: response.statusCode, headers: response.headers, body: (response.body ? JSON.parse(response.body) : null) as Json };
  };
  const patchGroup = (id: string, operations: Json[]) => scimCall("PATCH", `/Groups/${id}`, { schemas: [PATCH], Operations: operations });
  const memberIds = async (id: string) => ((await scimCall("GET", `/Groups/${id}`)).body["members"] as Json[]).map((member) => member["value"]).sort();
  const newUser = async (userName: string) =>
    String((await scimCall("POST", "/Users", { schemas: [USER], userName, name: { givenName: "G", familyName: userName } })).body["id"]);

  beforeAll(async () => {
    stack = await startTestStack(kind, { env: { KARTOGRAPH_IAM_SINGLE_TENANT_MODE: "false" } });
    ada = await stack.identity.sign({ sub: "ada", preferred_username: "ada" });
    const created = await stack.app.server.inject({ method: "POST", url: "/iam/tenants", headers: { authorization: `Bearer ${ada}` }, payload: { name: "acme" } });
    acme = String(JSON.parse(created.body)["id"]);
    scim = String((await call(ada, "POST", "/iam/scim-tokens", { name: "directory" })).body["secret"]);
    root = String(((await call(ada, "GET", "/iam/workspaces")).body["workspaces"] as Json[])[0]?.["id"]);
  });
  afterAll(() => stack?.close());

  it("replays Okta's provisioning sequence", async () => {
    // Okta looks the user up first, then creates them.
    expect((await scimCall("GET", `/Users?filter=${encodeURIComponent('userName eq "okta.user@example.com"')}&startIndex=1&count=100`)).body).toMatchObject({
      totalResults: 0,
      Resources: [],
    });
    const created = await scimCall("POST", "/Users", {
      schemas: [USER],
      userName: "okta.user@example.com",
      name: { givenName: "Okta", familyName: "User" },
      emails: [{ primary: true, value: "okta.user@example.com", type: "work" }],
      displayName: "Okta User",
      locale: "en-US",
      externalId: "00ujl29u0le5T6Aj10h7",
      groups: [],
      password: "1mz050nq",
      active: true,
    });
    expect(created.status).toBe(201);
    const userId = String(created.body["id"]);
    expect(JSON.stringify(created.body)).not.toContain("1mz050nq");
    expect((await scimCall("GET", `/Users/${userId}`)).body["userName"]).toBe("okta.user@example.com");
    // A profile push is a PUT of the whole user.
    const put = await scimCall("PUT", `/Users/${userId}`, { ...created.body, name: { givenName: "Okta", familyName: "Renamed" }, meta: undefined });
    expect(put.status).toBe(200);
    expect(put.body["name"]).toMatchObject({ familyName: "Renamed" });

    // Push Groups: create empty, add the member, rename (Okta sends the id in the value), remove.
    const group = await scimCall("POST", "/Groups", { schemas: [GROUP], displayName: "Okta Engineering", members: [] });
    expect(group.status).toBe(201);
    const groupId = String(group.body["id"]);
    expect(group.headers["location"]).toBe(group.body["meta"]["location"]);
    expect((await patchGroup(groupId, [{ op: "add", path: "members", value: [{ value: userId, display: "okta.user@example.com" }] }])).status).toBe(200);
    expect(await memberIds(groupId)).toEqual([userId]);
    const renamed = await patchGroup(groupId, [{ op: "replace", value: { id: groupId, displayName: "Okta Eng" } }]);
    expect(renamed.body).toMatchObject({ id: groupId, displayName: "Okta Eng" });
    expect((await patchGroup(groupId, [{ op: "remove", path: `members[value eq "${userId}"]` }])).status).toBe(200);
    expect(await memberIds(groupId)).toEqual([]);
    expect((await scimCall("GET", "/Groups?startIndex=1&count=100")).body["Resources"].map((g: Json) => g["displayName"])).toContain("Okta Eng");

    // Deactivation, then the group goes.
    expect((await scimCall("PATCH", `/Users/${userId}`, { schemas: [PATCH], Operations: [{ op: "replace", value: { active: false } }] })).body["active"]).toBe(false);
    expect((await scimCall("DELETE", `/Groups/${groupId}`)).status).toBe(204);
    expect((await scimCall("GET", `/Groups/${groupId}`)).status).toBe(404);
  });

  it("replays Entra ID's provisioning sequence", async () => {
    expect((await scimCall("GET", `/Users?filter=${encodeURIComponent('userName eq "Test_User_ab6490ee"')}`)).body["totalResults"]).toBe(0);
    const created = await scimCall("POST", "/Users", {
      schemas: [USER, ENTERPRISE],
      externalId: "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
      userName: "Test_User_ab6490ee",
      active: true,
      emails: [{ primary: true, type: "work", value: "Test_User_fd0ea19b@testuser.com" }],
      meta: { resourceType: "User" },
      name: { formatted: "givenName familyName", familyName: "familyName", givenName: "givenName" },
      roles: [],
      [ENTERPRISE]: { department: "Engineering" },
    });
    expect(created.status).toBe(201);
    const userId = String(created.body["id"]);
    expect((await scimCall("GET", `/Users?filter=${encodeURIComponent('externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"')}`)).body["Resources"][0]["id"]).toBe(userId);
    const updated = await scimCall("PATCH", `/Users/${userId}`, {
      schemas: [PATCH],
      Operations: [
        { op: "Replace", path: 'emails[type eq "work"].value', value: "updatedEmail@microsoft.com" },
        { op: "Replace", path: "name.familyName", value: "updatedFamilyName" },
      ],
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ emails: [{ value: "updatedEmail@microsoft.com", type: "work", primary: true }], name: { familyName: "updatedFamilyName" } });

    const group = await scimCall("POST", "/Groups", {
      schemas: [GROUP],
      externalId: "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
      displayName: "displayName",
      meta: { resourceType: "Group" },
    });
    expect(group.status).toBe(201);
    const groupId = String(group.body["id"]);
    const found = await scimCall("GET", `/Groups?excludedAttributes=members&filter=${encodeURIComponent('displayName eq "displayName"')}`);
    expect(found.body["Resources"]).toEqual([expect.objectContaining({ id: groupId, externalId: "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159" })]);
    expect(found.body["Resources"][0]["members"]).toBeUndefined();
    expect((await patchGroup(groupId, [{ op: "Add", path: "members", value: [{ $ref: null, value: userId }] }])).status).toBe(200);
    expect(await memberIds(groupId)).toEqual([userId]);
    expect((await scimCall("GET", `/Groups?filter=${encodeURIComponent(`members.value eq "${userId}"`)}`)).body["totalResults"]).toBe(1);
    expect((await patchGroup(groupId, [{ op: "Remove", path: "members", value: [{ $ref: null, value: userId }] }])).status).toBe(200);
    expect(await memberIds(groupId)).toEqual([]);
    expect((await patchGroup(groupId, [{ op: "Replace", path: "displayName", value: "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName" }])).body["displayName"]).toBe(
      "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName",
    );

    expect((await scimCall("PATCH", `/Users/${userId}`, { schemas: [PATCH], Operations: [{ op: "Replace", path: "active", value: false }] })).body["active"]).toBe(false);
    expect((await scimCall("DELETE", `/Users/${userId}`)).status).toBe(204);
    expect((await scimCall("DELETE", `/Groups/${groupId}`)).status).toBe(204);
  });

  it("drives workspace access through directory membership, at once", async () => {
    const ben = await stack.identity.sign({ sub: "00u-ben", preferred_username: "ben" });
    const benId = await newUser("ben");
    expect((await call(ben, "GET", "/iam/users/me")).body["id"]).toBe(benId);
    const workspace = String((await call(ada, "POST", "/iam/workspaces", { name: "research", parent_workspace_id: root })).body["id"]);
    const group = String((await scimCall("POST", "/Groups", { schemas: [GROUP], displayName: "research-team", members: [] })).body["id"]);
    expect((await call(ada, "POST", `/iam/workspaces/${workspace}/members`, { member_id: group, member_type: "group", role: "editor" })).status).toBe(201);
    expect((await call(ben, "GET", `/iam/workspaces/${workspace}`)).status).toBe(404);

    expect((await patchGroup(group, [{ op: "add", path: "members", value: [{ value: benId }] }])).status).toBe(200);
    expect((await call(ben, "GET", `/iam/workspaces/${workspace}`)).status).toBe(200);
    expect((await patchGroup(group, [{ op: "remove", path: `members[value eq "${benId}"]` }])).status).toBe(200);
    expect((await call(ben, "GET", `/iam/workspaces/${workspace}`)).status).toBe(404);

    // A deactivated user leaves the directory's groups with the tenant.
    expect((await patchGroup(group, [{ op: "add", path: "members", value: [{ value: benId }] }])).status).toBe(200);
    expect((await scimCall("PATCH", `/Users/${benId}`, { schemas: [PATCH], Operations: [{ op: "replace", path: "active", value: false }] })).status).toBe(200);
    expect(await memberIds(group)).toEqual([]);
  });

  it("keeps the IAM API from changing a directory group's members, and says why", async () => {
    const cid = await newUser("cid");
    const group = String((await scimCall("POST", "/Groups", { schemas: [GROUP], displayName: "owned", members: [{ value: cid }] })).body["id"]);
    const listed = (await call(ada, "GET", `/iam/groups/${group}/members`)).body as unknown as Json[];
    expect(listed.map((member) => member["user_id"])).toEqual([cid]);
    const add = await call(ada, "POST", `/iam/groups/${group}/members`, { user_id: "ada", role: "member" });
    expect(add.status).toBe(409);
    expect(add.body["detail"]).toContain("directory");
    expect((await call(ada, "DELETE", `/iam/groups/${group}/members/${cid}`)).status).toBe(409);
    expect((await call(ada, "PATCH", `/iam/groups/${group}/members/${cid}`, { role: "admin" })).status).toBe(409);
    expect(await memberIds(group)).toEqual([cid]);
    // Groups made through the IAM API are not the directory's.
    const own = String((await call(ada, "POST", "/iam/groups", { name: "hand-made" })).body["id"]);
    expect((await scimCall("GET", `/Groups/${own}`)).status).toBe(404);
    expect((await scimCall("DELETE", `/Groups/${own}`)).status).toBe(404);
    expect((await scimCall("POST", "/Groups", { schemas: [GROUP], displayName: "hand-made" })).body).toMatchObject({ status: "409", scimType: "uniqueness" });
  });

  it("refuses members who are not users of the tenant, bad bodies and stale versions, and writes nothing", async () => {
    const dee = await newUser("dee");
    const created = await scimCall("POST", "/Groups", { schemas: [GROUP], displayName: "careful", members: [{ value: dee }] });
    const id = String(created.body["id"]);
    const cases: [string, string, unknown, number, string | undefined][] = [
      ["POST", "/Groups", { schemas: [GROUP], displayName: "x1", members: [{ value: "nobody" }] }, 400, "invalidValue"],
      ["POST", "/Groups", { schemas: [GROUP], displayName: "" }, 400, "invalidValue"],
      ["POST", "/Groups", { schemas: [GROUP], displayName: "x4", externalId: "e".repeat(256) }, 400, "invalidValue"],
      ["PUT", `/Groups/${id}`, { schemas: [GROUP], displayName: "careful", externalId: "e".repeat(256), members: [{ value: dee }] }, 400, "invalidValue"],
      ["POST", "/Groups", { schemas: [USER], displayName: "x2" }, 400, "invalidValue"],
      ["POST", "/Groups", { schemas: [GROUP], displayName: "x3", members: [{ display: "no value" }] }, 400, "invalidValue"],
      ["PATCH", `/Groups/${id}`, { schemas: [PATCH], Operations: [{ op: "add", path: "members", value: [{ value: "ada-nope" }] }] }, 400, "invalidValue"],
      ["PATCH", `/Groups/${id}`, { schemas: [PATCH], Operations: [{ op: "add", path: "owners", value: "x" }] }, 400, "invalidPath"],
      ["PATCH", `/Groups/${id}`, { schemas: [PATCH], Operations: [{ op: "replace", path: "id", value: "x" }] }, 400, "mutability"],
      ["PATCH", "/Groups/01ARZ3NDEKTSV4RRFFQ69G5FAV", { schemas: [PATCH], Operations: [{ op: "replace", path: "displayName", value: "y" }] }, 404, undefined],
    ];
    for (const [method, url, body, status, scimType] of cases) {
      const answer = await scimCall(method, url, body);
      expect({ url, body, status: answer.status, scimType: answer.body["scimType"] }).toEqual({ url, body, status, scimType });
    }
    const stale = await scimCall("PUT", `/Groups/${id}`, { schemas: [GROUP], displayName: "careful", members: [] }, { "if-match": 'W/"stale"' });
    expect(stale.status).toBe(412);
    expect(await memberIds(id)).toEqual([dee]);
    expect((await scimCall("GET", `/Groups?filter=${encodeURIComponent('displayName sw "x"')}`)).body["totalResults"]).toBe(0);
    expect((await scimCall("GET", `/Groups?filter=${encodeURIComponent('owner eq "x"')}`)).body).toMatchObject({ status: "400", scimType: "invalidFilter" });
    for (const filter of ['meta.created lt "-271821-04-20T00:00:00Z"', 'meta.lastModified gt "0000-01-01T00:00:00Z"', 'meta.lastModified le "+275760-09-13T00:00:00Z"']) {
      const answer = await scimCall("GET", `/Groups?filter=${encodeURIComponent(filter)}`);
      expect({ filter, status: answer.status, scimType: answer.body["scimType"] }).toEqual({ filter, status: 400, scimType: "invalidFilter" });
    }
    // Repeated list parameters are refused by name, as a repeated count always was.
    expect((await scimCall("GET", "/Groups?filter=a&filter=b")).body).toMatchObject({ status: "400", scimType: "invalidFilter", detail: "filter must be given once, not 2 times" });
    for (const url of ["/Groups?excludedAttributes=members&excludedAttributes=x", `/Groups/${id}?excludedAttributes=members&excludedAttributes=members`]) {
      expect((await scimCall("GET", url)).body).toMatchObject({ status: "400", scimType: "invalidValue", detail: "excludedAttributes must be given once, not 2 times" });
    }
  });

  it("empties members on a replace with null, refuses an add of null, and changes nothing then", async () => {
    const eve = await newUser("eve");
    const id = String((await scimCall("POST", "/Groups", { schemas: [GROUP], displayName: "nullable", members: [{ value: eve }] })).body["id"]);
    const before = await scimCall("GET", `/Groups/${id}`);
    const cases: [Json, string, string][] = [
      [{ op: "add", path: `members[value eq "${eve}"]`, value: null }, "invalidValue", `Operations[0]: add needs a value; to clear "members[value eq "${eve}"]", use remove, or replace with null`],
      [{ op: "replace", path: "displayName", value: null }, "invalidValue", "displayName is required"],
      [{ op: "add", path: `members[value eq "${eve}"].value.x`, value: "x" }, "invalidPath", `Operations[0]: "members[value eq "${eve}"].value.x" does not lead to an attribute that can take this value`],
    ];
    for (const [operation, scimType, detail] of cases) {
      const answer = await patchGroup(id, [operation]);
      expect({ operation, status: answer.status, scimType: answer.body["scimType"], detail: answer.body["detail"] }).toEqual({ operation, status: 400, scimType, detail });
    }
    expect((await scimCall("GET", `/Groups/${id}`)).body).toEqual(before.body);
    const emptied = await patchGroup(id, [{ op: "replace", path: "members", value: null }]);
    expect({ status: emptied.status, members: emptied.body["members"] }).toEqual({ status: 200, members: [] });
    expect(await memberIds(id)).toEqual([]);
  });

  it("sets 10,000 members in one PATCH", { timeout: 120_000 }, async () => {
    // The users join the tenant directly in the tables: provisioning them one by one is the bench's job.
    const db = stack.database.handle.db;
    await queryRows(db, sql`INSERT INTO users (id, username) SELECT 'bulk-' || g, 'bulk-' || g FROM generate_series(1, 10000) g`);
    await queryRows(db, sql`INSERT INTO tenant_members (tenant_id, user_id, role) SELECT ${acme}, 'bulk-' || g, 'member' FROM generate_series(1, 10000) g`);
    const group = String((await scimCall("POST", "/Groups", { schemas: [GROUP], displayName: "everyone", members: [] })).body["id"]);
    const value = Array.from({ length: 10_000 }, (_, i) => ({ value: `bulk-${i + 1}` }));
    const answer = await patchGroup(group, [{ op: "add", path: "members", value }]);
    expect(answer.status).toBe(200);
    expect(answer.body["members"]).toHaveLength(10_000);
    const again = await patchGroup(group, [{ op: "remove", path: 'members[value eq "bulk-1"]' }]);
    expect(again.body["members"]).toHaveLength(9_999);
  });
});
