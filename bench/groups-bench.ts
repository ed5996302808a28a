/**
 * Groups (issue 6), on the embedded default and (groups-check-spicedb-server) on a SpiceDB server:
 *
 * - `edit` inherited through a group membership against a direct grant, on a tenant with 1,000
 *   groups of 100 members each, checked on the in-process SpiceDB adapter: raw (full consistency)
 *   and through the decision cache with a new revision before every check (all misses, which ask
 *   for the write's ZedToken freshness);
 * - GET /iam/groups for a tenant admin of a tenant with 1,000 such groups (members included):
 *   repeated (the kept answer of an unchanged list) and right after a change (read and serialized).
 */
import pg from "pg";
import { CachedAuthorization } from "../src/platform/spicedb/cached-authorization.js";
import { AuthzRevisionTracker } from "../src/platform/outbox/authz-revision.js";
import { startSpiceDb } from "../src/platform/spicedb/spicedb-engine.js";
import type { AuthorizationPort, PermissionCheck, Relationship, RelationshipUpdate } from "../src/shared-kernel/authorization/authorization-port.js";
import { migrateDatastore, startSpiceDbServer, type SpiceDbServer } from "../test/support/spicedb-server.js";
import { median, percentile, timeMs, type BenchResult, type BenchScenario } from "./bench-kit.js";
import {
  bearer,
  createTarget,
  groupId,
  seed,
  seedDefaultTenant,
  seedGroups,
  seedTenantMembers,
  sequentialGets,
  serveService,
  statusSummary,
  TENANT_ID,
  tokenFor,
  workspaceId,
} from "./iam-bench-support.js";

const GROUPS = 1_000;
const MEMBERS_PER_GROUP = 100;

// ---------------------------------------------------------------- inherited vs direct check

const CHECKS = 400;
const inGroup = (g: number, m: number) => `gm-${g}-${m}`;
const direct = (w: number) => `direct-${w}`;

/**
 * Every group g has its own 100 members and edits workspace g (editor@group:g#member); workspace g
 * also has one user editor directly. Checks rotate over the workspaces and members, so no two
 * consecutive checks ask the same question.
 */
function relationships(): Relationship[] {
  const all: Relationship[] = [];
  for (let g = 1; g <= GROUPS; g++) {
    const group = { type: "group", id: groupId(g) };
    const workspace = { type: "workspace", id: workspaceId(g) };
    all.push({ resource: group, relation: "tenant", subject: { type: "tenant", id: TENANT_ID } });
    all.push({ resource: workspace, relation: "tenant", subject: { type: "tenant", id: TENANT_ID } });
    for (let m = 1; m <= MEMBERS_PER_GROUP; m++) {
      all.push({ resource: group, relation: m === 1 ? "admin" : "member_relation", subject: { type: "user", id: inGroup(g, m) } });
    }
    all.push({ resource: workspace, relation: "editor", subject: { type: "group", id: groupId(g), relation: "member" } });
    all.push({ resource: workspace, relation: "editor", subject: { type: "user", id: direct(g) } });
  }
  return all;
}

const inheritedCheck = (i: number): PermissionCheck => {
  const g = (i % GROUPS) + 1;
  return { resource: { type: "workspace", id: workspaceId(g) }, permission: "edit", subject: { type: "user", id: inGroup(g, (i % (MEMBERS_PER_GROUP - 1)) + 2) } };
};
const directCheck = (i: number): PermissionCheck => {
  const g = (i % GROUPS) + 1;
  return { resource: { type: "workspace", id: workspaceId(g) }, permission: "edit", subject: { type: "user", id: direct(g) } };
};

/** Per-check latencies (µs) of `count` sequential checks; throws if any is denied. */
async function timeChecks(count: number, make: (i: number) => PermissionCheck, ask: (check: PermissionCheck) => Promise<boolean>): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const check = make(i);
    const start = performance.now();
    const allowed = await ask(check);
    latencies.push((performance.now() - start) * 1000);
    if (!allowed) throw new Error(`denied: ${JSON.stringify(check)}`);
  }
  return latencies;
}

/**
 * Loads the 1,000 × 100 relationships into `raw` and times inherited against direct checks: raw
 * with full consistency, and through the decision cache with a new revision before every check
 * (all misses, which ask SpiceDB for the write's ZedToken freshness). `where` names the SpiceDB.
 */
