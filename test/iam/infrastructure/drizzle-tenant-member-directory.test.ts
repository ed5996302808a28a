import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DrizzleTenantMemberDirectory } from "../../../src/iam/infrastructure/drizzle-tenant-member-directory.js";
import { seedTenant, seedTenantMember, seedUser } from "../../support/sql-seed.js";
import { TEST_DATABASE_KINDS, createTestDatabase, type TestDatabase } from "../../support/test-database.js";

describe.each(TEST_DATABASE_KINDS)("DrizzleTenantMemberDirectory on %s", (kind) => {
  let database: TestDatabase;
  let directory: DrizzleTenantMemberDirectory;
  let tenantId: string;
  let otherTenantId: string;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    directory = new DrizzleTenantMemberDirectory(database.handle.db);
    const db = database.handle.db;
    tenantId = await seedTenant(db);
    otherTenantId = await seedTenant(db);
    await seedTenantMember(db, tenantId, "mixed-case", { email: "Ada.Lovelace@Example.COM" });
    await seedTenantMember(db, otherTenantId, "elsewhere", { email: "grace@example.com" });
    await seedUser(db, "no-tenant", "nobody@example.com");
    await seedTenantMember(db, tenantId, "twin-1", { email: "shared@example.com" });
    await seedTenantMember(db, tenantId, "twin-2", { email: "SHARED@example.com" });
  });
  afterAll(async () => {
    await database?.dispose();
  });

  it("finds a member by email whatever the casing on either side", async () => {
    expect(await directory.findIdsByEmail(tenantId, "ada.lovelace@example.com")).toEqual(["mixed-case"]);
    expect(await directory.findIdsByEmail(tenantId, "ADA.LOVELACE@EXAMPLE.COM")).toEqual(["mixed-case"]);
  });

  it("never finds users outside the tenant", async () => {
    expect(await directory.findIdsByEmail(tenantId, "grace@example.com")).toEqual([]);
    expect(await directory.findIdsByEmail(tenantId, "nobody@example.com")).toEqual([]);
    expect(await directory.findIdsByEmail(otherTenantId, "ada.lovelace@example.com")).toEqual([]);
  });

  it("returns every member sharing an address", async () => {
    expect(await directory.findIdsByEmail(tenantId, "shared@example.com")).toEqual(["twin-1", "twin-2"]);
  });

  it("tells members from non-members, and both from a tenant that is gone", async () => {
    expect(await directory.holdMembership(tenantId, "mixed-case")).toBe("member");
    expect(await directory.holdMembership(tenantId, "elsewhere")).toBe("not_member");
    expect(await directory.holdMembership(tenantId, "no-tenant")).toBe("not_member");
    expect(await directory.holdMembership(tenantId, "unknown")).toBe("not_member");
    expect(await directory.holdMembership("01J0000000000000000000GONE", "mixed-case")).toBe("no_tenant");
  });
});
