import { createConnection } from "node:net";
import { Type } from "typebox";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpError, validationError } from "../../../src/platform/http/http-error.js";
import { buildHttpServer, type HttpServer, type RouteRegistrar } from "../../../src/platform/http/http-server.js";
import { serviceHealthChecks } from "../../../src/platform/http/service-health-checks.js";
import { AuthorizationUnavailableError } from "../../../src/platform/spicedb/spicedb-authorization.js";
import type { SpiceDbEngine } from "../../../src/platform/spicedb/spicedb-engine.js";
import { createTestDatabase, type TestDatabase } from "../../support/test-database.js";
import { startTestSpiceDb } from "../../support/test-spicedb.js";
import { captureLog, type CapturedLog } from "./http-test-kit.js";

const ItemBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 5 }),
    role: Type.Union([Type.Literal("admin"), Type.Literal("member")]),
    count: Type.Integer({ minimum: 1, maximum: 10 }),
  },
  { additionalProperties: false },
);

const testRoutes: RouteRegistrar = (server) => {
  server.post(
    "/test/items",
    { schema: { body: ItemBody, querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1 })) }) } },
    async (request, reply) => reply.code(201).send({ created: request.body.name }),
  );
  server.get("/test/items/:itemId", async (request) => ({ id: (request.params as { itemId: string }).itemId }));
  server.delete("/test/items/:itemId", async (_request, reply) => reply.code(204).send());
  server.get("/test/query", { schema: { querystring: Type.Object({ member_type: Type.String() }) } }, async () => ({ ok: true }));
  server.get(
    "/test/typed",
    {
      schema: {
        querystring: Type.Object(
          {
            page: Type.Optional(Type.Integer()),
            exact: Type.Optional(Type.Boolean()),
            tags: Type.Optional(Type.Array(Type.Integer())),
            name: Type.Optional(Type.String()),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => request.query,
  );
  server.get("/test/boom", async () => {
    throw new Error("connection string postgresql://app:hunter2@db/iam exploded");
  });
  server.get("/test/teapot", async () => {
    throw new HttpError(409, "Workspace 'x' already exists in tenant", { "X-Hint": "rename" });
  });
  server.post("/test/either", async () => {
    throw validationError([
      { type: "value_error", loc: ["body"], msg: "Value error, Either user_id or email is required", input: {}, ctx: { error: {} } },
    ]);
  });
  server.get("/test/authz-down", async () => {
    throw new AuthorizationUnavailableError("CheckPermission", new Error("connect ECONNREFUSED"));
  });
};

describe("HTTP server", () => {
  let database: TestDatabase;
  let spicedb: SpiceDbEngine;
  let server: HttpServer;
  let log: CapturedLog;

  beforeAll(async () => {
    [database, spicedb] = await Promise.all([createTestDatabase("pglite"), startTestSpiceDb()]);
    log = captureLog();
    server = await buildHttpServer({
      logger: log.logger,
      corsOrigins: [],
      health: serviceHealthChecks(database.handle, spicedb, "kartograph_graph"),
      routes: [testRoutes],
    });
    await server.ready();
  });
  afterAll(async () => {
    await server?.close();
    await spicedb?.close();
    await database?.dispose();
  });

  const post = (url: string, payload: unknown) => server.inject({ method: "POST", url, payload: payload as object });

  describe("health", () => {
    it("GET /health answers without checking anything", async () => {
      const response = await server.inject("/health");
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ status: "ok" });
    });

    it("GET /health/db reports the graph name as the reference does", async () => {
      const response = await server.inject("/health/db");
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ status: "ok", connected: true, graph_name: "kartograph_graph" });
    });

    it("GET /health/ready checks database, migrations and SpiceDB", async () => {
      const response = await server.inject("/health/ready");
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ status: "ok", checks: { database: "ok", migrations: "ok", spicedb: "ok" } });
    });
  });

  describe("request ids", () => {
    it("echoes a well-formed X-Request-ID", async () => {
      const response = await server.inject({ url: "/health", headers: { "x-request-id": "req-42.a:b" } });
      expect(response.headers["x-request-id"]).toBe("req-42.a:b");
    });

    it("generates one when absent or malformed, also on errors", async () => {
      for (const headers of [{}, { "x-request-id": "has spaces" }, { "x-request-id": "x".repeat(129) }]) {
        const response = await server.inject({ url: "/nowhere", headers });
        expect(response.statusCode).toBe(404);
        expect(response.headers["x-request-id"]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      }
    });
  });

  describe("access log", () => {
    it("writes one line per request at info, with the route pattern and status, never the raw URL", async () => {
      await server.inject({ url: "/test/items/SECRET-LOOKING-ID", headers: { "x-request-id": "access-1" } });
      const lines = log.records().filter((r) => r["request_id"] === "access-1");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ level: 30, msg: "request completed", method: "GET", route: "/test/items/:itemId", status: 200 });
      expect(JSON.stringify(lines[0])).not.toContain("SECRET-LOOKING-ID");
    });

    it("leaves successful probes (health, metrics) out at info: load balancers poll them all day", async () => {
      await server.inject({ url: "/health", headers: { "x-request-id": "probe-1" } });
      await server.inject({ url: "/metrics", headers: { "x-request-id": "probe-2" } });
      await server.inject({ url: "/nowhere", headers: { "x-request-id": "probe-3" } });
      const ids = log.records().map((r) => r["request_id"]);
      expect(ids).not.toContain("probe-1");
      expect(ids).not.toContain("probe-2");
      // An unknown path is not a probe: it is logged.
      expect(log.records().find((r) => r["request_id"] === "probe-3")).toMatchObject({ status: 404, route: "unmatched" });
    });
  });

  describe("errors are JSON with a detail", () => {
    it("404 for unknown routes", async () => {
      const response = await server.inject("/iam/nothing-here");
      expect(response.statusCode).toBe(404);
      expect(response.headers["content-type"]).toMatch(/^application\/json/);
      expect(response.json()).toEqual({ detail: "Not Found" });
    });

    it("405 for a known path with the wrong method, naming the allowed ones", async () => {
      const response = await server.inject({ method: "POST", url: "/health" });
      expect(response.statusCode).toBe(405);
      expect(response.json()).toEqual({ detail: "Method Not Allowed" });
      expect(response.headers["allow"]).toBe("GET, HEAD");
      const withParam = await server.inject({ method: "PUT", url: "/test/items/01ABC" });
      expect(withParam.statusCode).toBe(405);
      expect(withParam.headers["allow"]).toBe("DELETE, GET, HEAD");
    });

    it("404, not 405, for a path that only differs by a trailing slash or a segment", async () => {
      expect((await server.inject("/health/")).statusCode).toBe(404);
      expect((await server.inject("/test/items/a/b")).statusCode).toBe(404);
      expect((await server.inject({ method: "POST", url: "/test/items/a/b" })).statusCode).toBe(404);
    });

    it("HttpError carries its status, detail and headers", async () => {
      const response = await server.inject("/test/teapot");
      expect(response.statusCode).toBe(409);
      expect(response.json()).toEqual({ detail: "Workspace 'x' already exists in tenant" });
      expect(response.headers["x-hint"]).toBe("rename");
    });

    it("validationError gives a hand-made 422 in the list shape", async () => {
      const response = await post("/test/either", {});
      expect(response.statusCode).toBe(422);
      expect(response.json()).toEqual({
        detail: [{ type: "value_error", loc: ["body"], msg: "Value error, Either user_id or email is required", input: {}, ctx: { error: {} } }],
      });
    });

    it("an unexpected error is a generic 500; its details go only to the log", async () => {
      const response = await server.inject({ url: "/test/boom", headers: { "x-request-id": "boom-1" } });
      expect(response.statusCode).toBe(500);
      expect(response.json()).toEqual({ detail: "Internal Server Error" });
      expect(response.body).not.toContain("exploded");
      const record = log.records().find((r) => r["request_id"] === "boom-1" && r["msg"] === "unhandled error");
      expect(record).toBeDefined();
      const err = record?.["err"] as { message: string; stack: string };
      expect(err.message).toContain("exploded");
      expect(err.stack).toContain("http-server.test.ts");
    });

    it("a backing service outage is a 503 with Retry-After, not a 500", async () => {
      const response = await server.inject("/test/authz-down");
      expect(response.statusCode).toBe(503);
      expect(response.headers["retry-after"]).toBe("5");
      expect(response.json()).toEqual({ detail: "Service temporarily unavailable; please retry shortly" });
    });

    it("a body over the limit is a JSON 413", async () => {
      const response = await server.inject({
        method: "POST",
        url: "/test/items",
        payload: JSON.stringify({ name: "x".repeat(1_100_000) }),
        headers: { "content-type": "application/json" },
      });
      expect(response.statusCode).toBe(413);
      expect(response.json()).toEqual({ detail: "Request body is too large" });
    });

    it("a URL that is not valid percent-encoding is a JSON 400 that does not echo it", async () => {
      const response = await server.inject({ url: "/test/items/%zz", headers: { "x-request-id": "bad-url-1" } });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({ detail: "The URL is not valid: a part of it is not correctly percent-encoded" });
      expect(response.headers["x-request-id"]).toBe("bad-url-1");
      const lines = log.records().filter((r) => r["request_id"] === "bad-url-1");
      expect(lines).toEqual([expect.objectContaining({ level: 30, msg: "request completed", method: "GET", route: "unmatched", status: 400 })]);
      expect(JSON.stringify(lines)).not.toContain("%zz");
    });

    it("a path parameter over the router's limit is a JSON 414", async () => {
      const response = await server.inject(`/test/items/${"A".repeat(5_000)}`);
      expect(response.statusCode).toBe(414);
      expect(response.json()).toEqual({ detail: "URI Too Long: a path parameter exceeds the allowed length" });
    });

    it("requests the HTTP parser refuses get a JSON answer, then the connection closes", async () => {
      await server.listen({ host: "127.0.0.1", port: 0 });
      const { port } = server.server.address() as { port: number };
      const exchange = (request: string) =>
        new Promise<string>((resolve) => {
          const socket = createConnection({ host: "127.0.0.1", port });
          let received = "";
          socket.on("data", (chunk: Buffer) => (received += chunk.toString()));
          socket.on("close", () => resolve(received));
          socket.write(request);
        });
      const bodyOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)) as unknown;

      const tooLarge = await exchange(`GET /health HTTP/1.1\r\nHost: test\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`);
      expect(tooLarge).toMatch(/^HTTP\/1\.1 431 /);
      expect(bodyOf(tooLarge)).toEqual({ detail: "Request header fields are too large" });

      const garbage = await exchange("NOT HTTP AT ALL\r\n\r\n");
      expect(garbage).toMatch(/^HTTP\/1\.1 400 /);
      expect(garbage).toContain("Content-Type: application/json");
      expect(bodyOf(garbage)).toEqual({ detail: "Bad Request: the request is not valid HTTP" });
    });
  });

  describe("validation errors in FastAPI's shape", () => {
    it("accepts a valid body", async () => {
      const response = await post("/test/items", { name: "abc", role: "admin", count: 3 });
      expect(response.statusCode).toBe(201);
      expect(response.json()).toEqual({ created: "abc" });
    });

    it("string too short and too long", async () => {
      expect((await post("/test/items", { name: "", role: "admin", count: 1 })).json()).toEqual({
        detail: [{ type: "string_too_short", loc: ["body", "name"], msg: "String should have at least 1 character", input: "", ctx: { min_length: 1 } }],
      });
      expect((await post("/test/items", { name: "abcdef", role: "admin", count: 1 })).json()).toEqual({
        detail: [{ type: "string_too_long", loc: ["body", "name"], msg: "String should have at most 5 characters", input: "abcdef", ctx: { max_length: 5 } }],
      });
    });

    it("a union of literals is one enum issue", async () => {
      const response = await post("/test/items", { name: "a", role: "owner", count: 1 });
      expect(response.statusCode).toBe(422);
      expect(response.json()).toEqual({
        detail: [
          { type: "enum", loc: ["body", "role"], msg: "Input should be 'admin' or 'member'", input: "owner", ctx: { expected: "'admin' or 'member'" } },
        ],
      });
    });

    it("integer bounds and wrong types", async () => {
      expect((await post("/test/items", { name: "a", role: "member", count: 0 })).json()).toEqual({
        detail: [{ type: "greater_than_equal", loc: ["body", "count"], msg: "Input should be greater than or equal to 1", input: 0, ctx: { ge: 1 } }],
      });
      expect((await post("/test/items", { name: "a", role: "member", count: 11 })).json()).toEqual({
        detail: [{ type: "less_than_equal", loc: ["body", "count"], msg: "Input should be less than or equal to 10", input: 11, ctx: { le: 10 } }],
      });
      expect((await post("/test/items", { name: "a", role: "member", count: 1.5 })).json()).toEqual({
        detail: [
          { type: "int_from_float", loc: ["body", "count"], msg: "Input should be a valid integer, got a number with a fractional part", input: 1.5 },
        ],
      });
      expect((await post("/test/items", { name: 5, role: "member", count: "x" })).json()).toEqual({
        detail: [
          { type: "string_type", loc: ["body", "name"], msg: "Input should be a valid string", input: 5 },
          { type: "int_type", loc: ["body", "count"], msg: "Input should be a valid integer", input: "x" },
        ],
      });
    });

    it("missing fields and extra fields, in the schema's field order", async () => {
      const body = { name: "", surprise: true };
      expect((await post("/test/items", body)).json()).toEqual({
        detail: [
          { type: "string_too_short", loc: ["body", "name"], msg: "String should have at least 1 character", input: "", ctx: { min_length: 1 } },
          { type: "missing", loc: ["body", "role"], msg: "Field required", input: body },
          { type: "missing", loc: ["body", "count"], msg: "Field required", input: body },
          { type: "extra_forbidden", loc: ["body", "surprise"], msg: "Extra inputs are not permitted", input: true },
        ],
      });
    });

    it("a body that is not an object, and no body at all", async () => {
      expect((await post("/test/items", [1])).json()).toEqual({
        detail: [{ type: "model_attributes_type", loc: ["body"], msg: "Input should be a valid dictionary or object to extract fields from", input: [1] }],
      });
      const empty = await server.inject({ method: "POST", url: "/test/items" });
      expect(empty.statusCode).toBe(422);
      expect(empty.json()).toEqual({ detail: [{ type: "missing", loc: ["body"], msg: "Field required", input: null }] });
    });

    it("query parameters: missing and wrong type", async () => {
      expect((await server.inject("/test/query")).json()).toEqual({
        detail: [{ type: "missing", loc: ["query", "member_type"], msg: "Field required", input: null }],
      });
      const withLimit = (limit: string) =>
        server.inject({ method: "POST", url: `/test/items?limit=${limit}`, payload: { name: "a", role: "admin", count: 1 } });
      expect((await withLimit("0")).json()).toEqual({
        detail: [{ type: "greater_than_equal", loc: ["query", "limit"], msg: "Input should be greater than or equal to 1", input: "0", ctx: { ge: 1 } }],
      });
      expect((await withLimit("ten")).json()).toEqual({
        detail: [{ type: "int_type", loc: ["query", "limit"], msg: "Input should be a valid integer", input: "ten" }],
      });
      expect((await withLimit("2.5")).statusCode).toBe(422);
    });

    it("query parameters that spell numbers and booleans are converted (a JSON body's are not)", async () => {
      expect((await server.inject({ method: "POST", url: "/test/items?limit=5", payload: { name: "a", role: "admin", count: 1 } })).statusCode).toBe(201);
      const response = await server.inject("/test/typed?page=3&exact=true&tags=1&tags=2&name=007");
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ page: 3, exact: true, tags: [1, 2], name: "007" });
      expect((await server.inject("/test/typed?exact=no")).json()).toEqual({ exact: false });
      expect((await post("/test/items", { name: "a", role: "admin", count: "5" })).statusCode).toBe(422);
    });

    it("broken JSON is a 422 json_invalid", async () => {
      const response = await server.inject({
        method: "POST",
        url: "/test/items",
        payload: '{"name": "a",',
        headers: { "content-type": "application/json" },
      });
      expect(response.statusCode).toBe(422);
      const [issue, ...rest] = response.json().detail as Record<string, unknown>[];
      expect(rest).toEqual([]);
      expect(issue).toMatchObject({ type: "json_invalid", msg: "JSON decode error", input: {} });
      expect((issue?.["loc"] as unknown[])[0]).toBe("body");
      expect(typeof (issue?.["loc"] as unknown[])[1]).toBe("number");
    });

    it("a deeply nested body is a 422 that echoes only its first levels, not a 500", async () => {
      const depthOf = (value: unknown): number => {
        let depth = 0;
        for (let current = value; Array.isArray(current); current = current[0]) depth++;
        return depth;
      };
      const nested = (levels: number) => "[".repeat(levels) + "]".repeat(levels);
      const asBody = await server.inject({ method: "POST", url: "/test/items", payload: nested(10_000), headers: { "content-type": "application/json" } });
      expect(asBody.statusCode).toBe(422);
      const [bodyIssue] = asBody.json().detail as Record<string, unknown>[];
      expect(bodyIssue).toMatchObject({ type: "model_attributes_type", loc: ["body"] });
      expect(depthOf(bodyIssue?.["input"])).toBeLessThanOrEqual(32);

      const inField = await server.inject({
        method: "POST",
        url: "/test/items",
        payload: `{"name": ${nested(10_000)}, "role": "admin", "count": 1}`,
        headers: { "content-type": "application/json" },
      });
      expect(inField.statusCode).toBe(422);
      const [fieldIssue] = inField.json().detail as Record<string, unknown>[];
      expect(fieldIssue).toMatchObject({ type: "string_type", loc: ["body", "name"] });
      expect(depthOf(fieldIssue?.["input"])).toBeLessThanOrEqual(32);

      const objects = await server.inject({
        method: "POST",
        url: "/test/items",
        payload: `${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}`,
        headers: { "content-type": "application/json" },
      });
      expect(objects.statusCode).toBe(422);
      expect(objects.json().detail[0]).toMatchObject({ type: "missing", loc: ["body", "name"] });

      // A shallow input is still echoed whole, as FastAPI does.
      expect((await post("/test/items", [[[1]]])).json().detail[0].input).toEqual([[[1]]]);
    });

    it("text PostgreSQL cannot store (NUL, half a surrogate pair) is a 422 naming the field", async () => {
      const send = (payload: string) =>
        server.inject({ method: "POST", url: "/test/items", payload, headers: { "content-type": "application/json" } });
      const nul = { type: "string_nul", msg: "Text must not contain the NUL character (\\u0000)" };

      const inField = await send('{"name": "a\\u0000b", "role": "admin", "count": 1}');
      expect(inField.statusCode).toBe(422);
      expect(inField.json()).toEqual({ detail: [{ ...nul, loc: ["body", "name"], input: "a\u0000b" }] });

      const inKey = await send('{"name": "a", "role": "admin", "count": 1, "x\\u0000": 1}');
      expect(inKey.json()).toEqual({ detail: [{ ...nul, loc: ["body", "x\u0000"], input: "x\u0000" }] });

      const nested = await send(`{"name": [1, {"deep": "\\u0000"}], "role": "admin", "count": 1}`);
      expect(nested.json().detail[0].loc).toEqual(["body", "name", 1, "deep"]);

      const halfPair = await send('{"name": "a\\ud800", "role": "admin", "count": 1}');
      expect(halfPair.json()).toEqual({
        detail: [
          {
            type: "string_unicode",
            loc: ["body", "name"],
            msg: "Text must be valid Unicode: it holds half of a surrogate pair (\\ud800-\\udfff)",
            input: "a\ud800",
          },
        ],
      });
      // A whole pair spelt as escapes is an ordinary character.
      expect((await send('{"name": "\\ud83d\\ude00", "role": "admin", "count": 1}')).statusCode).toBe(201);

      // A backslash followed by "u0000" is ordinary text, and still reaches validation.
      const literal = await send('{"name": "\\\\u0000", "role": "admin", "count": 1}');
      expect(literal.json().detail[0]).toMatchObject({ type: "string_too_long", input: "\\u0000" });
      // Prototype poisoning is still refused by Fastify's own parser underneath.
      expect((await send('{"__proto__": {"x": 1}}')).json().detail[0]).toMatchObject({ type: "json_invalid" });
    });

    it("a URL holding the NUL character is a 400", async () => {
      for (const url of ["/test/items/a%00b", "/test/query?member_type=%00"]) {
        const response = await server.inject(url);
        expect(response.statusCode).toBe(400);
        expect(response.json()).toEqual({ detail: "The URL must not contain the NUL character (%00)" });
      }
    });

    it("a body that is not JSON is a 422 naming the content type", async () => {
      const response = await server.inject({ method: "POST", url: "/test/items", payload: "name=a", headers: { "content-type": "text/plain" } });
      expect(response.statusCode).toBe(422);
      expect(response.json().detail[0]).toMatchObject({ type: "model_attributes_type", loc: ["body"] });
    });
  });

  describe("metrics, OpenAPI and docs", () => {
    it("GET /metrics has request durations by route pattern and status", async () => {
      await server.inject("/health");
      await server.inject("/test/items/01J0ABCDEF");
      await server.inject("/iam/tenants/01J0SECRETID");
      const response = await server.inject("/metrics");
      expect(response.statusCode).toBe(200);
      expect(response.headers["content-type"]).toMatch(/^text\/plain/);
      const text = response.body;
      expect(text).toMatch(/http_request_duration_seconds_bucket\{le="[^"]+",method="GET",route="\/health",status_code="200"\} \d+/);
      expect(text).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/test\/items\/:itemId",status_code="200"\} [1-9]/);
      expect(text).toMatch(/route="unmatched",status_code="404"/);
      expect(text).not.toContain("01J0ABCDEF");
      expect(text).not.toContain("01J0SECRETID");
      expect(text).toContain("process_cpu_user_seconds_total");
    });

    it("GET /openapi.json describes the routes (OpenAPI 3.1)", async () => {
      const response = await server.inject("/openapi.json");
      expect(response.statusCode).toBe(200);
      const document = response.json() as { openapi: string; paths: Record<string, unknown>; info: { title: string } };
      expect(document.openapi).toBe("3.1.0");
      expect(document.info.title).toBe("Kartograph IAM");
      expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(["/health", "/health/db", "/health/ready", "/test/items"]));
      expect(Object.keys(document.paths)).not.toContain("/metrics");
    });

    it("GET /docs serves the interactive documentation", async () => {
      let response = await server.inject("/docs");
      if (response.statusCode === 302) response = await server.inject(String(response.headers["location"]));
      expect(response.statusCode).toBe(200);
      expect(response.headers["content-type"]).toMatch(/^text\/html/);
      expect(response.body.toLowerCase()).toContain("swagger");
    });
  });
});