async function measureChecks(raw: AuthorizationPort, where: string): Promise<BenchResult[]> {
  const updates: RelationshipUpdate[] = relationships().map((relationship) => ({ operation: "touch", relationship }));
  const zedToken = await raw.writeRelationships(updates);
  const full = (check: PermissionCheck) => raw.check(check, { kind: "full" });
  // Warm-up: JIT, gRPC channel, SpiceDB's schema caches.
  await timeChecks(40, inheritedCheck, full);
  await timeChecks(40, directCheck, full);
  // Interleaved halves, so that background load on the machine hits both alike.
  const rawInherited: number[] = [];
  const rawDirect: number[] = [];
  for (let half = 0; half < 2; half++) {
    rawInherited.push(...(await timeChecks(CHECKS / 2, (i) => inheritedCheck(i + half * CHECKS), full)));
    rawDirect.push(...(await timeChecks(CHECKS / 2, (i) => directCheck(i + half * CHECKS), full)));
  }

  const tracker = new AuthzRevisionTracker();
  tracker.observe({ revision: 1, zedToken, revokedRevision: 1 });
  const cached: AuthorizationPort = new CachedAuthorization(raw, tracker, { monotonicSchema: true });
  let revision = 1;
  const miss = (check: PermissionCheck) => {
    // A new revoking revision each time: the cache is emptied, the check goes to SpiceDB with the ZedToken.
    revision++;
    tracker.observe({ revision, zedToken, revokedRevision: revision });
    return cached.check(check);
  };
  await timeChecks(40, inheritedCheck, miss);
  const missInherited = await timeChecks(CHECKS, inheritedCheck, miss);
  const missDirect = await timeChecks(CHECKS, directCheck, miss);

  const relationshipsCount = updates.length.toLocaleString("en-US");
  return [
    {
      metric: `${where}: edit via group, raw check (full consistency), p50`,
      value: median(rawInherited),
      unit: "µs",
      baseline: { label: "direct grant", value: median(rawDirect) },
      note: `goal ≤ 2x; ${GROUPS} groups × ${MEMBERS_PER_GROUP} members, ${relationshipsCount} relationships; ${CHECKS} checks each`,
    },
    {
      metric: `${where}: edit via group, raw check (full consistency), p99`,
      value: percentile(rawInherited, 99),
      unit: "µs",
      baseline: { label: "direct grant", value: percentile(rawDirect, 99) },
    },
    {
      metric: `${where}: edit via group, cache miss (ZedToken), p50`,
      value: median(missInherited),
      unit: "µs",
      baseline: { label: "direct grant", value: median(missDirect) },
      note: "goal ≤ 2x; a new revision before every check",
    },
    {
      metric: `${where}: edit via group, cache miss (ZedToken), p99`,
      value: percentile(missInherited, 99),
      unit: "µs",
      baseline: { label: "direct grant", value: percentile(missDirect, 99) },
    },
    {
      metric: `${where}: edit via group, ZedToken against full consistency, p50`,
      value: median(missInherited),
      unit: "µs",
      baseline: { label: "full consistency", value: median(rawInherited) },
      note: "what the stored ZedToken buys each check that misses the cache",
    },
  ];
}

const checkScenario: BenchScenario = {
  name: "groups-check",
  async run(): Promise<BenchResult[]> {
    const spicedb = await startSpiceDb({ endpoint: null, presharedKey: "", useTls: false, certPath: null });
    try {
      return await measureChecks(spicedb.authorization, "embedded (memdb)");
    } finally {
      spicedb.close();
    }
  },
};

/**
 * The same checks against a SpiceDB server on its PostgreSQL datastore (the deployed topology):
 * needs KARTOGRAPH_BENCH_DB_URL (a PostgreSQL server, as a superuser) and
 * KARTOGRAPH_BENCH_SPICEDB_BINARY (`scripts/spicedb-binary.sh` prints it).
 */
