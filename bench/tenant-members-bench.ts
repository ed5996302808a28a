/**
 * One membership change in a large tenant: `POST /iam/tenants/{id}/members` (by user id) and the
 * `DELETE` that takes the member out again, p50 over 30 rounds each, embedded, in a tenant of
 * 100,000 members against the same in a tenant of 10 (the same run). A change of one member reads
 * and locks that member's row and the admins', not every member's, so the two should be close.
 */
import { median, timeMs, type BenchResult, type BenchScenario } from "./bench-kit.js";
import { TENANT_ID, bearer, createTarget, seed, seedDefaultTenant, seedTenantMembers, serveService, tokenFor } from "./iam-bench-support.js";

const LARGE = 100_000;
const SMALL = 10;
const ROUNDS = 30;

async function memberChangeMs(members: number): Promise<{ add: number; remove: number }> {
  const target = await createTarget("pglite");
  try {
    await seed(target, async (db) => {
      await seedDefaultTenant(db);
      await seedTenantMembers(db, "admin-", 1, "admin");
      await seedTenantMembers(db, "member-", members, "member");
    });
    const service = await serveService(target);
    try {
      const auth = bearer(await tokenFor(target, "admin-1"));
      const headers = { ...auth, "content-type": "application/json" };
      // Each round takes a member out and puts them back.
      const adds: number[] = [];
      const removes: number[] = [];
      for (let round = 1; round <= ROUNDS + 1; round++) {
        const user = `member-${1 + ((round - 1) % SMALL)}`;
        const removed = await timeMs(async () => {
          const response = await fetch(`${service.baseUrl}/iam/tenants/${TENANT_ID}/members/${user}`, { method: "DELETE", headers: auth });
          if (response.status !== 204) throw new Error(`DELETE answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
        });
        const added = await timeMs(async () => {
          const response = await fetch(`${service.baseUrl}/iam/tenants/${TENANT_ID}/members`, {
            method: "POST",
            headers,
            body: JSON.stringify({ user_id: user, role: "member" }),
          });
          if (response.status !== 201) throw new Error(`POST answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
        });
        // The first round warms the caches up.
        if (round > 1) {
          removes.push(removed);
          adds.push(added);
        }
      }
      return { add: median(adds), remove: median(removes) };
    } finally {
      await service.stop();
    }
  } finally {
    await target.dispose();
  }
}

async function run(): Promise<BenchResult[]> {
  const small = await memberChangeMs(SMALL);
  const large = await memberChangeMs(LARGE);
  return [
    {
      metric: `POST /iam/tenants/{id}/members p50, ${LARGE.toLocaleString("en")} members, embedded`,
      value: large.add,
      unit: "ms",
      baseline: { label: `${SMALL} members`, value: small.add },
    },
    {
      metric: `DELETE /iam/tenants/{id}/members/{user} p50, ${LARGE.toLocaleString("en")} members, embedded`,
      value: large.remove,
      unit: "ms",
      baseline: { label: `${SMALL} members`, value: small.remove },
    },
  ];
}

export const scenarios: BenchScenario[] = [{ name: "tenant-members-embedded", run }];