describe("CORS from KARTOGRAPH_CORS_ORIGINS", () => {
  let server: HttpServer;
  beforeAll(async () => {
    server = await buildHttpServer({
      logger: captureLog().logger,
      corsOrigins: ["https://ui.example.com"],
      health: { graphName: "g", pingDatabase: async () => {}, migrationsCurrent: async () => true, pingAuthorization: async () => {} },
      routes: [testRoutes],
    });
  });
  afterAll(() => server?.close());

  const preflight = (origin: string) =>
    server.inject({
      method: "OPTIONS",
      url: "/test/items",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type,authorization" },
    });

  it("answers a preflight from an allowed origin with the CORS headers", async () => {
    const response = await preflight("https://ui.example.com");
    expect(response.statusCode).toBe(204);
    expect(response.headers["access-control-allow-origin"]).toBe("https://ui.example.com");
    expect(response.headers["access-control-allow-credentials"]).toBe("true");
    expect(String(response.headers["access-control-allow-methods"])).toContain("POST");
    expect(String(response.headers["access-control-allow-headers"]).toLowerCase()).toContain("authorization");
  });

  it("gives other origins no CORS headers", async () => {
    const response = await preflight("https://evil.example.com");
    expect(Object.keys(response.headers).filter((name) => name.startsWith("access-control-"))).toEqual([]);
    expect(response.statusCode).toBe(405);
    expect(response.json()).toEqual({ detail: "Method Not Allowed" });
    const simple = await server.inject({ url: "/health", headers: { origin: "https://evil.example.com" } });
    expect(simple.statusCode).toBe(200);
    expect(Object.keys(simple.headers).filter((name) => name.startsWith("access-control-"))).toEqual([]);
  });

  it("marks simple responses for the allowed origin and exposes the request id", async () => {
    const response = await server.inject({ url: "/health", headers: { origin: "https://ui.example.com" } });
    expect(response.headers["access-control-allow-origin"]).toBe("https://ui.example.com");
    expect(String(response.headers["access-control-expose-headers"])).toContain("X-Request-ID");
  });

  it("keeps 404 and 405 for unknown paths and wrong methods (the preflight route is no catch-all for them)", async () => {
    expect((await server.inject("/nowhere")).json()).toEqual({ detail: "Not Found" });
    const wrong = await server.inject({ method: "PUT", url: "/health" });
    expect(wrong.statusCode).toBe(405);
    expect(wrong.headers["allow"]).toBe("GET, HEAD");
  });
});

