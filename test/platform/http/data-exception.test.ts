/**
 * The safety net below the routes' limits: a value that only the database refuses (PostgreSQL's
 * class 22, data exceptions) is the client's 422, worded without SQL, logged with the request id
 * and counted in /metrics, on both databases.
 */
import { sql } from "drizzle-orm";
import { Type } from "typebox";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../../src/platform/database/database.js";
import { sendScimError } from "../../../src/iam/presentation/scim/scim-error.js";
import { buildHttpServer, type HttpServer } from "../../../src/platform/http/http-server.js";
import { TEST_DATABASE_KINDS, createTestDatabase, type TestDatabase } from "../../support/test-database.js";
import { captureLog, type CapturedLog } from "./http-test-kit.js";

describe.each(TEST_DATABASE_KINDS)("data exceptions from %s", (kind) => {
  let database: TestDatabase;
  let server: HttpServer;
  let log: CapturedLog;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    log = captureLog();
    server = await buildHttpServer({
      logger: log.logger,
      corsOrigins: [],
      health: { graphName: "test", pingDatabase: async () => undefined, migrationsCurrent: async () => true, pingAuthorization: async () => undefined },
      routes: [
        (app) => {
          // A route without limits, writing what it is given: what a forgotten maxLength looks like.
          app.post(
            "/test/tenants",
            { schema: { body: Type.Object({ id: Type.String(), name: Type.String() }) } },
            async (request, reply) => {
              await queryRows(database.handle.db, sql`INSERT INTO tenants (id, name) VALUES (${request.body.id}, ${request.body.name})`);
              return reply.code(201).send({});
            },
          );
          app.get("/test/count/:value", async (request) => {
            const { value } = request.params as { value: string };
            return queryRows(database.handle.db, sql`SELECT ${value}::integer AS n`);
          });
        },
        // An API with an error handler of its own answers the same refusal in its own shape.
        (app) =>
          app.register(
            async (scim) => {
              scim.setErrorHandler(sendScimError);
              scim.get("/Users", async (request) => {
                const { since } = request.query as { since: string };
                return queryRows(database.handle.db, sql`SELECT ${since}::timestamptz AS t`);
              });
            },
            { prefix: "/test/scim" },
          ),
      ],
    });
  });
  afterAll(async () => {
    await server?.close();
    await database?.dispose();
  });

  it("answers a value too long for its column with a 422 that names no SQL", async () => {
    const response = await server.inject({
      method: "POST",
      url: "/test/tenants",
      headers: { "x-request-id": "req-too-long" },
      payload: { id: "01ARZ3NDEKTSV4RRFFQ69G5FAV", name: "t".repeat(100_000) },
    });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual({
      detail: [{ type: "value_error", loc: ["body"], msg: "A value is not valid for storage", input: null }],
    });
    expect(response.body).not.toMatch(/varying|tenants|insert|22001/i);
    const line = log.records().find((record) => record["request_id"] === "req-too-long" && record["level"] === 40);
    expect(line).toMatchObject({ sqlstate: "22001", route: "/test/tenants", msg: expect.stringContaining("lacks a limit") });
    expect(String(line?.["reason"])).not.toContain("t".repeat(100));
    expect((await queryRows(database.handle.db, sql`SELECT id FROM tenants`)).length).toBe(0);
  });

  it("answers text that is not valid for its type with a 422 too, and counts both per route", async () => {
    const response = await server.inject({ method: "GET", url: "/test/count/twelve" });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual({
      detail: [{ type: "value_error", loc: ["path"], msg: "A value is not valid for storage", input: null }],
    });
    const metrics = (await server.inject({ method: "GET", url: "/metrics" })).body;
    expect(metrics).toContain('kartograph_validation_reached_database_total{route="POST /test/tenants"} 1');
    expect(metrics).toContain('kartograph_validation_reached_database_total{route="GET /test/count/:value"} 1');
  });

  it("lets the SCIM error handler answer one with a SCIM 400 invalidValue, logged and counted alike", async () => {
    const response = await server.inject({ method: "GET", url: "/test/scim/Users?since=-271821-04-20T00:00:00Z", headers: { "x-request-id": "req-scim" } });
    expect({ status: response.statusCode, type: response.headers["content-type"], body: response.json() }).toEqual({
      status: 400,
      type: "application/scim+json; charset=utf-8",
      body: { schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"], status: "400", scimType: "invalidValue", detail: "A value in the request is not valid for storage" },
    });
    expect(log.records().find((record) => record["request_id"] === "req-scim" && record["level"] === 40)).toMatchObject({ route: "/test/scim/Users", msg: expect.stringContaining("lacks a limit") });
    expect(log.records().some((record) => record["request_id"] === "req-scim" && record["level"] === 50)).toBe(false);
    expect((await server.inject({ method: "GET", url: "/metrics" })).body).toContain('kartograph_validation_reached_database_total{route="GET /test/scim/Users"} 1');
  });
});
