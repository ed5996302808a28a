/**
 * Failed authentications are limited per client address: after the configured number of 401s in
 * the window, the client's requests are 429 with Retry-After until the window ends, whatever
 * credentials they carry; other clients and successful requests are not affected. SCIM tokens
 * count against the same limit.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestIamServer, type TestIamServer } from "../../../support/test-iam-server.js";
import { startTestStack, type TestStack } from "../../../support/test-stack.js";

describe("the failed-authentication limit", () => {
  let stack: TestStack;
  const servers: TestIamServer[] = [];
  let limited: TestIamServer;
  let good: string;

  const server = async (env: Record<string, string>) => {
    const started = await startTestIamServer({
      database: stack.database.handle,
      spicedb: stack.spicedb,
      identity: stack.identity,
      env,
    });
    servers.push(started);
    return started;
  };
  const get = (app: TestIamServer, headers: Record<string, string>, remoteAddress = "203.0.113.7") =>
    app.server.inject({ method: "GET", url: "/iam/workspaces", headers, remoteAddress });

  beforeAll(async () => {
    stack = await startTestStack("pglite");
    good = `Bearer ${await stack.identity.tokenFor("alice")}`;
    limited = await server({ KARTOGRAPH_AUTH_FAILURE_LIMIT: "3", KARTOGRAPH_AUTH_FAILURE_WINDOW_SECONDS: "600" });
  });
  afterAll(async () => {
    for (const started of servers) await started.close();
    await stack?.close();
  });

  it("answers 429 with Retry-After once a client used up its failures, for any credentials", async () => {
    for (let attempt = 1; attempt <= 3; attempt++) {
      const response = await get(limited, { authorization: "Bearer not-a-token" });
      expect(response.statusCode, `attempt ${attempt}`).toBe(401);
    }
    const refused = await get(limited, { authorization: "Bearer not-a-token" });
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toEqual({ detail: expect.stringMatching(/^Too many failed authentication attempts; retry in \d+ seconds$/) });
    const retryAfter = Number(refused.headers["retry-after"]);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(600);
    // A valid token from the same client waits too; another client is not affected.
    expect((await get(limited, { authorization: good })).statusCode).toBe(429);
    expect((await get(limited, { authorization: good }, "198.51.100.9")).statusCode).toBe(200);
  });

  it("counts malformed and unknown API keys, and missing credentials, as failures", async () => {
    const client = "198.51.100.20";
    expect((await get(limited, { "x-api-key": "karto_short" }, client)).statusCode).toBe(401);
    expect((await get(limited, { "x-api-key": `karto_${"A".repeat(43)}` }, client)).statusCode).toBe(401);
    expect((await get(limited, {}, client)).statusCode).toBe(401);
    expect((await get(limited, { "x-api-key": `karto_${"B".repeat(43)}` }, client)).statusCode).toBe(429);
  });

  it("counts wrong SCIM tokens against the same limit, and answers SCIM's 429 under /scim/v2", async () => {
    const client = "198.51.100.40";
    const scimUsers = (authorization: string) =>
      limited.server.inject({ method: "GET", url: "/scim/v2/Users", headers: { authorization }, remoteAddress: client });
    expect((await scimUsers("Bearer not-a-scim-token")).statusCode).toBe(401);
    expect((await get(limited, { authorization: "Bearer not-a-token" }, client)).statusCode).toBe(401);
    expect((await scimUsers("Basic c2NpbTpzY2lt")).statusCode).toBe(401);
    const refused = await scimUsers("Bearer another-guess");
    expect(refused.statusCode).toBe(429);
    expect(refused.headers["content-type"]).toMatch(/^application\/scim\+json/);
    expect(refused.json()).toMatchObject({ status: "429", detail: expect.stringMatching(/^Too many failed authentication attempts/) });
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);
    // The IAM API refuses the client too: the failures are one count.
    expect((await get(limited, { authorization: good }, client)).statusCode).toBe(429);
  });

  it("never counts successful requests", async () => {
    for (let i = 0; i < 10; i++) expect((await get(limited, { authorization: good }, "198.51.100.30")).statusCode).toBe(200);
  });

  it("limits loopback like any client unless told otherwise, and is off at 0", async () => {
    const exempt = await server({ KARTOGRAPH_AUTH_FAILURE_LIMIT: "2", KARTOGRAPH_AUTH_FAILURE_LIMIT_EXEMPT_LOOPBACK: "true" });
    const off = await server({ KARTOGRAPH_AUTH_FAILURE_LIMIT: "0" });
    for (let i = 0; i < 6; i++) {
      expect((await get(limited, { authorization: "Bearer x" }, "127.0.0.1")).statusCode).toBe(i < 3 ? 401 : 429);
      expect((await get(exempt, { authorization: "Bearer x" }, "127.0.0.1")).statusCode).toBe(401);
      expect((await get(exempt, { authorization: "Bearer x" }, "::1")).statusCode).toBe(401);
      expect((await get(off, { authorization: "Bearer x" }, "203.0.113.50")).statusCode).toBe(401);
    }
    expect((await get(exempt, { authorization: "Bearer x" }, "203.0.113.51")).statusCode).toBe(401);
    expect((await get(exempt, { authorization: "Bearer x" }, "203.0.113.51")).statusCode).toBe(401);
    expect((await get(exempt, { authorization: "Bearer x" }, "203.0.113.51")).statusCode).toBe(429);
  });
});
