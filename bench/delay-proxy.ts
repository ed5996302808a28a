/**
 * A TCP proxy that holds every chunk for DELAY_MS in each direction, run as its own process by the
 * network benchmark: a PostgreSQL server on loopback then answers like one a network hop away.
 * It listens on a free port of 127.0.0.1, forwards to TARGET_PORT, and prints its port once listening.
 */
import { connect, createServer } from "node:net";

const delayMs = Number(process.env["DELAY_MS"] ?? "1");
const targetPort = Number(process.env["TARGET_PORT"] ?? "5432");
const targetHost = process.env["TARGET_HOST"] ?? "127.0.0.1";

const server = createServer((client) => {
  const upstream = connect(targetPort, targetHost);
  // Without these, Nagle's algorithm would add its own delays to pipelined writes.
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  const forward = (from: typeof client, to: typeof client) =>
    from.on("data", (chunk) => setTimeout(() => to.write(chunk), delayMs));
  forward(client, upstream);
  forward(upstream, client);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  for (const socket of [client, upstream]) {
    socket.on("close", close);
    socket.on("error", close);
  }
});
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${(server.address() as { port: number }).port}\n`);
});
