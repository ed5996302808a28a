/**
 * A client that announces a large body and trickles it is cut off when the request timeout runs
 * out (408, connection closed); one that sends its request in time is served. Over a real socket,
 * with the timeout shortened through the server options.
 */
import { createConnection, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildHttpServer, type HttpServer } from "../../../src/platform/http/http-server.js";
import { captureLog } from "./http-test-kit.js";

const TIMEOUT_MS = 2_000;

describe("slow request bodies", () => {
  let server: HttpServer;
  let port: number;

  beforeAll(async () => {
    server = await buildHttpServer({
      logger: captureLog().logger,
      corsOrigins: [],
      health: { graphName: "test", pingDatabase: async () => undefined, migrationsCurrent: async () => true, pingAuthorization: async () => undefined },
      requestTimeoutMs: TIMEOUT_MS,
      routes: [(app) => void app.post("/test/echo", async (request) => ({ received: JSON.stringify(request.body).length }))],
    });
    await server.listen({ port: 0, host: "127.0.0.1" });
    port = (server.server.address() as AddressInfo).port;
  });
  afterAll(() => server?.close());

  /** Everything the server wrote until it closed the connection. */
  const answerOf = (socket: Socket) =>
    new Promise<string>((resolve) => {
      let answer = "";
      socket.on("data", (chunk) => (answer += chunk.toString()));
      socket.on("close", () => resolve(answer));
      socket.on("error", () => undefined);
    });

  it("closes a connection that sends Content-Length: 1000000 and then one byte a second", async () => {
    const socket = createConnection({ port, host: "127.0.0.1" });
    const answer = answerOf(socket);
    socket.write("POST /test/echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n[");
    let sent = 1;
    const trickle = setInterval(() => {
      if (!socket.destroyed) {
        socket.write("1");
        sent++;
      }
    }, 1_000);
    try {
      const text = await answer;
      expect(text).toMatch(/^HTTP\/1\.1 408 /);
      expect(text).toContain("Connection: close");
      expect(JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4))).toEqual({ detail: "Request Timeout" });
      expect(sent).toBeLessThan(1_000_000);
    } finally {
      clearInterval(trickle);
      socket.destroy();
    }
  }, 30_000);

  it("serves a request whose body arrives in parts within the timeout", async () => {
    const socket = createConnection({ port, host: "127.0.0.1" });
    const answer = answerOf(socket);
    const body = JSON.stringify({ name: "x".repeat(1_000) });
    socket.write(`POST /test/echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n`);
    socket.write(body.slice(0, 500));
    await new Promise((resolve) => setTimeout(resolve, 200));
    socket.write(body.slice(500));
    const text = await answer;
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(text).toContain(`{"received":${body.length}}`);
  });
});
