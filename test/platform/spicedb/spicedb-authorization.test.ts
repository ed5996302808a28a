import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Relationship, RelationshipUpdate } from "../../../src/shared-kernel/authorization/authorization-port.js";
import { formatRelationship } from "../../../src/shared-kernel/authorization/authorization-port.js";
import { AuthorizationUnavailableError } from "../../../src/platform/spicedb/spicedb-authorization.js";
import { startSpiceDb, type SpiceDbEngine } from "../../../src/platform/spicedb/spicedb-engine.js";
import { isUnavailableError } from "../../../src/platform/runtime/unavailable.js";
import { HAS_SPICEDB_SERVER, startTestSpiceDb } from "../../support/test-spicedb.js";

const member = (tenant: string, userId: string): Relationship => ({
  resource: { type: "tenant", id: tenant },
  relation: "member",
  subject: { type: "user", id: userId },
});
const admin = (tenant: string, userId: string): Relationship => ({ ...member(tenant, userId), relation: "admin" });
const touch = (relationship: Relationship): RelationshipUpdate => ({ operation: "touch", relationship });
const remove = (relationship: Relationship): RelationshipUpdate => ({ operation: "delete", relationship });

describe(`SpiceDbAuthorization on ${HAS_SPICEDB_SERVER ? "a SpiceDB server" : "the embedded engine"}`, () => {
  let engine: SpiceDbEngine;
  const authz = () => engine.authorization;
  const all = async () =>
    (await authz().readRelationships({ resourceType: "tenant" })).map(formatRelationship).sort();

  beforeAll(async () => {
    engine = await startTestSpiceDb();
  });
  afterAll(() => engine?.close());
  beforeEach(async () => {
    await authz().deleteRelationships({ resourceType: "tenant" });
    await authz().deleteRelationships({ resourceType: "workspace" });
  });

  it("answers checkBulk in the order of the checks", async () => {
    await authz().writeRelationships([touch(member("t1", "u1")), touch(admin("t2", "u2"))]);
    const answers = await authz().checkBulk([
      { resource: { type: "tenant", id: "t1" }, permission: "view", subject: { type: "user", id: "u2" } },
      { resource: { type: "tenant", id: "t1" }, permission: "view", subject: { type: "user", id: "u1" } },
      { resource: { type: "tenant", id: "t2" }, permission: "manage", subject: { type: "user", id: "u1" } },
      { resource: { type: "tenant", id: "t2" }, permission: "manage", subject: { type: "user", id: "u2" } },
      { resource: { type: "tenant", id: "nope" }, permission: "view", subject: { type: "user", id: "u1" } },
    ]);
    expect(answers).toEqual([false, true, false, true, false]);
    expect(await authz().checkBulk([])).toEqual([]);
  });

  it("keeps the order across checkBulk batches (more than one request's worth of items)", async () => {
    await authz().writeRelationships([touch(member("t1", "u1"))]);
    const checks = Array.from({ length: 2_050 }, (_, i) => ({
      resource: { type: "tenant", id: i % 3 === 0 ? "t1" : "t9" },
      permission: "view",
      subject: { type: "user", id: "u1" },
    }));
    const answers = await authz().checkBulk(checks);
    expect(answers).toHaveLength(2_050);
    expect(answers.every((answer, i) => answer === (i % 3 === 0))).toBe(true);
  });

  it("writes more updates than one request takes", async () => {
    await authz().writeRelationships(Array.from({ length: 1_500 }, (_, i) => touch(member("big", `u${i}`))));
    expect(await authz().lookupSubjects({ type: "tenant", id: "big" }, "view", "user")).toHaveLength(1_500);
  });

  it("looks up resources and subjects", async () => {
    await authz().writeRelationships([
      touch(member("t1", "u1")),
      touch(admin("t2", "u1")),
      touch(member("t3", "u2")),
      touch(admin("t1", "u3")),
    ]);
    expect((await authz().lookupResources("tenant", "view", { type: "user", id: "u1" })).sort()).toEqual(["t1", "t2"]);
    expect(await authz().lookupResources("tenant", "manage", { type: "user", id: "u1" })).toEqual(["t2"]);
    expect(await authz().lookupResources("tenant", "view", { type: "user", id: "nobody" })).toEqual([]);
    expect((await authz().lookupSubjects({ type: "tenant", id: "t1" }, "view", "user")).sort()).toEqual(["u1", "u3"]);
    expect(await authz().lookupSubjects({ type: "tenant", id: "t1" }, "manage", "user")).toEqual(["u3"]);
  });

  it("reads relationships by resource, relation, subject and subject relation", async () => {
    await authz().writeRelationships([
      touch(member("t1", "u1")),
      touch(admin("t1", "u2")),
      touch(member("t2", "u1")),
      touch({ resource: { type: "workspace", id: "w1" }, relation: "editor", subject: { type: "group", id: "g1", relation: "member" } }),
      touch({ resource: { type: "workspace", id: "w1" }, relation: "editor", subject: { type: "user", id: "u1" } }),
    ]);
    const read = async (filter: Parameters<ReturnType<typeof authz>["readRelationships"]>[0]) =>
      (await authz().readRelationships(filter)).map(formatRelationship).sort();
    expect(await read({ resourceType: "tenant" })).toEqual(["tenant:t1#admin@user:u2", "tenant:t1#member@user:u1", "tenant:t2#member@user:u1"]);
    expect(await read({ resourceType: "tenant", resourceId: "t1" })).toEqual(["tenant:t1#admin@user:u2", "tenant:t1#member@user:u1"]);
    expect(await read({ resourceType: "tenant", relation: "member" })).toEqual(["tenant:t1#member@user:u1", "tenant:t2#member@user:u1"]);
    expect(await read({ resourceType: "tenant", subjectType: "user", subjectId: "u2" })).toEqual(["tenant:t1#admin@user:u2"]);
    expect(await read({ resourceType: "workspace", subjectType: "group" })).toEqual(["workspace:w1#editor@group:g1#member"]);
    expect(await read({ resourceType: "workspace", subjectType: "group", subjectRelation: "member" })).toEqual([
      "workspace:w1#editor@group:g1#member",
    ]);
    const [groupGrant] = await authz().readRelationships({ resourceType: "workspace", subjectType: "group" });
    expect(groupGrant?.subject).toEqual({ type: "group", id: "g1", relation: "member" });
    const [userGrant] = await authz().readRelationships({ resourceType: "workspace", subjectType: "user" });
    expect(userGrant?.subject).toEqual({ type: "user", id: "u1" });
  });

  it("refuses a filter with a subject id but no subject type", async () => {
    await expect(authz().readRelationships({ resourceType: "tenant", subjectId: "u1" })).rejects.toThrow(/needs a subject type/);
  });

  it("deletes relationships by filter and leaves the rest", async () => {
    await authz().writeRelationships([touch(member("t1", "u1")), touch(admin("t1", "u2")), touch(member("t2", "u1"))]);
    const token = await authz().deleteRelationships({ resourceType: "tenant", subjectType: "user", subjectId: "u1" });
    expect(typeof token).toBe("string");
    expect(await all()).toEqual(["tenant:t1#admin@user:u2"]);
    await authz().deleteRelationships({ resourceType: "tenant", resourceId: "t1", relation: "admin" });
    expect(await all()).toEqual([]);
  });

  it("touch is idempotent and a delete of a missing relationship is harmless", async () => {
    await authz().writeRelationships([touch(member("t1", "u1"))]);
    await authz().writeRelationships([touch(member("t1", "u1"))]);
    expect(await all()).toEqual(["tenant:t1#member@user:u1"]);
    await authz().writeRelationships([remove(member("t1", "never"))]);
    await authz().writeRelationships([remove(member("t1", "u1"))]);
    await authz().writeRelationships([remove(member("t1", "u1"))]);
    expect(await all()).toEqual([]);
    expect(await authz().deleteRelationships({ resourceType: "tenant", resourceId: "none" })).toEqual(expect.any(String));
  });

  it("accepts one relationship several times in one write, the last update winning", async () => {
    await authz().writeRelationships([touch(member("t1", "u1")), touch(member("t1", "u1")), touch(member("t1", "u2"))]);
    expect(await all()).toEqual(["tenant:t1#member@user:u1", "tenant:t1#member@user:u2"]);
    await authz().writeRelationships([touch(member("t1", "u3")), remove(member("t1", "u3")), remove(member("t1", "u1")), touch(member("t1", "u1"))]);
    expect(await all()).toEqual(["tenant:t1#member@user:u1", "tenant:t1#member@user:u2"]);
  });

  it("reports a request SpiceDB refuses as a request error, not as an outage", async () => {
    const refused = await authz()
      .writeRelationships([touch({ ...member("t1", "u1"), relation: "no_such_relation" })])
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ name: "AuthorizationRequestError" });
    expect(isUnavailableError(refused)).toBe(false);
    const unknownPermission = await authz()
      .lookupResources("tenant", "no_such_permission", { type: "user", id: "u1" })
      .catch((error: unknown) => error);
    expect(unknownPermission).toMatchObject({ name: "AuthorizationRequestError" });
    expect(await all()).toEqual([]);
  });

  it("returns a ZedToken that reads can require", async () => {
    const token = await authz().writeRelationships([touch(member("t1", "u1"))]);
    expect(token).toEqual(expect.any(String));
    const fresh = { kind: "atLeastAsFresh", token: token ?? "" } as const;
    expect(await authz().check({ resource: { type: "tenant", id: "t1" }, permission: "view", subject: { type: "user", id: "u1" } }, fresh)).toBe(true);
    expect(await authz().lookupResources("tenant", "view", { type: "user", id: "u1" }, fresh)).toEqual(["t1"]);
    expect(await authz().writeRelationships([])).toBeNull();
  });

  it("reports an engine that is gone as unavailable (a 503, not a 500)", async () => {
    const closed = await startTestSpiceDb();
    await closed.close();
    const failure = await closed.authorization
      .check({ resource: { type: "tenant", id: "t1" }, permission: "view", subject: { type: "user", id: "u1" } })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AuthorizationUnavailableError);
    expect(isUnavailableError(failure)).toBe(true);
    await expect(closed.ping()).rejects.toThrow();
  });
});