describe("health when parts fail (embedded)", () => {
  const build = (database: TestDatabase, spicedb: Pick<SpiceDbEngine, "ping">) =>
    buildHttpServer({ logger: captureLog().logger, corsOrigins: [], health: serviceHealthChecks(database.handle, spicedb, "kartograph_graph") });

  it("a closed database makes /health/db and /health/ready 503 with a JSON detail; /health stays 200", async () => {
    const [database, spicedb] = await Promise.all([createTestDatabase("pglite"), startTestSpiceDb()]);
    const server = await build(database, spicedb);
    try {
      await database.handle.close();
      const db = await server.inject("/health/db");
      expect(db.statusCode).toBe(503);
      expect(db.json()).toEqual({ detail: "Database connectivity failure: the database did not answer" });
      const ready = await server.inject("/health/ready");
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toEqual({
        detail: "Not ready: database unreachable, migrations unknown",
        checks: { database: "unreachable", migrations: "unknown", spicedb: "ok" },
      });
      expect((await server.inject("/health")).statusCode).toBe(200);
    } finally {
      await server.close();
      await spicedb.close();
    }
  });

  it("a stopped SpiceDB makes /health/ready 503, and that failing probe is in the access log", async () => {
    const [database, spicedb] = await Promise.all([createTestDatabase("pglite"), startTestSpiceDb()]);
    const log = captureLog();
    const server = await buildHttpServer({ logger: log.logger, corsOrigins: [], health: serviceHealthChecks(database.handle, spicedb, "kartograph_graph") });
    try {
      await spicedb.close();
      const ready = await server.inject("/health/ready");
      expect(ready.statusCode).toBe(503);
      expect(ready.json().checks).toEqual({ database: "ok", migrations: "ok", spicedb: "unreachable" });
      expect((await server.inject("/health/db")).statusCode).toBe(200);
      const access = log.records().filter((r) => r["msg"] === "request completed");
      expect(access).toEqual([expect.objectContaining({ level: 30, route: "/health/ready", status: 503 })]);
    } finally {
      await server.close();
      await database.dispose();
    }
  });

  it("relationships SpiceDB refused at start-up make /health/ready 200 degraded, naming how many", async () => {
    const [database, spicedb] = await Promise.all([createTestDatabase("pglite"), startTestSpiceDb()]);
    const server = await buildHttpServer({
      logger: captureLog().logger,
      corsOrigins: [],
      health: serviceHealthChecks(database.handle, spicedb, "kartograph_graph", () => 3),
    });
    try {
      const ready = await server.inject("/health/ready");
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toEqual({
        status: "degraded",
        checks: { database: "ok", migrations: "ok", spicedb: "ok", relationships: "3 refused by SpiceDB at start-up" },
      });
    } finally {
      await server.close();
      await spicedb.close();
      await database.dispose();
    }
  });

  it("pending migrations make /health/ready 503", async () => {
    const { openPglite } = await import("../../../src/platform/database/pglite-database.js");
    const handle = await openPglite(null);
    const server = await buildHttpServer({
      logger: captureLog().logger,
      corsOrigins: [],
      health: serviceHealthChecks(handle, { ping: async () => {} }, "g"),
    });
    try {
      const ready = await server.inject("/health/ready");
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toEqual({ detail: "Not ready: migrations pending", checks: { database: "ok", migrations: "pending", spicedb: "ok" } });
    } finally {
      await server.close();
      await handle.close();
    }
  });
});

