import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConflictError } from "../../../src/iam/domain/errors.js";
import { DrizzleUserRepository } from "../../../src/iam/infrastructure/drizzle-user-repository.js";
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
    expect(await users.provision(profile)).toBe("created");
    const created = await rowVersion("sub-1");
    expect(await users.provision(profile)).toBe("unchanged");
    expect(await rowVersion("sub-1")).toBe(created);
    expect(await users.provision({ ...profile, email: null })).toBe("updated");
    expect(await rowVersion("sub-1")).not.toBe(created);
    expect(await users.provision({ ...profile, email: null })).toBe("unchanged");
  });

  it("refuses a username owned by another subject and leaves both rows as they were", async () => {
    await users.provision({ id: "sub-2", username: "two", name: "Two", email: null });
    const before = await queryRows(database.handle.db, sql`SELECT * FROM users ORDER BY id`);
    await expect(users.provision({ id: "sub-3", username: "two", name: "Three", email: null })).rejects.toThrow(ConflictError);
    await expect(users.provision({ id: "sub-1", username: "two", name: "One", email: null })).rejects.toThrow(
      "Username 'two' is already taken by another account. Contact your administrator if you believe this is an error.",
    );
    expect(await queryRows(database.handle.db, sql`SELECT * FROM users ORDER BY id`)).toEqual(before);
  });

  it("survives concurrent first requests: one row per subject, and a contested username goes to exactly one", async () => {
    const same = await Promise.allSettled(
      Array.from({ length: 8 }, () => users.provision({ id: "sub-race", username: "racer", name: "R", email: null })),
    );
    expect(same.every((outcome) => outcome.status === "fulfilled")).toBe(true);
    const outcomes = same.map((outcome) => (outcome as PromiseFulfilledResult<string>).value);
    expect(outcomes.filter((outcome) => outcome === "created")).toHaveLength(1);

    const contested = await Promise.allSettled(
      Array.from({ length: 6 }, (_, index) => users.provision({ id: `claimant-${index}`, username: "contested", name: null, email: null })),
    );
    const won = contested.filter((outcome) => outcome.status === "fulfilled");
    const lost = contested.filter((outcome): outcome is PromiseRejectedResult => outcome.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost.every((outcome) => outcome.reason instanceof ConflictError)).toBe(true);
    const rows = await queryRows(database.handle.db, sql`SELECT id FROM users WHERE username = 'contested'`);
    expect(rows).toHaveLength(1);
  });
});