describe("a remote SpiceDB that does not answer", () => {
  it("fails start-up with a SpiceDbStartError naming the endpoint", async () => {
    await expect(startSpiceDb({ endpoint: "127.0.0.1:1", presharedKey: "k", useTls: false, certPath: null })).rejects.toMatchObject({
      name: "SpiceDbStartError",
      message: expect.stringContaining("127.0.0.1:1"),
    });
  });

  it("fails start-up naming SPICEDB_CERT_PATH when the certificate cannot be read or is not one", async () => {
    await expect(
      startSpiceDb({ endpoint: "127.0.0.1:1", presharedKey: "k", useTls: true, certPath: "/nonexistent/ca.pem" }),
    ).rejects.toMatchObject({ name: "SpiceDbStartError", message: expect.stringMatching(/^SPICEDB_CERT_PATH \/nonexistent\/ca\.pem cannot be read/) });
    const notACertificate = join(mkdtempSync(join(tmpdir(), "kiam-cert-")), "ca.pem");
    writeFileSync(notACertificate, "not a certificate\n");
    await expect(
      startSpiceDb({ endpoint: "127.0.0.1:1", presharedKey: "k", useTls: true, certPath: notACertificate }),
    ).rejects.toMatchObject({ name: "SpiceDbStartError", message: `SPICEDB_CERT_PATH ${notACertificate} holds no PEM certificate; give the CA certificate that signed SpiceDB's` });
    rmSync(dirname(notACertificate), { recursive: true });
  });

  it("fails start-up naming SPICEDB_ENDPOINT when the address takes connections and never answers", async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const endpoint = `127.0.0.1:${(silent.address() as { port: number }).port}`;
    try {
      await expect(startSpiceDb({ endpoint, presharedKey: "k", useTls: false, certPath: null })).rejects.toMatchObject({
        name: "SpiceDbStartError",
        message: `SpiceDB at ${endpoint} (SPICEDB_ENDPOINT) did not answer within 5000 ms; check the address and that SpiceDB runs and is reachable from here`,
      });
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });
});
