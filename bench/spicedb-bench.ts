/**
 * The embedded SpiceDB (in process, memory datastore, as `serve` runs it) on a tenant with 10,000
 * workspaces: relationship writes, CheckPermission rate, CheckBulk and LookupResources times.
 */
import type { Consistency, PermissionCheck, RelationshipUpdate } from "../src/shared-kernel/authorization/authorization-port.js";
import { startSpiceDb } from "../src/platform/spicedb/spicedb-engine.js";
import { median, timeMs, type BenchResult, type BenchScenario } from "./bench-kit.js";

const WORKSPACES = 10_000;
const MEMBER_WORKSPACES = 100;
const SEQUENTIAL_CHECKS = 2_000;
const CONCURRENT_CHECKS = 4_000;
const IN_FLIGHT = 32;
const BULK_ITEMS = 1_000;
const LOOKUP_RUNS = 5;

const workspaceId = (i: number) => `w${String(i).padStart(5, "0")}`;

async function run(): Promise<BenchResult[]> {
  const engine = await startSpiceDb({ endpoint: null, presharedKey: "", useTls: false, certPath: null });
  try {
    const authz = engine.authorization;
    const touch = (resource: [string, string], relation: string, subject: [string, string, string?]): RelationshipUpdate => ({
      operation: "touch",
      relationship: {
        resource: { type: resource[0], id: resource[1] },
        relation,
        subject: { type: subject[0], id: subject[1], ...(subject[2] ? { relation: subject[2] } : {}) },
      },
    });
    const updates: RelationshipUpdate[] = [touch(["tenant", "t1"], "admin", ["user", "admin"]), touch(["tenant", "t1"], "member", ["user", "member"])];
    for (let i = 0; i < WORKSPACES; i++) {
      updates.push(touch(["workspace", workspaceId(i)], "tenant", ["tenant", "t1"]));
      if (i % (WORKSPACES / MEMBER_WORKSPACES) === 0) updates.push(touch(["workspace", workspaceId(i)], "member", ["user", "member"]));
    }
    const writeMs = await timeMs(() => authz.writeRelationships(updates));

    const viewCheck = (i: number, user: string): PermissionCheck => ({
      resource: { type: "workspace", id: workspaceId((i * 7919) % WORKSPACES) },
      permission: "view",
      subject: { type: "user", id: user },
    });
    const sequentialRate = async (consistency: Consistency) => {
      const ms = await timeMs(async () => {
        for (let i = 0; i < SEQUENTIAL_CHECKS; i++) await authz.check(viewCheck(i, "admin"), consistency);
      });
      return (SEQUENTIAL_CHECKS / ms) * 1000;
    };
    // Warm-up: the first checks fill SpiceDB's caches and the JIT.
    await sequentialRate({ kind: "full" });
    const fullRate = await sequentialRate({ kind: "full" });
    const latencyRate = await sequentialRate({ kind: "minimizeLatency" });

    let next = 0;
    const concurrentMs = await timeMs(() =>
      Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (next < CONCURRENT_CHECKS) await authz.check(viewCheck(next++, "member"));
        }),
      ),
    );
    const concurrentRate = (CONCURRENT_CHECKS / concurrentMs) * 1000;

    const bulk = Array.from({ length: BULK_ITEMS }, (_, i) => viewCheck(i, "member"));
    const bulkMs: number[] = [];
    for (let i = 0; i < LOOKUP_RUNS; i++) bulkMs.push(await timeMs(() => authz.checkBulk(bulk)));

    const lookup = async (user: string) => {
      const times: number[] = [];
      let found = 0;
      for (let i = 0; i < LOOKUP_RUNS; i++) {
        times.push(await timeMs(async () => (found = (await authz.lookupResources("workspace", "view", { type: "user", id: user })).length)));
      }
      return { ms: median(times), found };
    };
    const adminLookup = await lookup("admin");
    const memberLookup = await lookup("member");

    return [
      { metric: `write ${updates.length.toLocaleString("en-US")} relationships`, value: writeMs, unit: "ms", note: `${Math.round((updates.length / writeMs) * 1000).toLocaleString("en-US")} relationships/s, batches of 1,000` },
      { metric: "CheckPermission, sequential, full consistency", value: fullRate, unit: "checks/s", note: "tenant admin, view via tenant->administrate" },
      {
        metric: "CheckPermission, sequential, minimize latency",
        value: latencyRate,
        unit: "checks/s",
        baseline: { label: "full consistency", value: fullRate },
      },
      { metric: `CheckPermission, ${IN_FLIGHT} in flight, full`, value: concurrentRate, unit: "checks/s", baseline: { label: "sequential", value: fullRate } },
      { metric: `CheckBulkPermissions, ${BULK_ITEMS.toLocaleString("en-US")} items`, value: median(bulkMs), unit: "ms", note: `median of ${LOOKUP_RUNS}` },
      { metric: `LookupResources, tenant admin (${adminLookup.found.toLocaleString("en-US")} found)`, value: adminLookup.ms, unit: "ms", note: `median of ${LOOKUP_RUNS}` },
      { metric: `LookupResources, member (${memberLookup.found} found)`, value: memberLookup.ms, unit: "ms", note: `median of ${LOOKUP_RUNS}` },
    ];
  } finally {
    engine.close();
  }
}

export const scenarios: BenchScenario[] = [{ name: "spicedb-10k-workspaces", run }];
