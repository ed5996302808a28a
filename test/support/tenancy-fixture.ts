/**
 * The tenant and workspace services over a real database, the real unit of work (outbox + relationship
 * sync) and an in-process SpiceDB, with recording probes. For service-level tests without HTTP.
 */
import { sql } from "drizzle-orm";
import type { Caller } from "../../src/iam/application/caller.js";
import { TenantService, type TenantServiceSettings } from "../../src/iam/application/tenant-service.js";
import { WorkspaceService } from "../../src/iam/application/workspace-service.js";
import { createRepositories } from "../../src/iam/infrastructure/repositories.js";
import { createOutboxRuntime, type OutboxRuntime } from "../../src/outbox-runtime.js";
import { loadConfig } from "../../src/platform/config/config.js";
import { queryRows } from "../../src/platform/database/database.js";
import { createLogger } from "../../src/platform/logging/logger.js";
import type { SpiceDbEngine } from "../../src/platform/spicedb/spicedb-engine.js";
import { RecordingTenantServiceProbe, RecordingWorkspaceServiceProbe } from "./recording-probes.js";
import { createTestDatabase, type TestDatabase, type TestDatabaseKind } from "./test-database.js";
import { startTestSpiceDb } from "./test-spicedb.js";

export interface TenancyFixture {
  readonly database: TestDatabase;
  readonly spicedb: SpiceDbEngine;
  readonly runtime: OutboxRuntime;
  readonly workspaces: WorkspaceService;
  readonly tenants: TenantService;
  readonly workspaceProbe: RecordingWorkspaceServiceProbe;
  readonly tenantProbe: RecordingTenantServiceProbe;
  /** Inserts users (as JIT provisioning would). */
  addUsers(...users: (string | { id: string; email: string | null })[]): Promise<void>;
  caller(userId: string, tenantId: string): Caller;
  rows<T = Record<string, unknown>>(query: ReturnType<typeof sql>): Promise<T[]>;
  dispose(): Promise<void>;
}

export async function createTenancyFixture(
  kind: TestDatabaseKind,
  settings: Partial<TenantServiceSettings> = {},
  options: { poolMax?: number } = {},
): Promise<TenancyFixture> {
  const database = await createTestDatabase(kind, options);
  const spicedb = await startTestSpiceDb();
  const config = loadConfig({ LOG_LEVEL: "silent" });
  const logger = createLogger("silent", { pretty: false });
  const runtime = await createOutboxRuntime(config, database.handle, spicedb, logger, { listen: false });
  const repositories = createRepositories(database.handle.db);
  const workspaceProbe = new RecordingWorkspaceServiceProbe();
  const tenantProbe = new RecordingTenantServiceProbe();
  const common = { unitOfWork: runtime.unitOfWork, repositories, authorization: runtime.authorization };
  return {
    database,
    spicedb,
    runtime,
    workspaceProbe,
    tenantProbe,
    workspaces: new WorkspaceService({ ...common, probe: workspaceProbe }),
    tenants: new TenantService({
      ...common,
      probe: tenantProbe,
      settings: { singleTenantMode: false, defaultTenantName: "default", defaultWorkspaceName: null, ...settings },
    }),
    async addUsers(...users) {
      for (const user of users) {
        const { id, email } = typeof user === "string" ? { id: user, email: `${user}@example.com` } : user;
        await queryRows(database.handle.db, sql`INSERT INTO users (id, username, email) VALUES (${id}, ${id}, ${email}) ON CONFLICT DO NOTHING`);
      }
    },
    caller(userId, tenantId) {
      return { userId, username: userId, apiKeyId: null, apiKeyTenantId: null, tenantId };
    },
    rows: (query) => queryRows(database.handle.db, query),
    async dispose() {
      await spicedb.close();
      await database.dispose();
    },
  };
}
