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
});
