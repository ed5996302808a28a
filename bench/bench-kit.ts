/**
 * What benchmark scenarios are made of: the result and scenario types, and helpers shared by the
 * scenario modules (percentiles, timing, autocannon, the built CLI as a process, a table printer).
 * Benchmarks report figures and ratios; they never assert.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";

export interface BenchBaseline {
  /** What the figure is compared with, measured in the same run. */
  readonly label: string;
  readonly value: number;
}

export interface BenchResult {
  readonly metric: string;
  readonly value: number;
  /** "ms", "req/s", "MiB", "checks/s"... */
  readonly unit: string;
  readonly baseline?: BenchBaseline;
  readonly note?: string;
}

export interface BenchScenario {
  /** Short and unique; `npm run bench -- <filter>` matches against it. */
  readonly name: string;
  run(): Promise<BenchResult[]>;
}

/** The package root, from dist/bench/ (built) or bench/ (sources). */
export const PACKAGE_ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("cannot find package.json above the bench directory");
    dir = parent;
  }
  return dir;
})();

export const CLI_PATH = join(PACKAGE_ROOT, "dist", "kartograph-iam.mjs");

/** The p-th percentile (0-100) by nearest rank; NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? Number.NaN;
}

export const median = (values: readonly number[]) => percentile(values, 50);

/** Milliseconds `work` takes. */
export async function timeMs(work: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** Resident set size of a process in MiB (Linux /proc), or NaN where unavailable. */
/**
 * CPU time (user + system) a process has used so far, in milliseconds. Unlike throughput, CPU
 * per request hardly moves when other work shares the machine, so ratios of it stay comparable.
 */
export function cpuMs(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** USER_HZ on Linux: /proc counts CPU time in hundredths of a second. */
const CLOCK_TICKS_PER_SECOND = 100;

export function rssMiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
    return kib === undefined ? Number.NaN : Number(kib) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** Polls `url` until it answers 200; resolves with the milliseconds since `since`. */
export async function waitForOk(url: string, since: bigint, timeoutMs = 120_000, child?: ChildProcess): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`process exited with ${child.exitCode} before ${url} answered`);
    try {
      const response = await fetch(url);
      if (response.status === 200) return Number(process.hrtime.bigint() - since) / 1e6;
    } catch {
      // Not listening yet.
    }
    await sleep(10);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}

export interface ServedProcess {
  readonly child: ChildProcess;
  readonly baseUrl: string;
  /** Milliseconds from spawn to the first 200 from /health. */
  readonly readyMs: number;
  stderr(): string;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<number | null>;
}

/**
 * Runs a node process serving HTTP (the built CLI by default) with only the given environment,
 * and waits for its /health to answer. Its stdout (JSON logs) is discarded, like a deployment
 * that ships logs elsewhere, so that a full pipe never slows it down.
 */
export async function serve(options: { env: Record<string, string>; args?: string[]; healthPath?: string }): Promise<ServedProcess> {
  const port = await freePort();
  const since = process.hrtime.bigint();
  // BENCH_SERVER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the served process.
  const nodeArgs = (process.env["BENCH_SERVER_NODE_ARGS"] ?? "").split(" ").filter((arg) => arg !== "");
  const child = spawn(process.execPath, [...nodeArgs, ...(options.args ?? [CLI_PATH, "serve"])], {
    cwd: PACKAGE_ROOT,
    env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "/tmp", PORT: String(port), ...options.env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const baseUrl = `http://127.0.0.1:${port}`;
  let readyMs: number;
  try {
    readyMs = await waitForOk(`${baseUrl}${options.healthPath ?? "/health"}`, since, 120_000, child);
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`${error instanceof Error ? error.message : String(error)}; stderr: ${stderr.trim()}`);
  }
  return {
    child,
    baseUrl,
    readyMs,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

export interface LoadFigures {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
  readonly errors: number;
  /** CPU time of the serving process per request, in µs (NaN unless its pid was given). */
  readonly serverCpuUsPerRequest: number;
}

/** autocannon against one URL; a short warm-up run first so JIT and pools settle. */
export async function load(
  url: string,
  options: {
    connections?: number;
    seconds?: number;
    warmupSeconds?: number;
    headers?: Record<string, string>;
    /** The serving process, to measure its CPU time per request. */
    serverPid?: number;
  } = {},
): Promise<LoadFigures> {
  const connections = options.connections ?? 50;
  const headers = options.headers ?? {};
  if ((options.warmupSeconds ?? 1) > 0) await autocannon({ url, connections, headers, duration: options.warmupSeconds ?? 1 });
  const cpuBefore = options.serverPid === undefined ? Number.NaN : cpuMs(options.serverPid);
  const result = await autocannon({ url, connections, headers, duration: options.seconds ?? 5 });
  const cpuAfter = options.serverPid === undefined ? Number.NaN : cpuMs(options.serverPid);
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    serverCpuUsPerRequest: ((cpuAfter - cpuBefore) * 1000) / result.requests.total,
  };
}

function format(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString("en-US");
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export interface ScenarioOutcome {
  readonly scenario: string;
  readonly results: readonly BenchResult[];
  readonly error?: string;
}

/** A plain-text table: one row per figure, with its baseline and the ratio figure/baseline. */
export function formatTable(outcomes: readonly ScenarioOutcome[]): string {
  const header = ["scenario", "metric", "value", "unit", "baseline (same run)", "ratio", "note"];
  const rows: string[][] = [];
  for (const outcome of outcomes) {
    if (outcome.error !== undefined) {
      // One line in the table; the whole message is printed below it.
      const first = outcome.error.split("\n")[0] ?? "";
      rows.push([outcome.scenario, "FAILED", "", "", "", "", first.length > 120 ? `${first.slice(0, 117)}...` : first]);
    }
    for (const result of outcome.results) {
      const baseline = result.baseline;
      rows.push([
        outcome.scenario,
        result.metric,
        format(result.value),
        result.unit,
        baseline ? `${baseline.label}: ${format(baseline.value)}` : "",
        baseline && baseline.value !== 0 ? `${format(result.value / baseline.value)}x` : "",
        result.note ?? "",
      ]);
    }
  }
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === 2 || column === 5 ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0)))
      .join(" | ")
      .trimEnd();
  return [line(header), widths.map((width) => "-".repeat(width)).join("-|-"), ...rows.map(line)].join("\n");
}

/**
 * A bare Fastify hello-world in its own process: the yardstick for the service's HTTP figures
 * (same machine, same run, same client).
 */
export function serveBareFastify(): Promise<ServedProcess> {
  const script = [
    'import Fastify from "fastify";',
    "const app = Fastify();",
    'app.get("/health", async () => ({ status: "ok" }));',
    'await app.listen({ host: "127.0.0.1", port: Number(process.env.PORT) });',
    'process.on("SIGTERM", () => app.close().then(() => process.exit(0)));',
  ].join("\n");
  return serve({ env: {}, args: ["--input-type=module", "-e", script] });
}
