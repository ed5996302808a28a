/**
 * A TCP forwarder that a test can cut and restore, to take a real PostgreSQL server "away" from the
 * service under test (both live connections and new ones) without touching the server itself.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";

export interface TcpProxy {
  readonly port: number;
  /** Drops every open connection and refuses new ones. */
  cut(): Promise<void>;
  /** Accepts connections again, on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  };
  const newServer = () =>
    createServer((client) => {
      const upstream = createConnection({ host: targetHost, port: targetPort });
      track(client);
      track(upstream);
      client.pipe(upstream);
      upstream.pipe(client);
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
  const listen = (server: Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        const address = server.address();
        resolve(typeof address === "object" && address !== null ? address.port : port);
      });
    });
  const stop = (server: Server) =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });

  let server: Server | null = newServer();
  const port = await listen(server, 0);
  return {
    port,
    async cut() {
      if (server === null) return;
      const current = server;
      server = null;
      await stop(current);
    },
    async restore() {
      if (server !== null) return;
      server = newServer();
      await listen(server, port);
    },
    async close() {
      if (server !== null) await stop(server);
      server = null;
    },
  };
}
