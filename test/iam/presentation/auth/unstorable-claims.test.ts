/**
 * A correctly signed token whose claims hold text no PostgreSQL column can store (NUL, half of a
 * surrogate pair) is refused as a bad token (401, saying which claim), before anything is
 * provisioned; it used to be a 500 from the users insert.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../../../src/platform/database/database.js";
import { TEST_DATABASE_KINDS } from "../../../support/test-database.js";
import { startTestStack, type TestStack } from "../../../support/test-stack.js";

const UNSTORABLE = [
  ["NUL", "a\u0000b"],
  ["a lone high surrogate", "a\ud800b"],
  ["a lone low surrogate", "\udc00ab"],
] as const;

describe.each(TEST_DATABASE_KINDS)("tokens with unstorable claims on %s", (kind) => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack(kind);
  });
  afterAll(() => stack?.close());

  const users = async () => (await queryRows<{ n: number }>(stack.database.handle.db, sql`SELECT count(*)::int AS n FROM users`))[0]?.n;

  describe.each(UNSTORABLE)("holding %s", (_, bad) => {
    it.each([
      ["sub", { sub: bad, preferred_username: "ok" }],
      ["preferred_username", { sub: "ok-user", preferred_username: bad }],
      ["name", { sub: "ok-user", preferred_username: "ok", name: bad }],
      ["email", { sub: "ok-user", preferred_username: "ok", email: `${bad}@example.com` }],
    ])("in %s is a 401 naming the claim", async (claim, claims) => {
      const before = await users();
      const token = await stack.identity.sign(claims);
      for (const url of ["/iam/tenants", "/iam/workspaces"]) {
        const response = await stack.app.server.inject({ method: "GET", url, headers: { authorization: `Bearer ${token}` } });
        expect(response.statusCode, url).toBe(401);
        expect(response.json()).toEqual({ detail: `Invalid token claims: ${claim} contains a character that cannot be stored` });
        expect(response.headers["www-authenticate"]).toBe("Bearer, API-Key");
      }
      expect(await users()).toBe(before);
    });
  });

  it("cuts an over-long name between characters, never inside a surrogate pair", async () => {
    const name = `x${"😀".repeat(300)}`;
    const token = await stack.identity.sign({ sub: "long-name", preferred_username: "long-name", name });
    const response = await stack.app.server.inject({ method: "GET", url: "/iam/users?ids=long-name", headers: { authorization: `Bearer ${token}` } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      users: [{ id: "long-name", username: "long-name", name: `x${"😀".repeat(254)}`, email: null }],
      count: 1,
    });
  });
});
