/**
 * How long `serve` takes to stop on SIGTERM after it has served requests (a read and a write, so
 * that SpiceDB, the outbox and the sealer have all been used), ten times on one embedded data
 * directory. Goal: under 2 s every time (issue 17); a stop that waits on SpiceDB's own ~6 s
 * disposal shows here.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median, serve, type BenchResult, type BenchScenario } from "./bench-kit.js";
import { DevelopmentIssuer } from "../src/iam/infrastructure/identity/development-issuer.js";

const STOPS = 10;

async function stopsAfterRequests(): Promise<BenchResult[]> {
  const dataDir = mkdtempSync(join(tmpdir(), "kiam-bench-stop-"));
  try {
    const times: number[] = [];
    for (let round = 0; round < STOPS; round++) {
      const served = await serve({ env: { KARTOGRAPH_DATA_DIR: dataDir, LOG_LEVEL: "warn" } });
      const issuer = await DevelopmentIssuer.open(dataDir);
      const token = await issuer.sign({ subject: "alice", username: "alice", audience: "kartograph-api", ttlSeconds: 600 });
      const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
      await (await fetch(`${served.baseUrl}/iam/workspaces`, { headers })).arrayBuffer();
      await (await fetch(`${served.baseUrl}/iam/groups`, { method: "POST", headers, body: JSON.stringify({ name: `g-${round}` }) })).arrayBuffer();
      const started = performance.now();
      const code = await served.stop();
      times.push(performance.now() - started);
      if (code !== 0) throw new Error(`serve exited ${code} on SIGTERM: ${served.stderr()}`);
    }
    return [
      {
        metric: "serve: SIGTERM to exit after requests, embedded (median)",
        value: median(times),
        unit: "ms",
        note: `goal < 2,000 ms every time; ${STOPS} stops: ${times.map((t) => Math.round(t)).join(", ")} ms (max ${Math.round(Math.max(...times))})`,
      },
    ];
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export const scenarios: BenchScenario[] = [{ name: "shutdown-embedded", run: stopsAfterRequests }];
