/**
 * Upgrading a database from before case-insensitive usernames and per-creator tenant names: the
 * migration must not fail on usernames that differ only in case (all accounts are kept), and the
 * default tenant, found by name before, must be found again.
 */
import { rmSync } from "node:fs";
import { sql } from "drizzle-orm";
import { migrate } from "drizzle-orm/pglite/migrator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TenantService } from "../../../src/iam/application/tenant-service.js";
import { ConflictError } from "../../../src/iam/domain/errors.js";
import { createRepositories } from "../../../src/iam/infrastructure/repositories.js";
import { createOutboxRuntime } from "../../../src/outbox-runtime.js";
import { loadConfig } from "../../../src/platform/config/config.js";
import { queryRows, type DatabaseHandle } from "../../../src/platform/database/database.js";
import { migratePglite, openPglite } from "../../../src/platform/database/pglite-database.js";
import { createLogger } from "../../../src/platform/logging/logger.js";
import type { SpiceDbEngine } from "../../../src/platform/spicedb/spicedb-engine.js";
import { migrationsBefore } from "../../support/migrations-before.js";
import { RecordingTenantServiceProbe } from "../../support/recording-probes.js";
import { startTestSpiceDb } from "../../support/test-spicedb.js";

describe("the tenancy migration on a database with data", () => {
  let handle: DatabaseHandle;
  let spicedb: SpiceDbEngine;
  let legacyDefault: string;
  const run = <T = Record<string, unknown>>(query: ReturnType<typeof sql>) => queryRows<T>(handle.db, query);

  beforeAll(async () => {
    handle = await openPglite(null);
    const folder = migrationsBefore("_tenancy");
    try {
      await migrate(handle.db as never, { migrationsFolder: folder });
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
    await run(sql`INSERT INTO users (id, username, created_at) VALUES
      ('sub-1', 'Alice', '2024-01-01'), ('sub-2', 'alice', '2024-02-01'), ('sub-3', 'ALICE', '2024-03-01'), ('sub-4', 'bob', '2024-01-01')`);
    legacyDefault = "01J000000000000000000DEFLT";
    await run(sql`INSERT INTO tenants (id, name) VALUES (${legacyDefault}, 'default'), ('01J0000000000000000000ACME', 'acme')`);
    await migratePglite(handle);
    spicedb = await startTestSpiceDb();
  });
  afterAll(async () => {
    await spicedb?.close();
    await handle?.close();
  });

  it("keeps every account whose username differs only in case, marking all but the oldest", async () => {
    expect(await run(sql`SELECT id, username, username_clash_kept AS kept FROM users ORDER BY id`)).toEqual([
      { id: "sub-1", username: "Alice", kept: false },
      { id: "sub-2", username: "alice", kept: true },
      { id: "sub-3", username: "ALICE", kept: true },
      { id: "sub-4", username: "bob", kept: false },
    ]);
    const users = createRepositories(handle.db, "pglite").users;
    expect(await users.keptUsernameClashes()).toEqual([
      { id: "sub-3", username: "ALICE" },
      { id: "sub-2", username: "alice" },
    ]);
  });

  it("applies the rule to everyone else, and to a kept account once it changes its username", async () => {
    const users = createRepositories(handle.db, "pglite").users;
    await expect(users.provision({ id: "sub-5", username: "aLiCe", name: null, email: null }, null)).rejects.toThrow(ConflictError);
    // A kept account signing in unchanged keeps working.
    expect((await users.provision({ id: "sub-2", username: "alice", name: "Second", email: null }, null)).outcome).toBe("updated");
    await expect(users.provision({ id: "sub-2", username: "BOB", name: null, email: null }, null)).rejects.toThrow(ConflictError);
    await users.provision({ id: "sub-3", username: "alice-three", name: null, email: null }, null);
    expect(await run(sql`SELECT username_clash_kept AS kept FROM users WHERE id = 'sub-3'`)).toEqual([{ kept: false }]);
    await expect(users.provision({ id: "sub-3", username: "Alice", name: null, email: null }, null)).rejects.toThrow(ConflictError);
  });

  it("finds the default tenant it had by name, instead of creating another", async () => {
    const config = loadConfig({ LOG_LEVEL: "silent" });
    const logger = createLogger("silent", { pretty: false });
    const runtime = await createOutboxRuntime(config, handle, spicedb, logger, { listen: false });
    const tenants = new TenantService({
      unitOfWork: runtime.unitOfWork,
      repositories: createRepositories(handle.db, "pglite"),
      authorization: runtime.authorization,
      probe: new RecordingTenantServiceProbe(),
      settings: { singleTenantMode: true, defaultTenantName: "default", defaultWorkspaceName: null },
    });
    expect(await tenants.ensureDefaultTenant()).toBe(legacyDefault);
    expect(await run(sql`SELECT id FROM tenants WHERE is_default`)).toEqual([{ id: legacyDefault }]);
    expect(await run(sql`SELECT count(*)::int AS n FROM tenants`)).toEqual([{ n: 2 }]);
  });
});