describe("shutting down", () => {
  /**
   * Between the start of close() and the moment Node stops reading from open connections (while
   * the preClose hooks run), a request can still arrive on a busy keep-alive connection. The test
   * holds that window open with a preClose hook of its own until the second request is answered.
   */
  it("finishes the request in flight and answers a request arriving meanwhile with a JSON 503", async () => {
    let entered!: () => void;
    const handlerEntered = new Promise<void>((resolve) => (entered = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let closeStarted!: () => void;
    const closing = new Promise<void>((resolve) => (closeStarted = resolve));
    let secondAnswered!: () => void;
    const answered = new Promise<void>((resolve) => (secondAnswered = resolve));
    const server = await buildHttpServer({
      logger: captureLog().logger,
      corsOrigins: [],
      health: { graphName: "g", pingDatabase: async () => {}, migrationsCurrent: async () => true, pingAuthorization: async () => {} },
      routes: [
        (app) => {
          app.addHook("preClose", async () => {
            closeStarted();
            await answered;
          });
          app.addHook("onResponse", async (_request, reply) => {
            if (reply.statusCode === 503) secondAnswered();
          });
          app.get("/test/slow", async () => {
            entered();
            await released;
            return { finished: true };
          });
        },
      ],
    });
    await server.listen({ host: "127.0.0.1", port: 0 });
    const { port } = server.server.address() as { port: number };

    // Connection A carries the slow request; connection B is an idle keep-alive connection that
    // sends another request once closing has begun.
    const connect = () => {
      const socket = createConnection({ host: "127.0.0.1", port });
      let received = "";
      socket.on("data", (chunk: Buffer) => (received += chunk.toString()));
      const ended = new Promise<void>((resolve) => socket.on("close", () => resolve()));
      return { socket, received: () => received, ended };
    };
    const a = connect();
    const b = connect();
    b.socket.write("GET /health HTTP/1.1\r\nHost: test\r\n\r\n");
    a.socket.write("GET /test/slow HTTP/1.1\r\nHost: test\r\n\r\n");
    await handlerEntered;
    while (!b.received().includes('{"status":"ok"}')) await new Promise((resolve) => setTimeout(resolve, 5));
    const closed = server.close();
    await closing;
    b.socket.write("GET /health HTTP/1.1\r\nHost: test\r\n\r\n");
    await answered;
    release();
    await closed;
    await Promise.all([a.ended, b.ended]);

    expect(a.received()).toMatch(/^HTTP\/1\.1 200 /);
    expect(a.received()).toContain('{"finished":true}');
    const responses = b.received().split(/(?=HTTP\/1\.1 )/);
    expect(responses).toHaveLength(2);
    expect(responses[0]).toMatch(/^HTTP\/1\.1 200 /);
    expect(responses[1]).toMatch(/^HTTP\/1\.1 503 /);
    expect(responses[1]).toMatch(/\r\nconnection: close\r\n/i);
    expect(responses[1]?.split("\r\n\r\n")[1]).toBe('{"detail":"Service Unavailable: shutting down"}');
  });
});
