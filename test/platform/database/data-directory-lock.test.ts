import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { lockDataDirectory } from "../../../src/platform/database/data-directory-lock.js";

describe("the data directory lock", () => {
  const dirs: string[] = [];
  const freshDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "kiam-lock-"));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("is held by one opener at a time, and free again once released", async () => {
    const dir = freshDir();
    const first = await lockDataDirectory(dir);
    await expect(lockDataDirectory(dir)).rejects.toMatchObject({
      name: "DataDirectoryError",
      message: expect.stringMatching(new RegExp(`^KARTOGRAPH_DATA_DIR ${dir} is in use by process ${process.pid} \\(`)),
    });
    await first.release();
    const second = await lockDataDirectory(dir);
    await second.release();
  });

  it("is taken over at once from a holder on this machine that no longer runs", async () => {
    const dir = freshDir();
    const gone = Number(execFileSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }));
    mkdirSync(join(dir, "lock"));
    writeFileSync(join(dir, "lock-holder.json"), JSON.stringify({ pid: gone, host: hostname(), command: "kartograph-iam serve", since: "then" }));
    const taken = await lockDataDirectory(dir);
    await taken.release();
  });

  it("stays with a holder on another machine while its lock is fresh, and says where it runs", async () => {
    const dir = freshDir();
    mkdirSync(join(dir, "lock"));
    writeFileSync(join(dir, "lock-holder.json"), JSON.stringify({ pid: 1, host: "elsewhere", command: "kartograph-iam migrate", since: "2026-01-01T00:00:00Z" }));
    await expect(lockDataDirectory(dir)).rejects.toThrow(/in use by process 1 \(kartograph-iam migrate on elsewhere, since 2026-01-01T00:00:00Z\)/);
  });
});
