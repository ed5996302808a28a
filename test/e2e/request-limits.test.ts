/**
 * Limits at the door: every string a request carries has the maximum its storage holds, and an
 * over-long value is a 422 in FastAPI's list shape naming the field and the limit, never a 500
 * from the database. Names follow one rule for tenants, workspaces, groups and API keys.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_DATABASE_KINDS } from "../support/test-database.js";
import { startTestStack, type TestStack } from "../support/test-stack.js";

type Json = Record<string, unknown>;

describe.each(TEST_DATABASE_KINDS)("request limits on %s", (kind) => {
  let stack: TestStack;
  let tenant: string;
  let root: string;
  let group: string;
  let headers: Record<string, string>;

  const call = async (method: string, url: string, payload?: unknown) => {
    const response = await stack.app.server.inject({
      method: method as "GET",
      url,
      headers,
      ...(payload === undefined ? {} : { payload: payload as Json }),
    });
    return { status: response.statusCode, body: (response.body === "" ? null : response.json()) as Json };
  };

  beforeAll(async () => {
    stack = await startTestStack(kind, { env: { KARTOGRAPH_IAM_SINGLE_TENANT_MODE: "false" } });
    headers = { authorization: `Bearer ${await stack.identity.tokenFor("ada", { email: "ada@example.com" })}` };
    tenant = String((await call("POST", "/iam/tenants", { name: "limits" })).body["id"]);
    headers["x-tenant-id"] = tenant;
    root = String(((await call("GET", "/iam/workspaces")).body["workspaces"] as Json[])[0]?.["id"]);
    group = String((await call("POST", "/iam/groups", { name: "limits" })).body["id"]);
  });
  afterAll(() => stack?.close());

  /** The one-issue 422 of an over-long value. */
  const tooLong = (loc: string[], input: string, msg = "String should have at most 255 characters") => ({
    status: 422,
    body: { detail: [{ type: "string_too_long", loc, msg, input, ctx: { max_length: 255 } }] },
  });

  it("answers a user_id of 100,000 characters with a 422 naming the field, not a 500", async () => {
    const userId = "u".repeat(100_000);
    const response = await call("POST", `/iam/tenants/${tenant}/members`, { user_id: userId, role: "member" });
    expect(response).toEqual(tooLong(["body", "user_id"], userId));
  });

  const long = (length: number, unit = "x") => unit.repeat(length);
  const overLimits = (): [string, string, string, unknown, (string | number)[], number][] => [
    ["tenant name", "POST", "/iam/tenants", { name: long(256) }, ["body", "name"], 255],
    ["member email", "POST", `/iam/tenants/${tenant}/members`, { email: `${long(250)}@example.com`, role: "member" }, ["body", "email"], 255],
    ["tenant member in the path", "DELETE", `/iam/tenants/${tenant}/members/${long(256)}`, undefined, ["path", "user_id"], 255],
    ["tenant id in the path", "GET", `/iam/tenants/${tenant}0`, undefined, ["path", "tenant_id"], 26],
    ["workspace name, in characters", "POST", "/iam/workspaces", { name: long(513, "😀"), parent_workspace_id: root }, ["body", "name"], 512],
    ["workspace member", "POST", `/iam/workspaces/${root}/members`, { member_id: long(256), member_type: "user", role: "member" }, ["body", "member_id"], 255],
    ["workspace member email", "POST", `/iam/workspaces/${root}/members`, { email: long(256), member_type: "user", role: "member" }, ["body", "email"], 255],
    ["workspace member in the path", "DELETE", `/iam/workspaces/${root}/members/${long(256)}?member_type=user`, undefined, ["path", "member_id"], 255],
    ["workspace id in the path", "GET", `/iam/workspaces/${long(27, "0")}`, undefined, ["path", "workspace_id"], 26],
    ["group name", "PATCH", `/iam/groups/${group}`, { name: long(256) }, ["body", "name"], 255],
    ["group member", "POST", `/iam/groups/${group}/members`, { user_id: long(256), role: "member" }, ["body", "user_id"], 255],
    ["group member email", "POST", `/iam/groups/${group}/members`, { email: long(256), role: "member" }, ["body", "email"], 255],
    ["group member in the path", "PATCH", `/iam/groups/${group}/members/${long(256)}`, { role: "admin" }, ["path", "user_id"], 255],
    ["API key name", "POST", "/iam/api-keys", { name: long(256) }, ["body", "name"], 255],
    ["API key owner filter", "GET", `/iam/api-keys?user_id=${long(256)}`, undefined, ["query", "user_id"], 255],
    ["API key id in the path", "DELETE", `/iam/api-keys/${long(27, "0")}`, undefined, ["path", "api_key_id"], 26],
    ["user search", "GET", `/iam/users?search=${long(256)}`, undefined, ["query", "search"], 255],
  ];

  it("answers every over-long field with a 422 naming it and its limit", async () => {
    for (const [what, method, url, payload, loc, max] of overLimits()) {
      const response = await call(method, url, payload);
      expect(response.status, what).toBe(422);
      expect(response.body["detail"], what).toEqual([
        expect.objectContaining({ type: "string_too_long", loc, msg: `String should have at most ${max} characters`, ctx: { max_length: max } }),
      ]);
    }
  });

  it("answers an over-long id in a look-up list with a 422 naming the list and the limit", async () => {
    const response = await call("GET", `/iam/users?ids=ada,${long(256)}`);
    expect(response).toEqual(tooLong(["query", "ids"], `ada,${long(256)}`, "Each id should have at most 255 characters"));
  });

  it("keeps the reference's answers for malformed ids that fit the limit", async () => {
    expect(await call("GET", "/iam/tenants/not-a-ulid")).toEqual({ status: 400, body: { detail: "Invalid tenant ID format: Invalid TenantId: not-a-ulid" } });
    expect(await call("GET", "/iam/workspaces/not-a-ulid")).toEqual({ status: 400, body: { detail: "Invalid workspace ID format" } });
    expect(await call("DELETE", "/iam/api-keys/not-a-ulid")).toEqual({ status: 422, body: { detail: "Invalid API key ID format" } });
    expect(await call("POST", `/iam/tenants/${tenant}/members`, { user_id: "  ", role: "member" })).toEqual({
      status: 400,
      body: { detail: "Invalid user ID format" },
    });
    expect(await call("GET", "/iam/api-keys?user_id=%20")).toEqual({ status: 400, body: { detail: "Invalid user_id format: cannot be blank" } });
    expect(await call("PATCH", `/iam/workspaces/${root}/members/%20?member_type=user`, { role: "admin" })).toEqual({
      status: 400,
      body: { detail: "member_id cannot be empty" },
    });
  });

  it("refuses unknown fields in the API key body, such as a misspelt expiry", async () => {
    expect(await call("POST", "/iam/api-keys", { name: "z9", expire_in_days: 30 })).toEqual({
      status: 422,
      body: { detail: [{ type: "extra_forbidden", loc: ["body", "expire_in_days"], msg: "Extra inputs are not permitted", input: 30 }] },
    });
    expect((await call("GET", "/iam/api-keys")).body).toEqual([]);
  });

  describe("names", () => {
    const creations = (name: string): [string, string, Json][] => [
      ["Tenant", "/iam/tenants", { name }],
      ["Workspace", "/iam/workspaces", { name, parent_workspace_id: root }],
      ["Group", "/iam/groups", { name }],
      ["API key", "/iam/api-keys", { name }],
    ];

    it("refuses whitespace-only names for every resource", async () => {
      for (const [kind, url, body] of creations(" \t\u3000 ")) {
        expect(await call("POST", url, body), kind).toEqual({
          status: 422,
          body: {
            detail: [
              {
                type: "value_error",
                loc: ["body", "name"],
                msg: `Value error, ${kind} name cannot be empty or whitespace-only`,
                input: " \t\u3000 ",
                ctx: { error: {} },
              },
            ],
          },
        });
      }
    });

    it.each([
      ["a control character", "ops\tteam", "control characters (such as tab or newline)", "U+0009"],
      ["a bidi override", "admin\u202Egnp.exe", "bidirectional control characters", "U+202E"],
      ["a zero-width space", "pay\u200Bpal", "zero-width or invisible formatting characters", "U+200B"],
      ["a noncharacter", "ops\uFFFF", "noncharacters", "U+FFFF"],
    ])("refuses a name with %s, saying which class", async (_, name, characterClass, codePoint) => {
      for (const [kind, url, body] of creations(name)) {
        const response = await call("POST", url, body);
        expect(response.status, kind).toBe(422);
        expect((response.body["detail"] as Json[])[0], kind).toMatchObject({
          type: "value_error",
          loc: ["body", "name"],
          msg: `Value error, ${kind} name must not contain ${characterClass} (found ${codePoint})`,
        });
      }
      const renamed = await call("PATCH", `/iam/workspaces/${root}`, { name });
      expect(renamed.status).toBe(422);
      expect((await call("GET", "/iam/tenants")).body).toEqual([{ id: tenant, name: "limits" }]);
    });

    it("stores names trimmed and in NFC, and keeps emoji, marks and every script", async () => {
      const created = await call("POST", "/iam/workspaces", { name: "  Cafe\u0301 👨‍👩‍👧 שלום 研究  ", parent_workspace_id: root });
      expect(created.status).toBe(201);
      expect(created.body["name"]).toBe("Café 👨‍👩‍👧 שלום 研究");
      const key = await call("POST", "/iam/api-keys", { name: " nightly " });
      expect(key.body["name"]).toBe("nightly");
      expect((await call("POST", "/iam/api-keys", { name: "nightly" })).status).toBe(409);
    });
  });
});
