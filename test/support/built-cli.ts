/**
 * The CLI as users run it: the bundle `node dist/kartograph-iam.mjs`, built first when the sources are newer than the
 * build. Start-up failures and signals can only be tested on a real process.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { expect } from "vitest";

export const PACKAGE_ROOT = join(import.meta.dirname, "..", "..");
export const CLI_PATH = join(PACKAGE_ROOT, "dist", "kartograph-iam.mjs");

export function ensureBuilt(): void {
  execFileSync(process.execPath, [join(PACKAGE_ROOT, "scripts", "build-if-stale.mjs")], { cwd: PACKAGE_ROOT, stdio: "pipe" });
}

/** Only the variables a test sets, plus what node needs: the developer's own settings must not leak in. */
export function cliEnvironment(variables: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "/tmp", LOG_LEVEL: "info", ...variables };
}

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunningCli {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout line matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<CliRun>;
}

export function startCli(args: string[], variables: Record<string, string> = {}): RunningCli {
  const child = spawn(process.execPath, [CLI_PATH, ...args], { cwd: PACKAGE_ROOT, env: cliEnvironment(variables), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  child.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString();
    for (const waiter of [...waiters]) {
      const line = out.split("\n").find((candidate) => waiter.pattern.test(candidate));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exited = new Promise<CliRun>((resolve) => {
    child.on("close", (code, signal) => resolve({ code, signal, stdout: out, stderr: err }));
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForLine(pattern, timeoutMs = 90_000) {
      const existing = out.split("\n").find((line) => pattern.test(line));
      if (existing !== undefined) return Promise.resolve(existing);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; stdout: ${out}; stderr: ${err}`)), timeoutMs);
        waiters.push({ pattern, resolve: (line) => (clearTimeout(timer), resolve(line)) });
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`the CLI exited before printing ${pattern}; stdout: ${out}; stderr: ${err}`));
        });
      });
    },
  };
}

export function runCli(args: string[], variables: Record<string, string> = {}): Promise<CliRun> {
  return startCli(args, variables).exited;
}

/** A failed start: exactly one non-empty line on stderr, and nothing that looks like a stack trace. */
export function expectOneClearLine(run: CliRun, pattern: RegExp): void {
  expect(run.code, `stdout: ${run.stdout}\nstderr: ${run.stderr}`).not.toBe(0);
  expect(run.code).not.toBeNull();
  const lines = run.stderr.split("\n").filter((line) => line.trim() !== "");
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^kartograph-iam: /);
  expect(lines[0]).toMatch(pattern);
  expect(run.stderr).not.toMatch(/^\s+at /m);
  expect(run.stdout).not.toMatch(/^\s+at /m);
}
