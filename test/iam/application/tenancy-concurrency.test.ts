/**
 * Races the database must decide (PostgreSQL server only: PGlite is a single session and
 * serialises everything): duplicate names, concurrent demotions, concurrent start-ups.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TenantService } from "../../../src/iam/application/tenant-service.js";
import { ConflictError, LastAdminError } from "../../../src/iam/domain/errors.js";
import { createRepositories } from "../../../src/iam/infrastructure/repositories.js";
import { HAS_POSTGRES_SERVER } from "../../support/test-database.js";
import { RecordingTenantServiceProbe } from "../../support/recording-probes.js";
import { createTenancyFixture, type TenancyFixture } from "../../support/tenancy-fixture.js";

describe.runIf(HAS_POSTGRES_SERVER)("tenancy under concurrency on postgres", () => {
  let f: TenancyFixture;
  let tenantId: string;
  let rootId: string;

  beforeAll(async () => {
    f = await createTenancyFixture("postgres", {}, { poolMax: 20 });
    await f.addUsers("ada", "bea");
    tenantId = (await f.tenants.create({ userId: "ada", username: "ada", apiKeyId: null, apiKeyTenantId: null }, "racers")).id;
    rootId = (await f.workspaces.list(f.caller("ada", tenantId)))[0]?.id ?? "";
  });
  afterAll(async () => {
    await f?.dispose();
  });

  it("creates a workspace name once out of 50 concurrent attempts; the rest are conflicts", async () => {
    const attempts = await Promise.allSettled(
      Array.from({ length: 50 }, () => f.workspaces.create(f.caller("ada", tenantId), { name: "contested", parentWorkspaceId: rootId })),
    );
    const won = attempts.filter((a) => a.status === "fulfilled");
    const lost = attempts.flatMap((a) => (a.status === "rejected" ? [a.reason as unknown] : []));
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(49);
    for (const reason of lost) expect(reason).toBeInstanceOf(ConflictError);
    expect(await f.rows(sql`SELECT count(*)::int AS n FROM workspaces WHERE name = 'contested'`)).toEqual([{ n: 1 }]);
  });

  it("keeps an admin when the last two demote each other at the same time", async () => {
    const ada = f.caller("ada", tenantId);
    await f.tenants.addMember(ada, tenantId, { userId: "bea", role: "admin" });
    const results = await Promise.allSettled([
      f.tenants.addMember(ada, tenantId, { userId: "bea", role: "member" }),
      f.tenants.addMember(f.caller("bea", tenantId), tenantId, { userId: "ada", role: "member" }),
    ]);
    const admins = await f.rows(sql`SELECT user_id FROM tenant_members WHERE tenant_id = ${tenantId} AND role = 'admin'`);
    // The tenant row lock serialises the two: one demotion wins, the other meets the last admin.
    expect(admins).toHaveLength(1);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(LastAdminError);

    const owner = String(admins[0]?.["user_id"]);
    const other = owner === "ada" ? "bea" : "ada";
    const ws = await f.workspaces.create(f.caller(owner, tenantId), { name: "pair", parentWorkspaceId: rootId });
    await f.workspaces.addMember(f.caller(owner, tenantId), ws.id, { memberId: other, memberType: "user", role: "admin" });
    await Promise.allSettled([
      f.workspaces.changeMemberRole(f.caller(owner, tenantId), ws.id, { memberId: other, memberType: "user" }, "member"),
      f.workspaces.removeMember(f.caller(other, tenantId), ws.id, { memberId: owner, memberType: "user" }),
    ]);
    const wsAdmins = await f.rows(sql`SELECT member_id FROM workspace_members WHERE workspace_id = ${ws.id} AND role = 'admin'`);
    expect(wsAdmins.length).toBeGreaterThanOrEqual(1);
  });

  it("creates the default tenant and its root once when several instances start together", async () => {
    const instances = Array.from(
      { length: 5 },
      () =>
        new TenantService({
          unitOfWork: f.runtime.unitOfWork,
          repositories: createRepositories(f.database.handle.db),
          authorization: f.runtime.authorization,
          probe: new RecordingTenantServiceProbe(),
          settings: { singleTenantMode: true, defaultTenantName: "shared default", defaultWorkspaceName: null },
        }),
    );
    const ids = await Promise.all(instances.map((s) => s.ensureDefaultTenant()));
    expect(new Set(ids).size).toBe(1);
    expect(await f.rows(sql`SELECT count(*)::int AS n FROM tenants WHERE name = 'shared default'`)).toEqual([{ n: 1 }]);
    expect(await f.rows(sql`SELECT count(*)::int AS n FROM workspaces WHERE tenant_id = ${ids[0]} AND is_root`)).toEqual([{ n: 1 }]);
    await Promise.all(instances.map((s) => s.join("bea", false)));
    expect(await f.rows(sql`SELECT role FROM tenant_members WHERE tenant_id = ${ids[0]}`)).toEqual([{ role: "member" }]);
  });
});
