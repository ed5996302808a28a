/**
 * fast-check against the SCIM endpoints, on every test database: bodies shaped like SCIM Users,
 * Groups and PatchOps with their fields at and past their edges (wrong types, nulls, huge and odd
 * strings, unknown attributes and paths), and filters built from SCIM's grammar and broken
 * versions of it. Whatever is sent: never a 5xx, every error a SCIM error body (`schemas`,
 * `status` as a string, `detail`) without internals, also the server's refusals before any route
 * runs, and the service answers afterwards.
 *
 *   KARTOGRAPH_FUZZ_SEED=123 KARTOGRAPH_FUZZ_RUNS=1000 npx vitest run test/e2e/scim-fuzz.test.ts
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_DATABASE_KINDS } from "../support/test-database.js";
import { startTestStack, type TestStack } from "../support/test-stack.js";

const SEED = Number(process.env["KARTOGRAPH_FUZZ_SEED"] ?? Math.floor(Math.random() * 2 ** 31));
const RUNS = Number(process.env["KARTOGRAPH_FUZZ_RUNS"] ?? 150);

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ERROR = "urn:ietf:params:scim:api:messages:2.0:Error";

/** Strings at the edges: empty, blank, long, control characters, quotes, SQL and LIKE metacharacters. */
const edgyString = fc.oneof(
  fc.string(),
  fc.constantFrom("", " ", "x".repeat(256), "x".repeat(10_000), "\u0000", "a\u0000b", "\ud800", "'; DROP TABLE users; --", "%", "_", "\\", '"', "ünïcødé", "😀"),
);
const anyValue = fc.oneof(edgyString, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(edgyString, { maxLength: 3 }), fc.object({ maxDepth: 2 }));
/** Percent-encoded; a lone surrogate, which encodeURIComponent refuses, as the bytes it would be in WTF-8. */
const urlEncoded = (text: string) => {
  try {
    return encodeURIComponent(text);
  } catch {
    return "%ED%A0%80";
  }
};
const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });

const userBody = fc.record(
  {
    schemas: fc.oneof(fc.constant([USER]), fc.constant([GROUP]), anyValue),
    userName: fc.oneof(edgyString, anyValue),
    externalId: fc.oneof(edgyString, anyValue),
    active: fc.oneof(fc.boolean(), fc.constantFrom("True", "False", "maybe"), anyValue),
    name: fc.oneof(fc.record({ givenName: fc.oneof(edgyString, anyValue), familyName: edgyString, formatted: anyValue }, { requiredKeys: [] }), anyValue),
    emails: fc.oneof(fc.array(fc.record({ value: fc.oneof(edgyString, anyValue), primary: anyValue, type: anyValue }, { requiredKeys: [] }), { maxLength: 3 }), anyValue),
    displayName: fc.oneof(edgyString, anyValue),
  },
  { requiredKeys: [] },
);
const groupBody = fc.record(
  {
    schemas: fc.oneof(fc.constant([GROUP]), anyValue),
    displayName: fc.oneof(edgyString, anyValue),
    externalId: fc.oneof(edgyString, anyValue),
    members: fc.oneof(fc.array(fc.record({ value: fc.oneof(edgyString, anyValue) }, { requiredKeys: [] }), { maxLength: 3 }), anyValue),
  },
  { requiredKeys: [] },
);
const path = fc.oneof(
  fc.constantFrom("active", "userName", "name", "name.givenName", "emails", 'emails[type eq "work"]', 'emails[type eq "work"].value', 'emails[type eq "work"].value.x', "userName.x", "members", 'members[value eq "x"]', "displayName", "id", "meta", "title", "nope", "urn:x:y", "emails[", "members[value eq]"),
  // Paths the PATCH library would follow into Object.prototype.
  fc.constantFrom("name.__proto__.polluted", "name.constructor.prototype.polluted", "name.toString.polluted"),
  edgyString,
);
const patchBody = fc.record(
  {
    schemas: fc.oneof(fc.constant([PATCH]), anyValue),
    Operations: fc.oneof(
      fc.array(
        fc.record({ op: fc.oneof(fc.constantFrom("add", "Replace", "REMOVE", "move"), anyValue), path: maybe(path), value: maybe(anyValue) }, { requiredKeys: [] }),
        { maxLength: 4 },
      ),
      anyValue,
    ),
  },
  { requiredKeys: [] },
);
const attribute = fc.constantFrom("userName", "externalId", "emails.value", "emails", "active", "displayName", "meta.created", "meta.lastModified", "members.value", "nickName", "name.givenName", "id");
const operator = fc.constantFrom("eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr", "EQ", "xx");
const literal = fc.oneof(edgyString.map((text) => JSON.stringify(text)), fc.constantFrom("true", "false", "null", "42", '"2026-01-01T00:00:00Z"', '"0000-01-01T00:00:00Z"', '"+275760-09-13T00:00:00Z"', "", "("));
const comparison = fc.tuple(attribute, operator, literal).map(([a, op, value]) => (op === "pr" ? `${a} pr` : `${a} ${op} ${value}`));
const filter = fc.oneof(
  comparison,
  fc.tuple(comparison, fc.constantFrom(" and ", " or ", " AND "), comparison).map(([a, join, b]) => a + join + b),
  comparison.map((c) => `not (${c})`),
  comparison.map((c) => `emails[${c}]`),
  edgyString,
);

