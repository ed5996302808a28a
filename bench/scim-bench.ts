/**
 * SCIM provisioning (issue 20), embedded and (with KARTOGRAPH_BENCH_DB_URL) on PostgreSQL, through
 * the real service process:
 *
 * - initial sync: 10,000 users POSTed to /scim/v2/Users, then 500 groups of 20 of them to
 *   /scim/v2/Groups, by 8 concurrent clients (a directory's first push): total time and requests/s;
 * - `GET /scim/v2/Users?filter=userName eq "..."` p50 once the tenant has 100,000 users;
 * - deactivating a user who holds roles in 100 workspaces and 50 groups (PATCH active false): p50
 *   of 15, after 2 of the same shape left unmeasured (they compile the removal path, which the sync
 *   never ran), and whether each one's next request is refused.
 */
import { sql } from "drizzle-orm";
import { queryRows } from "../src/platform/database/database.js";
import { SCIM_TOKEN_PREFIX, Sha256ApiKeySecrets } from "../src/iam/infrastructure/sha256-api-key-secrets.js";
import { median, percentile, timeMs, type BenchResult, type BenchScenario } from "./bench-kit.js";
import {
  TENANT_ID,
  bearer,
  benchServerUrl,
  createTarget,
  seed,
  seedDefaultTenant,
  seedTenantMembers,
  seedWorkspaces,
  serveService,
  tokenFor,
  type DatabaseKind,
} from "./iam-bench-support.js";

const SYNCED_USERS = 10_000;
const SYNCED_GROUPS = 500;
const MEMBERS_PER_GROUP = 20;
const CLIENTS = 8;
const TOTAL_USERS = 100_000;
const LOOKUPS = 200;
const DEACTIVATED = 15;
/** Deactivations of the same shape before the measured ones: the removal path's first runs compile it. */
const WARM_UP = 2;
const LEAVERS = WARM_UP + DEACTIVATED;
const WORKSPACES = 100;
const GROUPS = 50;

const USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const LABEL: Record<DatabaseKind, string> = { pglite: "embedded", postgres: "PostgreSQL", remote: "PostgreSQL + SpiceDB server" };
const kinds: DatabaseKind[] = benchServerUrl() === null ? ["pglite"] : ["pglite", "postgres"];
const GROUP_ID = (g: string) => sql.raw(`'01JG' || lpad((${g})::text, 22, '0')`);

