import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConflictError } from "../../../src/iam/domain/errors.js";
import { DrizzleUserRepository } from "../../../src/iam/infrastructure/drizzle-user-repository.js";
import type { Provisioned } from "../../../src/iam/ports/user-repository.js";
import { queryRows } from "../../../src/platform/database/database.js";
import { TEST_DATABASE_KINDS, createTestDatabase, type TestDatabase } from "../../support/test-database.js";

describe.each(TEST_DATABASE_KINDS)("user provisioning on %s", (kind) => {
  let database: TestDatabase;
  let users: DrizzleUserRepository;

  /** The row's version: it changes whenever PostgreSQL writes the row. */
  const rowVersion = async (id: string) =>
    (await queryRows<{ xmin: string }>(database.handle.db, sql`SELECT xmin::text AS xmin FROM users WHERE id = ${id}`))[0]?.xmin;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    users = new DrizzleUserRepository(database.handle.db);
  });
  afterAll(async () => {
    await database?.dispose();
  });

  it("creates, updates only on change, and writes nothing when claims match", async () => {
    const profile = { id: "sub-1", username: "one", name: "One", email: "one@example.com" };
    const outcome = async (claims: typeof profile | { email: null }) => (await users.provision({ ...profile, ...claims }, null)).outcome;
    expect(await outcome(profile)).toBe("created");
    const created = await rowVersion("sub-1");
    expect(await outcome(profile)).toBe("unchanged");
    expect(await rowVersion("sub-1")).toBe(created);
    expect(await outcome({ email: null })).toBe("updated");
    expect(await rowVersion("sub-1")).not.toBe(created);
    expect(await outcome({ email: null })).toBe("unchanged");
  });

  it("refuses a username owned by another subject and leaves both rows as they were", async () => {
    await users.provision({ id: "sub-2", username: "two", name: "Two", email: null }, null);
    const before = await queryRows(database.handle.db, sql`SELECT * FROM users ORDER BY id`);
    await expect(users.provision({ id: "sub-3", username: "two", name: "Three", email: null }, null)).rejects.toThrow(ConflictError);
    await expect(users.provision({ id: "sub-1", username: "two", name: "One", email: null }, null)).rejects.toThrow(
      "Username 'two' is already taken by another account. Contact your administrator if you believe this is an error.",
    );
    expect(await queryRows(database.handle.db, sql`SELECT * FROM users ORDER BY id`)).toEqual(before);
  });

  it("treats usernames that differ only in case as the same, and stores them as given", async () => {
    await users.provision({ id: "sub-alice", username: "Alice", name: null, email: null }, null);
    await expect(users.provision({ id: "sub-other", username: "alice", name: null, email: null }, null)).rejects.toThrow(
      "Username 'alice' is already taken by another account.",
    );
    await expect(users.provision({ id: "sub-other", username: "ALICE", name: null, email: null }, null)).rejects.toThrow(ConflictError);
    // The owner may change the case of their own username.
    expect((await users.provision({ id: "sub-alice", username: "alice", name: null, email: null }, null)).outcome).toBe("updated");
    const rows = await queryRows(database.handle.db, sql`SELECT id, username FROM users WHERE lower(username) = 'alice'`);
    expect(rows).toEqual([{ id: "sub-alice", username: "alice" }]);
  });

  it("says in the same statement whether the verified email has invitations waiting", async () => {
    await queryRows(database.handle.db, sql`INSERT INTO tenants (id, name) VALUES ('01J0000000000000000000INV1', 'inviting')`);
    await queryRows(
      database.handle.db,
      sql`INSERT INTO tenant_invitations (tenant_id, email, role) VALUES ('01J0000000000000000000INV1', 'dana@example.com', 'member')`,
    );
    const dana = { id: "sub-dana", username: "dana", name: null, email: "Dana@Example.com" };
    expect(await users.provision(dana, "dana@example.com")).toEqual({ outcome: "created", invited: true });
    expect(await users.provision(dana, "dana@example.com")).toEqual({ outcome: "unchanged", invited: true });
    expect(await users.provision(dana, null)).toEqual({ outcome: "unchanged", invited: false });
    expect(await users.provision({ ...dana, id: "sub-eve", username: "eve" }, "eve@example.com")).toEqual({ outcome: "created", invited: false });
  });

  it("survives concurrent first requests: one row per subject, and a contested username goes to exactly one", async () => {
    const same = await Promise.allSettled(
      Array.from({ length: 8 }, () => users.provision({ id: "sub-race", username: "racer", name: "R", email: null }, null)),
    );
    expect(same.every((outcome) => outcome.status === "fulfilled")).toBe(true);
    const outcomes = same.map((outcome) => (outcome as PromiseFulfilledResult<Provisioned>).value.outcome);
    expect(outcomes.filter((outcome) => outcome === "created")).toHaveLength(1);

    const contested = await Promise.allSettled(
      Array.from({ length: 6 }, (_, index) => users.provision({ id: `claimant-${index}`, username: "contested", name: null, email: null }, null)),
    );
    const won = contested.filter((outcome) => outcome.status === "fulfilled");
    const lost = contested.filter((outcome): outcome is PromiseRejectedResult => outcome.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost.every((outcome) => outcome.reason instanceof ConflictError)).toBe(true);
    const rows = await queryRows(database.handle.db, sql`SELECT id FROM users WHERE username = 'contested'`);
    expect(rows).toHaveLength(1);
  });
});