describe.each(TEST_DATABASE_KINDS)("SCIM under fast-check on %s", (kind) => {
  let stack: TestStack;
  let secret: string;
  let userId: string;
  let groupId: string;

  const send = async (method: string, url: string, payload?: unknown) => {
    const response = await stack.app.server.inject({
      method: method as "GET",
      url: `/scim/v2${url}`,
      headers: { authorization: `Bearer ${secret}`, ...(payload === undefined ? {} : { "content-type": "application/scim+json" }) },
      ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
    });
    return { status: response.statusCode, text: response.body };
  };

  /** The answer's problems, as a list: empty when it is one a SCIM client can live with. */
  const problemsOf = (answer: { status: number; text: string }): string[] => {
    const problems: string[] = [];
    if (answer.status >= 500) problems.push(`answered ${answer.status}`);
    if (/stack|\bat [\w.]+ \(|SELECT |INSERT |violates|node_modules/i.test(answer.text)) problems.push("shows internals");
    // Refusals before routing too (a URL that is not valid percent-encoding, a path parameter over
    // the server's limit): no SCIM route ran, and the body is SCIM's all the same.
    if (answer.status >= 400) {
      let body: Record<string, unknown> | null = null;
      try {
        body = JSON.parse(answer.text) as Record<string, unknown>;
      } catch {
        problems.push("a non-JSON error");
      }
      if (body !== null && (JSON.stringify(body["schemas"]) !== JSON.stringify([ERROR]) || body["status"] !== String(answer.status) || typeof body["detail"] !== "string")) {
        problems.push(`not a SCIM error body: ${answer.text.slice(0, 200)}`);
      }
    }
    return problems;
  };

  beforeAll(async () => {
    stack = await startTestStack(kind, { env: { KARTOGRAPH_IAM_SINGLE_TENANT_MODE: "false" } });
    const ada = await stack.identity.sign({ sub: "ada", preferred_username: "ada" });
    const inject = async (url: string, payload: object, tenant?: string) =>
      JSON.parse(
        (await stack.app.server.inject({ method: "POST", url, headers: { authorization: `Bearer ${ada}`, ...(tenant ? { "x-tenant-id": tenant } : {}) }, payload })).body,
      ) as Record<string, string>;
    const tenant = (await inject("/iam/tenants", { name: "fuzzed" }))["id"] as string;
    secret = (await inject("/iam/scim-tokens", { name: "fuzz" }, tenant))["secret"] as string;
    userId = JSON.parse((await send("POST", "/Users", { schemas: [USER], userName: "target", name: { givenName: "T" }, emails: [{ value: "target@example.com", type: "work" }] })).text)["id"] as string;
    groupId = JSON.parse((await send("POST", "/Groups", { schemas: [GROUP], displayName: "target", members: [{ value: userId }] })).text)["id"] as string;
  });
  afterAll(() => stack?.close());

  it(`never fails a request with a 5xx or a non-SCIM error (seed ${SEED})`, { timeout: 300_000 }, async () => {
    const request = fc.oneof(
      userBody.map((body) => ["POST", "/Users", body] as const),
      userBody.map((body) => ["PUT", `/Users/${userId}`, body] as const),
      patchBody.map((body) => ["PATCH", `/Users/${userId}`, body] as const),
      groupBody.map((body) => ["POST", "/Groups", body] as const),
      groupBody.map((body) => ["PUT", `/Groups/${groupId}`, body] as const),
      patchBody.map((body) => ["PATCH", `/Groups/${groupId}`, body] as const),
      filter.map((text) => ["GET", `/Users?filter=${urlEncoded(text)}`, undefined] as const),
      filter.map((text) => ["GET", `/Groups?filter=${urlEncoded(text)}`, undefined] as const),
      fc.tuple(edgyString, edgyString).map(([start, count]) => ["GET", `/Users?startIndex=${urlEncoded(start)}&count=${urlEncoded(count)}`, undefined] as const),
      edgyString.map((id) => ["GET", `/Users/${urlEncoded(id)}`, undefined] as const),
    );
    await fc.assert(
      fc.asyncProperty(request, async ([method, url, body]) => {
        const answer = await send(method, url, body);
        const problems = problemsOf(answer);
        if (problems.length > 0) throw new Error(`${method} ${url} ${JSON.stringify(body)?.slice(0, 300)}: ${problems.join("; ")}`);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    expect((await send("GET", "/ServiceProviderConfig")).status).toBe(200);
    expect(Object.keys(Object.prototype)).toEqual([]);
  });
});
