/**
 * One process at a time per embedded data directory. PGlite is a single-process database: two
 * processes writing one `pgdata` corrupt it. Every process that opens the directory holds this
 * lock until it closes the database; a second one stops with one line naming the holder.
 *
 * The lock is `proper-lockfile`'s (an atomic `mkdir` of `<dir>/lock`, kept fresh while held,
 * removed at exit). Beside it, `<dir>/lock-holder.json` says who holds it, which is also how a lock
 * left by a process killed outright is recognised at once: its holder, on this machine, is gone.
 * Without that record (another machine sharing the directory) the lock counts as abandoned once
 * it has not been refreshed for STALE_MS.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { basename, join } from "node:path";
import { lock } from "proper-lockfile";
import { DataDirectoryError } from "./data-directory-error.js";

const STALE_MS = 30_000;
const UPDATE_MS = 5_000;

interface Holder {
  readonly pid: number;
  readonly host: string;
  readonly command: string;
  readonly since: string;
}

export interface DataDirectoryLock {
  release(): Promise<void>;
}

function readHolder(path: string): Holder | null {
  try {
    const value = JSON.parse(readFileSync(path, "utf8")) as Partial<Holder>;
    return typeof value.pid === "number" && typeof value.host === "string" ? (value as Holder) : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** `kartograph-iam serve` rather than `/usr/bin/node /srv/app/dist/kartograph-iam.mjs serve`. */
function thisCommand(): string {
  const script = basename(process.argv[1] ?? process.argv0).replace(/\.(mjs|cjs|js|ts)$/, "");
  return [script, ...process.argv.slice(2)].join(" ");
}

function inUse(dir: string, holder: Holder | null): DataDirectoryError {
  const who =
    holder === null
      ? "another process"
      : `process ${holder.pid} (${holder.command}${holder.host === hostname() ? "" : ` on ${holder.host}`}, since ${holder.since})`;
  return new DataDirectoryError(
    `KARTOGRAPH_DATA_DIR ${dir} is in use by ${who}; the embedded database takes one process at a time: stop that one first, or use another KARTOGRAPH_DATA_DIR`,
  );
}

export async function lockDataDirectory(dir: string): Promise<DataDirectoryLock> {
  const lockPath = join(dir, "lock");
  const holderPath = join(dir, "lock-holder.json");
  const recorded = readHolder(holderPath);
  if (recorded !== null && recorded.host === hostname()) {
    if (isAlive(recorded.pid)) {
      // Never let the lock's age decide for a holder that runs: a long pause is not an exit.
      if (existsSync(lockPath)) throw inUse(dir, recorded);
    } else {
      // Killed before it could remove its lock.
      rmSync(lockPath, { recursive: true, force: true });
    }
  }
  let release: () => Promise<void>;
  try {
    release = await lock(dir, {
      lockfilePath: lockPath,
      stale: STALE_MS,
      update: UPDATE_MS,
      onCompromised: (error) => {
        // Someone removed the lock or took it over: going on could corrupt the database.
        process.stderr.write(`kartograph-iam: lost the lock on KARTOGRAPH_DATA_DIR ${dir} (${error.message}); stopping\n`);
        process.exit(1);
      },
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ELOCKED") throw inUse(dir, readHolder(holderPath));
    throw new DataDirectoryError(`KARTOGRAPH_DATA_DIR ${dir} cannot be locked: ${error instanceof Error ? error.message : String(error)}`);
  }
  const holder: Holder = { pid: process.pid, host: hostname(), command: thisCommand(), since: new Date().toISOString() };
  writeFileSync(holderPath, `${JSON.stringify(holder)}\n`);
  return {
    async release() {
      // The record first: once the lock is gone, the record may already be the next holder's.
      rmSync(holderPath, { force: true });
      await release();
    },
  };
}