async function run(kind: DatabaseKind): Promise<BenchResult[]> {
  const target = await createTarget(kind);
  const secrets = new Sha256ApiKeySecrets(SCIM_TOKEN_PREFIX);
  const token = secrets.issue();
  try {
    await seed(target, async (db) => {
      await seedDefaultTenant(db);
      await seedTenantMembers(db, "admin-", 1, "admin");
      await queryRows(
        db,
        sql`INSERT INTO scim_tokens (id, tenant_id, name, token_digest, prefix, created_by_user_id)
            VALUES ('01JS0000000000000000000001', ${TENANT_ID}, 'bench', ${token.digest}, ${token.prefix}, 'admin-1')`,
      );
      // Those deactivated: each edits 100 workspaces and belongs to 50 groups (whose admin is admin-1).
      await seedTenantMembers(db, "leaver-", LEAVERS, "member");
      await seedWorkspaces(db, 1, WORKSPACES);
      await queryRows(
        db,
        sql`INSERT INTO workspace_members (workspace_id, member_type, member_id, role)
            SELECT w.id, 'user', 'leaver-' || k, 'editor' FROM workspaces w, generate_series(1, ${LEAVERS}::int) k WHERE NOT w.is_root`,
      );
      await queryRows(db, sql`INSERT INTO groups (id, tenant_id, name) SELECT ${GROUP_ID("g")}, ${TENANT_ID}, 'group-' || g FROM generate_series(1, ${GROUPS}::int) g`);
      await queryRows(
        db,
        sql`INSERT INTO group_members (group_id, user_id, role)
            SELECT ${GROUP_ID("g")}, 'admin-1', 'admin' FROM generate_series(1, ${GROUPS}::int) g
            UNION ALL
            SELECT ${GROUP_ID("g")}, 'leaver-' || k, 'member' FROM generate_series(1, ${GROUPS}::int) g, generate_series(1, ${LEAVERS}::int) k`,
      );
    });
    let service = await serveService(target);
    try {
      const headers = { ...bearer(token.secret), "content-type": "application/scim+json" };
      const scim = async (method: string, path: string, body?: unknown) => {
        const response = await fetch(`${service.baseUrl}/scim/v2${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
        const text = await response.text();
        return { status: response.status, text };
      };

      // 1. Initial sync: the users, then the groups.
      const failures = new Map<number, number>();
      const created: string[] = [];
      const inParallel = async (total: number, send: (i: number) => Promise<{ status: number; text: string }>) => {
        let next = 0;
        await Promise.all(
          Array.from({ length: CLIENTS }, async () => {
            while (next < total) {
              const i = ++next;
              const answer = await send(i);
              if (answer.status !== 201) failures.set(answer.status, (failures.get(answer.status) ?? 0) + 1);
            }
          }),
        );
      };
      const usersMs = await timeMs(() =>
        inParallel(SYNCED_USERS, async (i) => {
          const answer = await scim("POST", "/Users", {
            schemas: [USER_SCHEMA],
            userName: `synced-${i}@example.com`,
            externalId: `00u${i}`,
            name: { givenName: "Synced", familyName: `User ${i}` },
            emails: [{ value: `synced-${i}@example.com`, type: "work", primary: true }],
            active: true,
          });
          if (answer.status === 201) created[i - 1] = (JSON.parse(answer.text) as { id: string }).id;
          return answer;
        }),
      );
      const groupsMs = await timeMs(() =>
        inParallel(SYNCED_GROUPS, (g) =>
          scim("POST", "/Groups", {
            schemas: [GROUP_SCHEMA],
            displayName: `synced-group-${g}`,
            externalId: `00g${g}`,
            members: Array.from({ length: MEMBERS_PER_GROUP }, (_, m) => ({ value: created[((g - 1) * MEMBERS_PER_GROUP + m) % SYNCED_USERS] })),
          }),
        ),
      );
      const syncMs = usersMs + groupsMs;

      // 3. Deactivation of users with 100 workspace roles and 50 group memberships.
      const deactivations: number[] = [];
      let refusedAfter = 0;
      for (let k = 1; k <= LEAVERS; k++) {
        const leaver = await tokenFor(target, `leaver-${k}`);
        const before = await fetch(`${service.baseUrl}/iam/workspaces`, { headers: bearer(leaver) });
        if (before.status !== 200) throw new Error(`leaver-${k} could not list workspaces before: ${before.status}`);
        const took = await timeMs(async () => {
          const answer = await scim("PATCH", `/Users/leaver-${k}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: "replace", value: { active: false } }] });
          if (answer.status !== 200) throw new Error(`deactivation answered ${answer.status}: ${answer.text.slice(0, 200)}`);
        });
        const after = await fetch(`${service.baseUrl}/iam/workspaces`, { headers: bearer(leaver) });
        if (k <= WARM_UP) continue;
        deactivations.push(took);
        if (after.status === 403) refusedAfter++;
      }

      await service.stop();
      // 2. Look-ups by userName among 100,000 users: the rest seeded directly, with the service stopped.
      await seed(target, (db) => seedTenantMembers(db, "seeded-", TOTAL_USERS - SYNCED_USERS - LEAVERS - 1, "member"));
      service = await serveService(target);
      const lookups: number[] = [];
      for (let i = 0; i < LOOKUPS; i++) {
        const filter = encodeURIComponent(`userName eq "synced-${1 + ((i * 37) % SYNCED_USERS)}@example.com"`);
        lookups.push(
          await timeMs(async () => {
            const answer = await scim("GET", `/Users?filter=${filter}`);
            if (answer.status !== 200 || !answer.text.includes('"totalResults":1')) throw new Error(`look-up answered ${answer.status}: ${answer.text.slice(0, 200)}`);
          }),
        );
      }

      const label = LABEL[kind];
      const failed = [...failures].map(([status, count]) => `${count}×${status}`).join(", ");
      return [
        {
          metric: `initial sync: ${SYNCED_USERS.toLocaleString("en")} users, then ${SYNCED_GROUPS} groups of ${MEMBERS_PER_GROUP}, ${label}`,
          value: syncMs / 1000,
          unit: "s",
          note:
            `goal < 60 s embedded; ${CLIENTS} clients; ${(((SYNCED_USERS + SYNCED_GROUPS) * 1000) / syncMs).toFixed(0)} requests/s; ` +
            `users ${(usersMs / 1000).toFixed(1)} s (${((SYNCED_USERS * 1000) / usersMs).toFixed(0)}/s), groups ${(groupsMs / 1000).toFixed(1)} s` +
            (failed ? `; failed: ${failed}` : ""),
        },
        {
          metric: `GET /scim/v2/Users?filter=userName eq p50, ${TOTAL_USERS.toLocaleString("en")} users, ${label}`,
          value: median(lookups),
          unit: "ms",
          note: `goal < 10 ms; p99 ${percentile(lookups, 99).toFixed(1)} ms; ${LOOKUPS} sequential look-ups`,
        },
        {
          metric: `deactivation (PATCH active false) p50, ${WORKSPACES} workspace roles + ${GROUPS} groups, ${label}`,
          value: median(deactivations),
          unit: "ms",
          note: `goal < 100 ms; ${DEACTIVATED} after ${WARM_UP} unmeasured; p99 ${percentile(deactivations, 99).toFixed(0)} ms; next request refused for ${refusedAfter} of ${DEACTIVATED}`,
        },
      ];
    } finally {
      await service.stop();
    }
  } finally {
    await target.dispose();
  }
}

export const scenarios: BenchScenario[] = kinds.map((kind) => ({ name: `scim-${kind === "pglite" ? "embedded" : "postgres"}`, run: () => run(kind) }));
