/**
 * Permission questions (issue 19), embedded and (with KARTOGRAPH_BENCH_DB_URL) on PostgreSQL, on the groups bench's tenant (1,000 groups of 100
 * members over 10,000 users), with workspace 1 granted to 50 of those groups and one user editing
 * 100 workspaces directly:
 *
 * - a bulk check of 100 decisions against 100 single-check calls over HTTP (ms per decision);
 * - GET /iam/workspaces/{id}/access on the workspace granted to 50 groups of 100 members;
 * - GET /iam/permissions/explain on that workspace.
 *
 * Each round asks about a user not asked about before, so no answer comes from the decision cache.
 */
import { sql } from "drizzle-orm";
import { queryRows } from "../src/platform/database/database.js";
import { median, timeMs, type BenchResult, type BenchScenario } from "./bench-kit.js";
import { bearer, benchServerUrl, createTarget, type DatabaseKind, groupId, seed, seedDefaultTenant, seedGroups, seedTenantMembers, seedWorkspaces, serveService, tokenFor, workspaceId } from "./iam-bench-support.js";

const USERS = 10_000;
const GROUPS = 1_000;
const MEMBERS_PER_GROUP = 100;
const WORKSPACES = 100;
const GRANTED_GROUPS = 50;
const ROUNDS = 15;

const LABEL: Record<DatabaseKind, string> = { pglite: "embedded", postgres: "PostgreSQL", remote: "PostgreSQL + SpiceDB server" };
const kinds: DatabaseKind[] = benchServerUrl() === null ? ["pglite"] : ["pglite", "postgres"];

export const scenarios: BenchScenario[] = kinds.map((kind) => ({
    name: `permission-questions-${kind === "pglite" ? "embedded" : "postgres"}`,
    async run(): Promise<BenchResult[]> {
      const target = await createTarget(kind);
      try {
        const seedMs = await timeMs(() =>
          seed(target, async (db) => {
            await seedDefaultTenant(db);
            await seedTenantMembers(db, "tenant-admin-", 1, "admin");
            await seedTenantMembers(db, "user-", USERS, "member");
            await seedGroups(db, { groups: GROUPS, membersPerGroup: MEMBERS_PER_GROUP, userPrefix: "user-", users: USERS });
            await seedWorkspaces(db, 1, WORKSPACES);
            await queryRows(
              db,
              sql`INSERT INTO workspace_members (workspace_id, member_type, member_id, role)
                  SELECT ${workspaceId(1)}, 'group', g.id, 'editor' FROM groups g ORDER BY g.id LIMIT ${GRANTED_GROUPS}`,
            );
            // Every user edits every workspace directly, so each check has work to do (a granted answer).
            await queryRows(
              db,
              sql`INSERT INTO workspace_members (workspace_id, member_type, member_id, role)
                  SELECT w.id, 'user', 'user-' || k, 'editor' FROM workspaces w, generate_series(1, ${ROUNDS * 2 + 2}::int) k WHERE NOT w.is_root`,
            );
          }),
        );
        const service = await serveService(target);
        try {
          const headers = { ...bearer(await tokenFor(target, "tenant-admin-1")), "content-type": "application/json" };
          const ask = async (subject: string, workspaces: number[]) => {
            const checks = workspaces.map((w) => ({ resource_type: "workspace", resource_id: workspaceId(w), permission: "edit" }));
            const response = await fetch(`${service.baseUrl}/iam/permissions/check`, { method: "POST", headers, body: JSON.stringify({ checks, subject: { type: "user", id: subject } }) });
            const body = (await response.json()) as { results?: { allowed: boolean }[] };
            if (response.status !== 200 || body.results?.some((r) => !r.allowed)) throw new Error(`check answered ${response.status}: ${JSON.stringify(body).slice(0, 200)}`);
          };
          const all = Array.from({ length: WORKSPACES }, (_, i) => i + 1);
          await ask("user-1", all); // warm
          const bulk: number[] = [];
          const single: number[] = [];
          for (let round = 0; round < ROUNDS; round++) {
            bulk.push(await timeMs(() => ask(`user-${2 + round * 2}`, all)));
            single.push(await timeMs(async () => {
              for (const w of all) await ask(`user-${3 + round * 2}`, [w]);
            }));
          }
          const bulkPerDecision = median(bulk) / WORKSPACES;
          const singlePerDecision = median(single) / WORKSPACES;

          const get = async (path: string) => {
            const response = await fetch(`${service.baseUrl}${path}`, { headers });
            const text = await response.text();
            if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}: ${text.slice(0, 200)}`);
            return text;
          };
          const accessPath = `/iam/workspaces/${workspaceId(1)}/access`;
          const reviewed = JSON.parse(await get(accessPath)) as { count: number };
          const access: number[] = [];
          for (let i = 0; i < ROUNDS; i++) access.push(await timeMs(() => get(accessPath)));
          const explain: number[] = [];
          for (let i = 0; i < ROUNDS; i++) {
            const query = `resource_type=workspace&resource_id=${workspaceId(1)}&permission=edit&subject_type=user&subject_id=user-${100 + i}`;
            explain.push(await timeMs(() => get(`/iam/permissions/explain?${query}`)));
          }
          const groupExplain = `resource_type=group&resource_id=${groupId(1)}&permission=member&subject_type=user&subject_id=user-1`;
          await get(`/iam/permissions/explain?${groupExplain}`);
          return [
            {
              metric: `POST /iam/permissions/check, 100 decisions in one call, p50, ${LABEL[kind]}`,
              value: median(bulk),
              unit: "ms",
              note: `${bulkPerDecision.toFixed(3)} ms per decision; each round a user not asked about before; seeded in ${(seedMs / 1000).toFixed(1)} s`,
            },
            {
              metric: `ms per decision: one call of 100 against 100 calls of 1, ${LABEL[kind]}`,
              value: bulkPerDecision,
              unit: "ms",
              baseline: { label: "100 single-check calls", value: singlePerDecision },
              note: `goal ≥ 10x fewer; ${(singlePerDecision / bulkPerDecision).toFixed(1)}x`,
            },
            {
              metric: `GET /iam/workspaces/{id}/access p50, 50 groups of 100 members, ${LABEL[kind]}`,
              value: median(access),
              unit: "ms",
              note: `goal < 50 ms; ${reviewed.count} users listed`,
            },
            { metric: `GET /iam/permissions/explain p50, same workspace, ${LABEL[kind]}`, value: median(explain), unit: "ms", note: `goal < 20 ms; ${GROUPS} groups × ${MEMBERS_PER_GROUP} members tenant` },
          ];
        } finally {
          await service.stop();
        }
      } finally {
        await target.dispose();
      }
    },
}));
