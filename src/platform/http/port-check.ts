/**
 * `serve` checks that it can listen before it touches any data: a port in use must not cost a
 * migration, a default tenant or the embedded database's lock first. The probe binds the address
 * the way the HTTP server will and lets it go at once; the server's own bind, later, still reports
 * a port taken in between.
 */
import { createServer } from "node:net";
import { ConfigError } from "../config/config.js";

export function portInUse(host: string, port: number): ConfigError {
  return new ConfigError("PORT", `must be a free port; ${host}:${port} is in use`, String(port));
}

/** Resolves when HOST:PORT can be bound now (PORT=0 always can); else a ConfigError naming PORT. */
export async function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once("error", reject);
      probe.listen({ host, port }, resolve);
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") throw portInUse(host, port);
    throw error;
  }
  await new Promise((resolve) => probe.close(resolve));
}
