/**
 * A SpiceDB server process, the binary that `scripts/spicedb-binary.sh` builds, on a PostgreSQL
 * datastore: `migrateDatastore` prepares a database, `startSpiceDbServer` serves it on loopback
 * with a preshared key (plaintext gRPC, or TLS with the given certificate) and answers once SpiceDB
 * says it serves.
 *
 * A server never outlives the process that started it: `stop()` ends it, and on Linux it is
 * started through `setpriv --pdeathsig`, so the kernel kills it when its parent dies however it
 * dies (a crashed or killed test fork included).
 */
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface SpiceDbServerOptions {
  readonly binary: string;
  /** A PostgreSQL database that `migrateDatastore` has migrated. */
  readonly datastoreUrl: string;
  readonly presharedKey: string;
  /** Serve gRPC over TLS with this certificate and key (PEM files). */
  readonly tls?: { readonly certPath: string; readonly keyPath: string };
  /** Listen on this port (a restart at the same endpoint) instead of a free one. */
  readonly port?: number;
}

export interface SpiceDbServer {
  /** `127.0.0.1:<port>`, the value for SPICEDB_ENDPOINT. */
  readonly endpoint: string;
  readonly pid: number;
  /** Ends the process (SIGTERM, then SIGKILL after 5 s) and resolves once it is gone. */
  stop(): Promise<void>;
}

/** Flags every command gets: no network calls home, logs SpiceDB's tests can read. */
const QUIET = ["--skip-release-check", "--log-format", "json"];

/**
 * Small pools: SpiceDB opens 30 connections per server by default, and a test run keeps several
 * servers beside its own databases on one PostgreSQL (max_connections 100 by default).
 */
const POOLS = [
  "--datastore-conn-pool-read-max-open=6",
  "--datastore-conn-pool-read-min-open=1",
  "--datastore-conn-pool-write-max-open=3",
  "--datastore-conn-pool-write-min-open=1",
];

const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;

export async function migrateDatastore(binary: string, datastoreUrl: string): Promise<void> {
  try {
    await run(binary, ["datastore", "migrate", "head", "--datastore-engine", "postgres", "--datastore-conn-uri", datastoreUrl, ...QUIET, "--log-level", "warn"]);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`spicedb datastore migrate failed: ${lastLines(stderr)}`, { cause: error });
  }
}

let pdeathsig: boolean | undefined;

/** The command that starts the server: through setpriv where it exists, so it dies with us. */
function command(binary: string, args: string[]): [string, string[]] {
  pdeathsig ??= process.platform === "linux" && spawnSync("setpriv", ["--version"]).status === 0;
  return pdeathsig ? ["setpriv", ["--pdeathsig", "KILL", "--", binary, ...args]] : [binary, args];
}

function lastLines(text: string, count = 5): string {
  return text.trim().split("\n").slice(-count).join("\n");
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => probe.once("error", reject).listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

class PortTakenError extends Error {}

function exitOf(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
}

async function launch(options: SpiceDbServerOptions, port: number): Promise<SpiceDbServer> {
  const endpoint = `127.0.0.1:${port}`;
  const tls = options.tls ? ["--grpc-tls-cert-path", options.tls.certPath, "--grpc-tls-key-path", options.tls.keyPath] : [];
  const [file, args] = command(options.binary, [
    "serve",
    "--grpc-addr",
    endpoint,
    "--grpc-preshared-key",
    options.presharedKey,
    ...tls,
    "--datastore-engine",
    "postgres",
    "--datastore-conn-uri",
    options.datastoreUrl,
    ...POOLS,
    "--metrics-enabled=false",
    "--telemetry-endpoint=",
    ...QUIET,
  ]);
  const child = spawn(file, args, { stdio: ["ignore", "pipe", "pipe"] });
  const exited = exitOf(child);
  let output = "";
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`SpiceDB did not serve within ${START_TIMEOUT_MS} ms:\n${lastLines(output)}`)), START_TIMEOUT_MS);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('"grpc server started serving"')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", read);
    child.stderr?.on("data", read);
    void exited.then(() => {
      clearTimeout(timer);
      reject(/address already in use/.test(output) ? new PortTakenError(endpoint) : new Error(`SpiceDB exited at start:\n${lastLines(output)}`));
    });
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
  };
  try {
    await ready;
  } catch (error) {
    await stop();
    throw error;
  }
  // Past start-up nobody reads the log: drain it so that the pipes never fill.
  child.stdout?.removeAllListeners("data").resume();
  child.stderr?.removeAllListeners("data").resume();
  return { endpoint, pid: child.pid ?? 0, stop };
}

export async function startSpiceDbServer(options: SpiceDbServerOptions): Promise<SpiceDbServer> {
  if (options.port !== undefined) return launch(options, options.port);
  // A port found free can be taken before SpiceDB binds it: then try another.
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(options, await freePort());
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt === 3) throw error;
    }
  }
}
