/**
 * SCIM 2.0 provisioning of users over HTTP, through the real composition, on both databases: the
 * tenant's token, discovery, the Users endpoints with filters, PATCH as Okta and Entra ID send it,
 * and what deactivation and deletion do to a member's access, at once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_DATABASE_KINDS } from "../support/test-database.js";
import { startTestStack, type TestStack } from "../support/test-stack.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- SCIM bodies are read several levels deep in assertions
type Json = Record<string, any>;

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ERROR = "urn:ietf:params:scim:api:messages:2.0:Error";

describe.each(TEST_DATABASE_KINDS)("SCIM users on %s", (kind) => {
  let stack: TestStack;
  let acme: string;
  let ada: string;
  let scim: string;
  let otherScim: string;
  let other: string;
  let otto: string;

  const token = (user: string) => stack.identity.sign({ sub: user, preferred_username: user });
  const call = async (bearer: string, method: string, url: string, tenant: string | null = acme, payload?: object) => {
    const response = await stack.app.server.inject({
      method: method as "GET",
      url,
      headers: { authorization: `Bearer ${bearer}`, ...(tenant ? { "x-tenant-id": tenant } : {}) },
      ...(payload ? { payload } : {}),
    });
    return { status: response.statusCode, body: (response.body ? JSON.parse(response.body) : null) as Json };
  };
  /** A SCIM request, sent the way directories send it (application/scim+json). */
  const scimCall = async (method: string, url: string, payload?: unknown, headers: Record<string, string> = {}, secret = scim) => {
    const response = await stack.app.server.inject({
      method: method as "GET",
      url: `/scim/v2${url}`,
      headers: {
        authorization: `Bearer ${secret}`,
        ...(payload === undefined ? {} : { "content-type": "application/scim+json" }),
        ...headers,
      },
      ...(payload === undefined ? {} : { payload: typeof payload === "string" ? payload : JSON.stringify(payload) }),
    });
    return {
      status: response.statusCode,
      headers: response.headers,
      body: (response.body ? JSON.parse(response.body) : null) as Json,
    };
  };
  const newUser = (userName: string, extra: Json = {}) =>
    scimCall("POST", "/Users", { schemas: [USER], userName, name: { givenName: "Given", familyName: userName }, ...extra });
  const members = async () => (await call(ada, "GET", `/iam/tenants/${acme}/members`)).body as unknown as Json[];
  const patch = (id: string, operations: Json[], headers: Record<string, string> = {}) =>
    scimCall("PATCH", `/Users/${id}`, { schemas: [PATCH], Operations: operations }, headers);

  beforeAll(async () => {
    stack = await startTestStack(kind, { env: { KARTOGRAPH_IAM_SINGLE_TENANT_MODE: "false" } });
    ada = await token("ada");
    acme = String((await call(ada, "POST", "/iam/tenants", null, { name: "acme" })).body["id"]);
    scim = String((await call(ada, "POST", "/iam/scim-tokens", acme, { name: "okta" })).body["secret"]);
    otto = await token("otto");
    other = String((await call(otto, "POST", "/iam/tenants", null, { name: "other" })).body["id"]);
    otherScim = String((await call(otto, "POST", "/iam/scim-tokens", other, { name: "entra" })).body["secret"]);
  });
  afterAll(() => stack?.close());

  describe("tokens", () => {
    it("are created by tenant admins with a person's token, shown once, and listed without the secret", async () => {
      const created = await call(ada, "POST", "/iam/scim-tokens", acme, { name: "entra" });
      expect(created.status).toBe(201);
      expect(created.body["secret"]).toMatch(/^kscim_[A-Za-z0-9_]{43}$/);
      expect(created.body["prefix"]).toBe(String(created.body["secret"]).slice(0, 12));
      const listed = await call(ada, "GET", "/iam/scim-tokens");
      expect(listed.status).toBe(200);
      expect(listed.body).toContainEqual({ ...created.body, secret: undefined, revoked_at: null });
      expect(JSON.stringify(listed.body)).not.toContain(String(created.body["secret"]));

      // A plain member may not; nor may an API key, even a tenant admin's.
      const bea = await token("bea");
      await call(ada, "POST", `/iam/tenants/${acme}/members`, acme, { user_id: "bea", role: "member" });
      expect((await call(bea, "POST", "/iam/scim-tokens", acme, { name: "mine" })).status).toBe(403);
      expect((await call(bea, "GET", "/iam/scim-tokens")).status).toBe(403);
      const key = String((await call(ada, "POST", "/iam/api-keys", acme, { name: "ci" })).body["secret"]);
      const byKey = await stack.app.server.inject({ method: "POST", url: "/iam/scim-tokens", headers: { "x-api-key": key }, payload: { name: "k" } });
      expect(byKey.statusCode).toBe(403);
      expect((await call(ada, "POST", "/iam/scim-tokens", acme, { name: "" })).status).toBe(422);
    });

    it("work on /scim/v2 only, for their own tenant, until revoked", async () => {
      expect((await call(scim, "GET", "/iam/workspaces")).status).toBe(401);
      const withJwt = await scimCall("GET", "/Users", undefined, {}, ada);
      expect(withJwt.status).toBe(401);
      expect(withJwt.body).toMatchObject({ schemas: [ERROR], status: "401" });
      expect(withJwt.headers["content-type"]).toContain("application/scim+json");
      expect((await scimCall("GET", "/Users", undefined, { authorization: "" })).status).toBe(401);

      const created = await call(ada, "POST", "/iam/scim-tokens", acme, { name: "short-lived" });
      const secret = String(created.body["secret"]);
      expect((await scimCall("GET", "/ServiceProviderConfig", undefined, {}, secret)).status).toBe(200);
      expect((await call(ada, "DELETE", `/iam/scim-tokens/${String(created.body["id"])}`)).status).toBe(204);
      expect((await scimCall("GET", "/ServiceProviderConfig", undefined, {}, secret)).status).toBe(401);
      expect((await call(ada, "DELETE", `/iam/scim-tokens/${String(created.body["id"])}`)).status).toBe(204);
      expect((await call(ada, "DELETE", "/iam/scim-tokens/01ARZ3NDEKTSV4RRFFQ69G5FAV")).status).toBe(404);
      // A name is the tenant's once per live token: the revoked one's may be used again, a live one's not.
      const again = await call(ada, "POST", "/iam/scim-tokens", acme, { name: "short-lived" });
      expect(again.status).toBe(201);
      const twice = await call(ada, "POST", "/iam/scim-tokens", acme, { name: "short-lived" });
      expect(twice.status).toBe(409);
      expect(twice.body["detail"]).toBe("A SCIM token named 'short-lived' is already in use in this tenant; choose another name, or revoke that one first");
      expect((await call(ada, "DELETE", `/iam/scim-tokens/${String(again.body["id"])}`)).status).toBe(204);
      // Both are in the tenant's audit log, once each, without the secret.
      const events = (await call(ada, "GET", "/iam/audit-events?action=tenant.&limit=1000")).body["events"] as Json[];
      const ofToken = events.filter((event) => event["changes"]["scim_token"]?.["id"] === created.body["id"]);
      expect(ofToken.map((event) => [event["action"], event["actor"]["id"], event["changes"]["scim_token"]["name"]])).toEqual([
        ["tenant.scim_token_revoked", "ada", "short-lived"],
        ["tenant.scim_token_created", "ada", "short-lived"],
      ]);
      expect(JSON.stringify(events)).not.toContain(secret);
    });
  });

  it("answers the server's refusals before routing with SCIM error bodies, and keeps the IAM API's own", async () => {
    for (const [url, status, detail] of [
      ["/scim/v2/Users/%E0%A4%A", 400, "The URL is not valid: a part of it is not correctly percent-encoded"],
      [`/scim/v2/Users/${"x".repeat(700)}`, 414, "URI Too Long: a path parameter exceeds the allowed length"],
      [`/scim/v2/Groups/${"x".repeat(700)}?excludedAttributes=members`, 414, "URI Too Long: a path parameter exceeds the allowed length"],
    ] as const) {
      const response = await stack.app.server.inject({ method: "GET", url, headers: { authorization: `Bearer ${scim}` } });
      expect({ url, status: response.statusCode, type: response.headers["content-type"], body: JSON.parse(response.body) as Json }).toEqual({
        url,
        status,
        type: "application/scim+json; charset=utf-8",
        body: { schemas: [ERROR], status: String(status), detail },
      });
    }
    const iam = await stack.app.server.inject({ method: "GET", url: "/iam/workspaces/%E0%A4%A" });
    expect({ status: iam.statusCode, type: iam.headers["content-type"], body: iam.body }).toEqual({
      status: 400,
      type: "application/json; charset=utf-8",
      body: JSON.stringify({ detail: "The URL is not valid: a part of it is not correctly percent-encoded" }),
    });
  });

  it("describes exactly what it implements", async () => {
    const config = await scimCall("GET", "/ServiceProviderConfig");
    expect(config.status).toBe(200);
    expect(config.headers["content-type"]).toContain("application/scim+json");
    expect(config.body).toMatchObject({
      patch: { supported: true },
      bulk: { supported: false },
      filter: { supported: true, maxResults: 1000 },
      changePassword: { supported: false },
      sort: { supported: false },
      etag: { supported: true },
    });
    const types = await scimCall("GET", "/ResourceTypes");
    expect(types.body["Resources"].map((type: Json) => type["name"])).toEqual(["User", "Group"]);
    const schemas = await scimCall("GET", "/Schemas");
    expect(schemas.body["Resources"][0]["attributes"].map((attribute: Json) => attribute["name"])).toEqual([
      "id", "externalId", "userName", "name", "displayName", "emails", "active",
    ]);
    expect(schemas.body["Resources"][1]["attributes"].map((attribute: Json) => attribute["name"])).toEqual(["id", "externalId", "displayName", "members"]);
    expect((await scimCall("GET", `/Schemas/${USER}`)).status).toBe(200);
    expect((await scimCall("GET", "/ResourceTypes/Group")).body["endpoint"]).toBe("/Groups");
    const missing = await scimCall("GET", "/Bulk");
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ schemas: [ERROR], status: "404" });
    expect((await scimCall("GET", "/Schemas/toString")).status).toBe(404);
    // A known endpoint asked with a method it does not take is a 405 naming the ones it does.
    const wrongMethod = await scimCall("PATCH", "/ServiceProviderConfig", {});
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers["allow"]).toBe("GET, HEAD");
    expect(wrongMethod.headers["content-type"]).toContain("application/scim+json");
    expect(wrongMethod.body).toMatchObject({ schemas: [ERROR], status: "405", detail: "PATCH is not supported on /scim/v2/ServiceProviderConfig; it takes GET, HEAD" });
    expect((await scimCall("PUT", "/Users", {})).headers["allow"]).toBe("GET, HEAD, POST");
    expect((await scimCall("POST", "/Users/some-id", {})).headers["allow"]).toBe("DELETE, GET, HEAD, PATCH, PUT");
    // Without a valid token, it is a 401 whatever the method.
    expect((await scimCall("PATCH", "/ServiceProviderConfig", {}, {}, "not-a-token")).status).toBe(401);
  });

  it("provisions a user as a member of the tenant, with Location, ETag and meta", async () => {
    const created = await newUser("carla", {
      externalId: "00u1carla",
      emails: [{ value: "carla@example.com", type: "work", primary: true }],
      enterprise: { ignored: true },
    });
    expect(created.status).toBe(201);
    const id = String(created.body["id"]);
    expect(created.body).toMatchObject({
      schemas: [USER],
      userName: "carla",
      externalId: "00u1carla",
      name: { givenName: "Given", familyName: "carla", formatted: "Given carla" },
      emails: [{ value: "carla@example.com", type: "work", primary: true }],
      active: true,
      meta: { resourceType: "User", location: `http://localhost:80/scim/v2/Users/${id}` },
    });
    expect(created.body["meta"]["created"]).toMatch(/Z$/);
    expect(created.headers["location"]).toBe(created.body["meta"]["location"]);
    expect(created.headers["etag"]).toBe(created.body["meta"]["version"]);
    expect(await members()).toContainEqual({ user_id: id, role: "member", status: "active" });
    const read = await scimCall("GET", `/Users/${id}`);
    expect(read.body).toEqual(created.body);
    expect(read.headers["etag"]).toBe(created.headers["etag"]);
    // One provisioned inactive is no member, and reads back as it was answered too.
    const inactive = await newUser("carlos", { emails: [{ value: "carlos@example.com" }], active: false });
    expect(inactive.status).toBe(201);
    expect(inactive.body["active"]).toBe(false);
    expect((await members()).map((member) => member["user_id"])).not.toContain(inactive.body["id"]);
    expect((await scimCall("GET", `/Users/${String(inactive.body["id"])}`)).body).toEqual(inactive.body);
    expect((await scimCall("DELETE", `/Users/${String(inactive.body["id"])}`)).status).toBe(204);
    // Another tenant's directory does not see it.
    expect((await scimCall("GET", `/Users/${id}`, undefined, {}, otherScim)).status).toBe(404);
  });

  it("refuses a userName that is taken, ignoring case, here or by another account (409 uniqueness)", async () => {
    await newUser("dave");
    const again = await newUser("DAVE");
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ schemas: [ERROR], status: "409", scimType: "uniqueness" });
    // otto's account exists, in another tenant only.
    const elsewhere = await newUser("otto");
    expect(elsewhere.status).toBe(409);
    expect(elsewhere.body["detail"]).toContain("another account");
    expect((await scimCall("GET", '/Users?filter=userName eq "otto"')).body["totalResults"]).toBe(0);
  });

  it("answers bad bodies with SCIM 400s and writes nothing", async () => {
    const before = (await scimCall("GET", "/Users?count=0")).body["totalResults"];
    const cases: [unknown, string][] = [
      [{ schemas: [USER] }, "invalidValue"],
      [{ schemas: ["urn:example:Other"], userName: "x1" }, "invalidValue"],
      [{ schemas: [USER], userName: 42 }, "invalidValue"],
      [{ schemas: [USER], userName: "x2", active: "maybe" }, "invalidValue"],
      [{ schemas: [USER], userName: "x3", emails: "x@example.com" }, "invalidValue"],
      [{ schemas: [USER], userName: "x".repeat(300) }, "invalidValue"],
      [{ schemas: [USER], userName: "nul\u0000name" }, "invalidValue"],
      [{ schemas: [USER], userName: "x4", externalId: "\ud800" }, "invalidValue"],
      // Look-alikes: an invisible character, a line break, a bidi override, a noncharacter.
      [{ schemas: [USER], userName: "alice\u200b" }, "invalidValue"],
      [{ schemas: [USER], userName: "evil\nadmin" }, "invalidValue"],
      [{ schemas: [USER], userName: "\u202eadmin" }, "invalidValue"],
      [{ schemas: [USER], userName: "x6\uffff" }, "invalidValue"],
      [{ schemas: [USER], userName: "x7", emails: [{ value: "x7\u200b@example.com", primary: true }] }, "invalidValue"],
      ['{"__proto__": {"admin": true}, "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "x5"}', "invalidSyntax"],
      ["{not json", "invalidSyntax"],
      [[1, 2], "invalidValue"],
    ];
    for (const [body, scimType] of cases) {
      const answer = await scimCall("POST", "/Users", body);
      expect({ body, status: answer.status, scimType: answer.body["scimType"] }).toEqual({ body, status: 400, scimType });
      expect(answer.body["detail"]).toEqual(expect.any(String));
    }
    expect((await scimCall("GET", "/Users?count=0")).body["totalResults"]).toBe(before);
  });

  describe("lists", () => {
    beforeAll(async () => {
      await newUser("erin", { externalId: "ext-erin", emails: [{ value: "erin@corp.example", primary: true }], displayName: "Erin E" });
      await newUser("frank", { externalId: "ext-frank", emails: [{ value: "frank@other.example" }], active: false });
    });
    const filtered = async (filter: string) => {
      const answer = await scimCall("GET", `/Users?filter=${encodeURIComponent(filter)}`);
      expect({ filter, status: answer.status }).toEqual({ filter, status: 200 });
      return (answer.body["Resources"] as Json[]).map((user) => user["userName"]).sort();
    };

    it("filters on the documented attributes and operators", async () => {
      expect(await filtered('userName eq "ERIN"')).toEqual(["erin"]);
      expect(await filtered('externalId eq "ext-frank"')).toEqual(["frank"]);
      expect(await filtered('externalId eq "EXT-FRANK"')).toEqual([]);
      expect(await filtered('emails.value co "corp.example"')).toEqual(["erin"]);
      expect(await filtered('emails[value ew "other.example"]')).toEqual(["frank"]);
      expect(await filtered('displayName sw "erin"')).toEqual(["erin"]);
      expect(await filtered("active eq false")).toEqual(["frank"]);
      expect(await filtered('externalId pr and userName sw "e"')).toEqual(["erin"]);
      expect(await filtered('userName eq "erin" or userName eq "frank"')).toEqual(["erin", "frank"]);
      expect(await filtered('externalId pr and not (userName eq "erin")')).toContain("frank");
      expect(await filtered('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "frank"')).toEqual(["frank"]);
      // LIKE's wildcards match only themselves.
      expect(await filtered('userName co "%"')).toEqual([]);
      expect(await filtered('userName sw "_"')).toEqual([]);
      // Tenant members the directory did not provision are users it sees, as active.
      expect(await filtered('userName eq "ada"')).toEqual(["ada"]);
    });

    it("pages with startIndex and count, and counts all matches", async () => {
      const all = await scimCall("GET", "/Users?count=1000");
      const total = all.body["totalResults"] as number;
      expect(all.body["Resources"]).toHaveLength(total);
      const ids = (all.body["Resources"] as Json[]).map((user) => user["id"]);
      expect(ids).toEqual([...ids].sort());
      const page = await scimCall("GET", "/Users?startIndex=2&count=2");
      expect(page.body).toMatchObject({ totalResults: total, startIndex: 2, itemsPerPage: 2 });
      expect((page.body["Resources"] as Json[]).map((user) => user["id"])).toEqual(ids.slice(1, 3));
      expect((await scimCall("GET", `/Users?startIndex=${total + 5}`)).body).toMatchObject({ totalResults: total, itemsPerPage: 0 });
      expect((await scimCall("GET", "/Users?count=0")).body).toMatchObject({ totalResults: total, Resources: [] });
    });

    it("answers a bad filter or parameter with 400 invalidFilter or invalidValue", async () => {
      for (const filter of ['userName eq', 'nickName eq "x"', 'emails[type eq "work"]', "active eq 3", 'active eq "yes"', '(userName eq "a"', 'meta.created gt "yesterday"']) {
        const answer = await scimCall("GET", `/Users?filter=${encodeURIComponent(filter)}`);
        expect({ filter, status: answer.status, scimType: answer.body["scimType"] }).toEqual({ filter, status: 400, scimType: "invalidFilter" });
      }
      expect((await scimCall("GET", "/Users?count=ten")).body).toMatchObject({ status: "400", scimType: "invalidValue" });
    });

    it("filters by meta times in the years 0001-9999 and answers any other year with a 400 that says so", async () => {
      expect(await filtered('meta.created gt "0001-01-01T00:00:00Z" and meta.lastModified lt "9999-12-31T23:59:59Z"')).toContain("erin");
      const outside = ["-271821-04-20T00:00:00Z", "0000-01-01T00:00:00Z", "-000001-01-01T00:00:00Z", "-004714-11-23T00:00:00Z", "+200000-01-01T00:00:00Z", "+275760-09-13T00:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00"];
      for (const attribute of ["meta.created", "meta.lastModified"]) {
        for (const op of ["eq", "ne", "gt", "ge", "lt", "le"]) {
          for (const time of outside) {
            const answer = await scimCall("GET", `/Users?filter=${encodeURIComponent(`${attribute} ${op} "${time}"`)}`);
            expect({ attribute, op, time, status: answer.status, scimType: answer.body["scimType"], detail: answer.body["detail"] }).toEqual({
              attribute,
              op,
              time,
              status: 400,
              scimType: "invalidFilter",
              detail: `${attribute} compares with a date-time in the years 0001 to 9999 (UTC); "${time}" is not`,
            });
          }
        }
      }
    });

    it("answers a repeated parameter with a 400 that names it, whichever it is", async () => {
      const repeated = async (query: string) => {
        const answer = await scimCall("GET", `/Users?${query}`);
        return { status: answer.status, type: answer.headers["content-type"], scimType: answer.body["scimType"], detail: answer.body["detail"] };
      };
      const filter = `filter=${encodeURIComponent('userName eq "erin"')}`;
      expect(await repeated(`${filter}&${filter}`)).toEqual({
        status: 400,
        type: "application/scim+json; charset=utf-8",
        scimType: "invalidFilter",
        detail: "filter must be given once, not 2 times",
      });
      for (const name of ["startIndex", "count"]) {
        expect(await repeated(`${name}=1&${name}=2&${name}=3`)).toMatchObject({ status: 400, scimType: "invalidValue", detail: `${name} must be given once, not 3 times` });
      }
      // Parameters the lists do not implement are ignored, repeated or not.
      expect((await scimCall("GET", "/Users?attributes=userName&attributes=id&sortBy=id&sortBy=userName")).status).toBe(200);
    });
  });

  describe("changes", () => {
    it("applies PATCH as Okta and Entra ID send it, and ignores attributes it does not keep", async () => {
      const id = String((await newUser("gina", { emails: [{ value: "gina@example.com", primary: true }] })).body["id"]);
      const okta = await patch(id, [{ op: "replace", value: { active: false } }]);
      expect(okta.status).toBe(200);
      expect(okta.body["active"]).toBe(false);
      expect(await members()).not.toContainEqual(expect.objectContaining({ user_id: id }));
      const entra = await patch(id, [
        { op: "Replace", path: "active", value: "True" },
        { op: "Add", path: "name.givenName", value: "Regina" },
        { op: "Replace", path: 'emails[type eq "work"].value', value: "gina@work.example" },
        { op: "Add", path: "title", value: "Engineer" },
        { op: "Add", path: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", value: "R&D" },
      ]);
      expect(entra.status).toBe(200);
      expect(entra.body).toMatchObject({ active: true, name: { givenName: "Regina" } });
      expect(entra.body["title"]).toBeUndefined();
      expect(await members()).toContainEqual({ user_id: id, role: "member", status: "active" });
      const renamed = await patch(id, [{ op: "replace", path: "userName", value: "regina" }]);
      expect(renamed.body["userName"]).toBe("regina");
      expect((await call(ada, "GET", `/iam/users/search?q=regina`)).body).toBeDefined();
    });

    it("refuses PATCH paths that name nothing, read-only attributes and malformed bodies", async () => {
      const id = String((await newUser("hank")).body["id"]);
      const before = await scimCall("GET", `/Users/${id}`);
      const cases: [Json, number, string][] = [
        [{ schemas: [PATCH], Operations: [{ op: "replace", path: "shoeSize", value: 9 }] }, 400, "invalidPath"],
        [{ schemas: [PATCH], Operations: [{ op: "replace", path: "id", value: "x" }] }, 400, "mutability"],
        [{ schemas: [PATCH], Operations: [{ op: "remove" }] }, 400, "noTarget"],
        [{ schemas: [PATCH], Operations: [{ op: "move", path: "userName" }] }, 400, "invalidValue"],
        [{ schemas: [PATCH], Operations: [] }, 400, "invalidValue"],
        [{ schemas: [USER], Operations: [{ op: "replace", path: "active", value: false }] }, 400, "invalidValue"],
        [{ schemas: [PATCH], Operations: [{ op: "replace", path: "active", value: "perhaps" }] }, 400, "invalidValue"],
        [{ schemas: [PATCH], Operations: [{ op: "remove", path: "userName" }] }, 400, "invalidValue"],
      ];
      for (const [body, status, scimType] of cases) {
        const answer = await scimCall("PATCH", `/Users/${id}`, body);
        expect({ body, status: answer.status, scimType: answer.body["scimType"] }).toEqual({ body, status, scimType });
      }
      expect((await scimCall("GET", `/Users/${id}`)).body).toEqual(before.body);
      expect((await patch("no-such-user", [{ op: "replace", path: "active", value: false }])).status).toBe(404);
    });

    it("clears an attribute on a replace with null, as Entra ID sends it, but neither active nor userName, nor on an add", async () => {
      const withEverything = async (userName: string) =>
        String((await newUser(userName, { externalId: `ext-${userName}`, emails: [{ value: `${userName}@example.com`, type: "work", primary: true }] })).body["id"]);
      const replaced = async (path: string) => {
        const answer = await patch(await withEverything(`clear-${path.replace(/\W/g, "")}`), [{ op: "replace", path, value: null }]);
        expect({ path, status: answer.status }).toEqual({ path, status: 200 });
        return answer.body;
      };
      expect((await replaced("name"))["name"]?.["givenName"]).toBeUndefined();
      expect((await replaced("emails"))["emails"]).toBeUndefined();
      expect((await replaced('emails[type eq "work"]'))["emails"]).toBeUndefined();
      expect((await replaced("externalId"))["externalId"]).toBeUndefined();
      expect((await replaced("name.givenName"))["name"]).toEqual({ familyName: expect.any(String), formatted: expect.any(String) });

      const id = await withEverything("kept-whole");
      const before = await scimCall("GET", `/Users/${id}`);
      const cases: [Json, string, string][] = [
        [{ op: "replace", path: "active", value: null }, "invalidValue", 'Operations[1]: "active" cannot be cleared with null; give it a value (active: true or false)'],
        [{ op: "replace", value: { active: null } }, "invalidValue", 'Operations[1]: "active" cannot be cleared with null; give it a value (active: true or false)'],
        [{ op: "replace", path: "userName", value: null }, "invalidValue", "userName is required"],
        [{ op: "add", path: "name", value: null }, "invalidValue", 'Operations[1]: add needs a value; to clear "name", use remove, or replace with null'],
        [{ op: "replace", path: 'emails[type eq "work"].value', value: null }, "invalidValue", "emails[0].value must not be empty"],
      ];
      for (const [operation, scimType, detail] of cases) {
        const answer = await patch(id, [{ op: "replace", path: "displayName", value: "changed first" }, operation]);
        expect({ operation, status: answer.status, scimType: answer.body["scimType"], detail: answer.body["detail"] }).toEqual({ operation, status: 400, scimType, detail });
      }
      expect((await scimCall("GET", `/Users/${id}`)).body).toEqual(before.body);
    });

    it("answers a PATCH the resource has no room for with a 400 naming the operation, and changes nothing", async () => {
      const id = String((await newUser("roomless", { emails: [{ value: "roomless@example.com", type: "work", primary: true }] })).body["id"]);
      const before = await scimCall("GET", `/Users/${id}`);
      const cases: [Json, string][] = [
        // The library went on into the string and failed with a TypeError: a 500.
        [{ op: "add", path: 'emails[type eq "work"].value.x', value: "x" }, 'Operations[1]: "emails[type eq "work"].value.x" does not lead to an attribute that can take this value'],
        [{ op: "replace", path: "userName.first", value: "x" }, 'Operations[1]: "userName.first" does not lead to an attribute that can take this value'],
        // The library follows these into Object.prototype, and would set "polluted" on every object of the process.
        [{ op: "add", path: "name.__proto__.polluted", value: "yes" }, '"name.__proto__.polluted" is not an attribute of this resource'],
        [{ op: "add", path: "name.constructor.prototype.polluted", value: "yes" }, '"name.constructor.prototype.polluted" is not an attribute of this resource'],
        [{ op: "add", value: { "__proto__.polluted": "yes" } }, 'Operations[1].value: "__proto__.polluted" is not an attribute of this resource'],
        [{ op: "replace", path: "name", value: { "constructor.prototype.polluted": "yes" } }, 'Operations[1].value: "constructor.prototype.polluted" is not an attribute of this resource'],
      ];
      for (const [operation, detail] of cases) {
        const answer = await patch(id, [{ op: "replace", path: "displayName", value: "changed first" }, operation]);
        expect({ operation, status: answer.status, scimType: answer.body["scimType"], detail: answer.body["detail"] }).toEqual({ operation, status: 400, scimType: "invalidPath", detail });
      }
      expect(({} as Json)["polluted"]).toBeUndefined();
      expect((await scimCall("GET", `/Users/${id}`)).body).toEqual(before.body);
    });

    it("honours If-Match: 412 for a stale version, and the change for the current one", async () => {
      const created = await newUser("ivan");
      const id = String(created.body["id"]);
      const etag = String(created.headers["etag"]);
      const changed = await patch(id, [{ op: "replace", path: "displayName", value: "Ivan I" }], { "if-match": etag });
      expect(changed.status).toBe(200);
      expect(changed.headers["etag"]).not.toBe(etag);
      const stale = await patch(id, [{ op: "replace", path: "displayName", value: "Ivan II" }], { "if-match": etag });
      expect(stale.status).toBe(412);
      expect((await scimCall("GET", `/Users/${id}`)).body["displayName"]).toBe("Ivan I");
      const put = await scimCall("PUT", `/Users/${id}`, { schemas: [USER], userName: "ivan", active: true }, { "if-match": String(changed.headers["etag"]) });
      expect(put.status).toBe(200);
      expect(put.body["displayName"]).toBeUndefined();
    });

    it("deactivation takes a member's roles and keys away and denies their next request; activation restores a plain membership", async () => {
      const jo = await token("jo");
      expect((await call(jo, "GET", "/iam/users/me", null)).status).toBe(200);
      await call(ada, "POST", `/iam/tenants/${acme}/members`, acme, { user_id: "jo", role: "member" });
      const root = String(((await call(ada, "GET", "/iam/workspaces")).body["workspaces"] as Json[])[0]?.["id"]);
      const workspace = String((await call(ada, "POST", "/iam/workspaces", acme, { name: "jo-space", parent_workspace_id: root })).body["id"]);
      expect((await call(ada, "POST", `/iam/workspaces/${workspace}/members`, acme, { member_id: "jo", member_type: "user", role: "editor" })).status).toBe(201);
      const group = String((await call(ada, "POST", "/iam/groups", acme, { name: "jo-group" })).body["id"]);
      expect((await call(ada, "POST", `/iam/groups/${group}/members`, acme, { user_id: "jo", role: "member" })).status).toBe(201);
      const key = String((await call(jo, "POST", "/iam/api-keys", acme, { name: "jo-key" })).body["secret"]);
      expect((await call(jo, "GET", `/iam/workspaces/${workspace}`)).status).toBe(200);

      const [found] = (await scimCall("GET", `/Users?filter=${encodeURIComponent('userName eq "jo"')}`)).body["Resources"] as Json[];
      expect(found).toMatchObject({ id: "jo", active: true });
      expect((await patch("jo", [{ op: "replace", path: "active", value: false }])).status).toBe(200);

      expect((await call(jo, "GET", `/iam/workspaces/${workspace}`)).status).toBe(403);
      const byKey = await stack.app.server.inject({ method: "GET", url: "/iam/workspaces", headers: { "x-api-key": key } });
      expect(byKey.statusCode).toBe(401);
      expect(await members()).not.toContainEqual(expect.objectContaining({ user_id: "jo" }));
      const workspaceMembers = (await call(ada, "GET", `/iam/workspaces/${workspace}/members`)).body as unknown as Json[];
      expect(workspaceMembers.map((member) => member["member_id"])).not.toContain("jo");

      expect((await patch("jo", [{ op: "replace", path: "active", value: true }])).status).toBe(200);
      expect(await members()).toContainEqual({ user_id: "jo", role: "member", status: "active" });
      expect((await call(jo, "GET", `/iam/workspaces/${workspace}`)).status).toBe(404);
    });

    it("will not deactivate the last admin of something (409 naming it) and changes nothing then", async () => {
      const kim = await token("kim");
      expect((await call(kim, "GET", "/iam/users/me", null)).status).toBe(200);
      await call(ada, "POST", `/iam/tenants/${acme}/members`, acme, { user_id: "kim", role: "member" });
      const group = String((await call(kim, "POST", "/iam/groups", acme, { name: "kims-group" })).body["id"]);
      const refused = await patch("kim", [{ op: "replace", path: "active", value: false }]);
      expect(refused.status).toBe(409);
      expect(refused.body["detail"]).toContain("kims-group");
      expect(await members()).toContainEqual({ user_id: "kim", role: "member", status: "active" });
      expect((await call(kim, "GET", `/iam/groups/${group}`)).status).toBe(200);
      // The tenant's last admin, likewise.
      const last = await patch("ada", [{ op: "replace", path: "active", value: false }]);
      expect(last.status).toBe(409);
      expect(last.body["detail"]).toContain("last admin");
    });

    it("DELETE removes the user from the tenant and the directory; the same userName can be provisioned again", async () => {
      const id = String((await newUser("lena")).body["id"]);
      expect((await scimCall("DELETE", `/Users/${id}`)).status).toBe(204);
      expect((await scimCall("GET", `/Users/${id}`)).status).toBe(404);
      expect((await scimCall("DELETE", `/Users/${id}`)).status).toBe(404);
      expect(await members()).not.toContainEqual(expect.objectContaining({ user_id: id }));
      const again = await newUser("lena");
      expect(again.status).toBe(201);
      expect(again.body["id"]).toBe(id);
    });

    it("of 20 concurrent POSTs of one userName, one creates it and the rest are 409", async () => {
      const answers = await Promise.all(Array.from({ length: 20 }, () => newUser("race")));
      expect(answers.map((answer) => answer.status).sort()).toEqual([201, ...Array.from({ length: 19 }, () => 409)]);
      expect((await scimCall("GET", `/Users?filter=${encodeURIComponent('userName eq "race"')}`)).body["totalResults"]).toBe(1);
    });

    it("links a provisioned user's first OIDC sign-in to their account by username, once", async () => {
      const id = String((await newUser("nora", { externalId: "00u-nora", emails: [{ value: "nora@example.com", primary: true }] })).body["id"]);
      const nora = await stack.identity.sign({ sub: "00u-nora", preferred_username: "Nora", email: "nora@example.com" });
      const me = await call(nora, "GET", "/iam/users/me");
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ id, tenant_id: acme, tenant_role: "member" });
      expect((await members()).filter((member) => member["user_id"] === id)).toHaveLength(1);
      expect(await members()).not.toContainEqual(expect.objectContaining({ user_id: "00u-nora" }));
      // The account is linked now: another subject with the same username is not let in as nora.
      const impostor = await stack.identity.sign({ sub: "00u-other", preferred_username: "nora" });
      expect((await call(impostor, "GET", "/iam/users/me", null)).status).toBe(409);
      // Deactivated by the directory, nora is refused at once.
      expect((await patch(id, [{ op: "replace", path: "active", value: false }])).status).toBe(200);
      expect((await call(nora, "GET", "/iam/workspaces")).status).toBe(403);
    });

    it("will not change the profile of someone who is also in another tenant (409 mutability), but takes their own profile and a deactivation", async () => {
      const id = String((await newUser("pat", { emails: [{ value: "pat@example.com", primary: true }] })).body["id"]);
      expect((await call(otto, "POST", `/iam/tenants/${other}/members`, other, { user_id: id, role: "member" })).status).toBe(201);
      const before = (await scimCall("GET", `/Users/${id}`)).body;
      const renamed = await scimCall("PUT", `/Users/${id}`, { schemas: [USER], userName: "pat-renamed", emails: [{ value: "mallory@example.com", primary: true }], active: true });
      expect(renamed.status).toBe(409);
      expect(renamed.body).toMatchObject({ schemas: [ERROR], status: "409", scimType: "mutability" });
      expect(String(renamed.body["detail"])).toContain("another tenant");
      // Nothing changed, here or in the other tenant.
      expect((await scimCall("GET", `/Users/${id}`)).body).toEqual(before);
      expect((await call(otto, "GET", `/iam/users?ids=${id}`, other)).body["users"]).toMatchObject([{ id, username: "pat", email: "pat@example.com" }]);
      // Sending the profile they have, with an externalId, changes only what is the directory's own.
      const same = await scimCall("PUT", `/Users/${id}`, { ...before, externalId: "00u-pat", meta: undefined });
      expect(same.status).toBe(200);
      expect(same.body).toMatchObject({ userName: "pat", externalId: "00u-pat" });
      expect((await patch(id, [{ op: "replace", path: "active", value: false }])).status).toBe(200);
      expect((await call(otto, "GET", `/iam/tenants/${other}/members`, other)).body).toContainEqual(expect.objectContaining({ user_id: id }));
    });

    it("does not hand an account someone signed in to first to another subject, whatever the directory renames it to", async () => {
      const rita = await token("rita");
      expect((await call(rita, "GET", "/iam/users/me", null)).status).toBe(200);
      expect((await call(ada, "POST", `/iam/tenants/${acme}/members`, acme, { user_id: "rita", role: "member" })).status).toBe(201);
      expect((await patch("rita", [{ op: "replace", path: "userName", value: "rita-directory" }])).status).toBe(200);
      const other = await stack.identity.sign({ sub: "00u-someone", preferred_username: "rita-directory" });
      const me = await call(other, "GET", "/iam/users/me", acme);
      expect(me.status).not.toBe(200);
      expect((await members()).filter((member) => member["user_id"] === "rita")).toHaveLength(1);
      expect((await call(rita, "GET", "/iam/users/me", acme)).body).toMatchObject({ id: "rita", tenant_role: "member" });
    });

    it("records a profile change it makes as user.profile_changed, by the token", async () => {
      const id = String((await newUser("quinn")).body["id"]);
      expect((await patch(id, [{ op: "replace", path: "emails", value: [{ value: "quinn@example.com", primary: true }] }])).status).toBe(200);
      const events = (await call(ada, "GET", `/iam/audit-events?action=user.profile_changed&target_id=${id}`)).body["events"] as Json[];
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ actor: { type: "system", username: "scim:okta" }, changes: { email: { before: null, after: "quinn@example.com" } } });
    });

    it("records its changes in the audit log as the system, naming the token", async () => {
      const id = String((await newUser("mona")).body["id"]);
      const events = (await call(ada, "GET", `/iam/audit-events?action=tenant.member_added&target_id=${acme}&limit=1000`)).body["events"] as Json[];
      const added = events.find((event) => event["changes"]?.["member"]?.["id"] === id);
      expect(added?.["actor"]).toMatchObject({ type: "system", username: "scim:okta" });
      expect(String(added?.["actor"]?.["id"])).toMatch(/^[0-9A-Z]{26}$/);
    });
  });
});
