/**
 * Everything an HTTP test needs, started together and stopped in the right order: a test database,
 * an in-process SpiceDB, a test OIDC issuer and the IAM server wired to all three.
 */
import type { SpiceDbEngine } from "../../src/platform/spicedb/spicedb-engine.js";
import { createTestDatabase, type TestDatabase, type TestDatabaseKind } from "./test-database.js";
import { startTestIamServer, type TestIamServer, type TestIamServerOptions } from "./test-iam-server.js";
import { startTestIdentity, type TestIdentity } from "./test-identity.js";
import { startTestSpiceDb } from "./test-spicedb.js";

export interface TestStack {
  readonly database: TestDatabase;
  readonly spicedb: SpiceDbEngine;
  readonly identity: TestIdentity;
  readonly app: TestIamServer;
  close(): Promise<void>;
}

export type TestStackOptions = Omit<TestIamServerOptions, "database" | "spicedb" | "identity">;

export async function startTestStack(kind: TestDatabaseKind, options: TestStackOptions = {}): Promise<TestStack> {
  const database = await createTestDatabase(kind);
  const spicedb = await startTestSpiceDb();
  const identity = await startTestIdentity();
  const app = await startTestIamServer({ ...options, database: database.handle, spicedb, identity });
  return {
    database,
    spicedb,
    identity,
    app,
    async close() {
      await app.close();
      await identity.close();
      await spicedb.close();
      await database.dispose();
    },
  };
}
