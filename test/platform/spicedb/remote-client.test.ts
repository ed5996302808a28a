/**
 * The remote client against a SpiceDB that accepts the connection and then never answers (a frozen
 * node, a half-open connection): every call must end as "SpiceDB unavailable" within its deadline
 * instead of holding its request, or a drain and its tenant's outbox lock, for ever.
 */
import { createServer, type Http2Server, type ServerHttp2Stream } from "node:http2";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { remoteSpiceDbClient } from "../../../src/platform/spicedb/remote-client.js";
import { AuthorizationUnavailableError, SpiceDbAuthorization } from "../../../src/platform/spicedb/spicedb-authorization.js";

describe("the remote SpiceDB client against a server that never answers", () => {
  let server: Http2Server;
  const held: ServerHttp2Stream[] = [];
  let authorization: SpiceDbAuthorization;
  let client: ReturnType<typeof remoteSpiceDbClient>;

  beforeAll(async () => {
    // An HTTP/2 (h2c) server that takes every gRPC call and leaves it open without a word.
    server = createServer();
    server.on("stream", (stream) => held.push(stream));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const endpoint = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    client = remoteSpiceDbClient(
      { endpoint, presharedKey: "frozen", useTls: false, certPath: null },
      { unaryDeadlineMs: 300, streamDeadlineMs: 600, maxReconnectBackoffMs: 1_000 },
    );
    authorization = new SpiceDbAuthorization(client);
  });
  afterAll(async () => {
    client?.close();
    for (const stream of held) stream.destroy();
    await new Promise((resolve) => server?.close(resolve));
  });

  const user = { type: "user", id: "alice" };
  const tenant = { type: "tenant", id: "acme" };

  it("ends a check, a write and a delete as SpiceDB unavailable once their deadline passes", async () => {
    await expect(authorization.check({ resource: tenant, permission: "view", subject: user })).rejects.toBeInstanceOf(AuthorizationUnavailableError);
    await expect(
      authorization.writeRelationships([{ operation: "touch", relationship: { resource: tenant, relation: "member", subject: user } }]),
    ).rejects.toThrow(/SpiceDB WriteRelationships failed: 4 DEADLINE_EXCEEDED/);
    await expect(authorization.deleteRelationships({ resourceType: "tenant", resourceId: "acme" })).rejects.toBeInstanceOf(
      AuthorizationUnavailableError,
    );
    // The calls did reach the server: it is the answer that never came.
    expect(held.length).toBeGreaterThanOrEqual(3);
  }, 20_000);

  it("ends streamed lookups and reads the same way, on their longer deadline", async () => {
    await expect(authorization.lookupResources("tenant", "view", user)).rejects.toBeInstanceOf(AuthorizationUnavailableError);
    await expect(authorization.readRelationships({ resourceType: "tenant" })).rejects.toThrow(/DEADLINE_EXCEEDED/);
  }, 20_000);
});