const remoteCheckScenario: BenchScenario = {
  name: "groups-check-spicedb-server",
  async run(): Promise<BenchResult[]> {
    const serverUrl = process.env["KARTOGRAPH_BENCH_DB_URL"];
    const binary = process.env["KARTOGRAPH_BENCH_SPICEDB_BINARY"];
    if (!serverUrl || !binary) {
      throw new Error("set KARTOGRAPH_BENCH_DB_URL and KARTOGRAPH_BENCH_SPICEDB_BINARY=$(scripts/spicedb-binary.sh) to measure on a SpiceDB server");
    }
    const datastore = `kiam_bench_spicedb_${process.pid}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${datastore}`);
    const datastoreUrl = new URL(serverUrl);
    datastoreUrl.pathname = `/${datastore}`;
    let server: SpiceDbServer | null = null;
    try {
      await migrateDatastore(binary, datastoreUrl.toString());
      const presharedKey = "bench-key";
      server = await startSpiceDbServer({ binary, datastoreUrl: datastoreUrl.toString(), presharedKey });
      const spicedb = await startSpiceDb({ endpoint: server.endpoint, presharedKey, useTls: false, certPath: null });
      try {
        return await measureChecks(spicedb.authorization, "SpiceDB server (PostgreSQL datastore)");
      } finally {
        spicedb.close();
      }
    } finally {
      await server?.stop();
      await admin.query(`DROP DATABASE IF EXISTS ${datastore} WITH (FORCE)`);
      await admin.end();
    }
  },
};

// ---------------------------------------------------------------- GET /iam/groups

const LIST_SAMPLES = 30;
const REBUILT_SAMPLES = 10;
const TENANT_USERS = 10_000;

const listScenario: BenchScenario = {
  name: "groups-list",
  async run(): Promise<BenchResult[]> {
    const target = await createTarget("pglite");
    try {
      let seedMs = 0;
      seedMs = await timeMs(() =>
        seed(target, async (db) => {
          await seedDefaultTenant(db);
          await seedTenantMembers(db, "tenant-admin-", 1, "admin");
          await seedTenantMembers(db, "user-", TENANT_USERS, "member");
          await seedGroups(db, { groups: GROUPS, membersPerGroup: MEMBERS_PER_GROUP, userPrefix: "user-", users: TENANT_USERS });
        }),
      );
      const service = await serveService(target);
      try {
        const url = `${service.baseUrl}/iam/groups`;
        const headers = bearer(await tokenFor(target, "tenant-admin-1"));
        const first = await fetch(url, { headers });
        const firstBody = await first.text();
        if (first.status !== 200) throw new Error(`GET /iam/groups answered ${first.status}: ${firstBody.slice(0, 300)}`);
        const listed = JSON.parse(firstBody) as { members: unknown[] }[];
        const members = listed.reduce((sum, group) => sum + group.members.length, 0);
        const { latencies, statuses } = await sequentialGets(url, headers, LIST_SAMPLES);
        // After every change the list is read and serialized again (the kept answer is stale).
        const rebuilt: number[] = [];
        for (let i = 0; i < REBUILT_SAMPLES; i++) {
          const created = await fetch(url, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify({ name: `changed-${i}` }) });
          if (created.status !== 201) throw new Error(`POST /iam/groups answered ${created.status}`);
          await created.arrayBuffer();
          const start = performance.now();
          const response = await fetch(url, { headers });
          await response.arrayBuffer();
          rebuilt.push(performance.now() - start);
        }
        return [
          {
            metric: "GET /iam/groups p50, tenant admin, embedded",
            value: median(latencies),
            unit: "ms",
            note: `goal < 50 ms; ${listed.length} groups, ${members.toLocaleString("en-US")} members, ${(firstBody.length / 1024 / 1024).toFixed(1)} MiB; ${statusSummary(statuses)}; seeded in ${(seedMs / 1000).toFixed(1)} s`,
          },
          { metric: "GET /iam/groups p99, tenant admin, embedded", value: percentile(latencies, 99), unit: "ms", note: `${LIST_SAMPLES} sequential requests, no change between them` },
          {
            metric: "GET /iam/groups p50 right after a group change, embedded",
            value: median(rebuilt),
            unit: "ms",
            note: `${REBUILT_SAMPLES} samples, a group created before each: the list is read and serialized again`,
          },
        ];
      } finally {
        await service.stop();
      }
    } finally {
      await target.dispose();
    }
  },
};

export const scenarios: BenchScenario[] = [checkScenario, remoteCheckScenario, listScenario];
