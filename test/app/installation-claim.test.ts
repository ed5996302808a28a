/**
 * One SpiceDB serves one IAM database: a second database pointed at it would have its reconcile
 * delete the first's relationships. The first database to start claims the SpiceDB; a process of
 * any other is refused at start with one line saying what to do, and nothing is written for it.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { queryRows } from "../../src/platform/database/database.js";
import { SpiceDbOwnedElsewhereError, claimSpiceDbForDatabase } from "../../src/platform/spicedb/installation-claim.js";
import type { SpiceDbEngine } from "../../src/platform/spicedb/spicedb-engine.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { HAS_SPICEDB_SERVER, startTestSpiceDb } from "../support/test-spicedb.js";
import { startTestIdentity, type TestIdentity } from "../support/test-identity.js";
import { startTestIamServer, type TestIamServer } from "../support/test-iam-server.js";

const ENDPOINT = "spicedb.example:50051";
const CLAIMS = { resourceType: "iam_installation" } as const;

describe("claiming a SpiceDB for one IAM database", () => {
  let spicedb: SpiceDbEngine;
  let first: TestDatabase;
  let second: TestDatabase;
  const claim = (database: TestDatabase, options?: { checkOnly?: boolean }) =>
    claimSpiceDbForDatabase(database.handle.db, spicedb.authorization, ENDPOINT, options);
  const installationOf = async (database: TestDatabase) =>
    (await queryRows<{ installation_id: string }>(database.handle.db, sql`SELECT installation_id FROM iam_installation`))[0]?.installation_id;
  const claims = () => spicedb.authorization.readRelationships(CLAIMS, { kind: "full" });

  beforeEach(async () => {
    spicedb = await startTestSpiceDb();
    [first, second] = await Promise.all([createTestDatabase("pglite"), createTestDatabase("pglite")]);
  });
  afterEach(async () => {
    await Promise.all([first?.dispose(), second?.dispose()]);
    await spicedb?.close();
  });

  it("gives each database an identity of its own, and lets the first one claim an unclaimed SpiceDB, again and again", async () => {
    const [a, b] = [await installationOf(first), await installationOf(second)];
    expect(a).toMatch(/^[0-9a-f-]{36}$/);
    expect(b).not.toBe(a);
    await claim(first);
    await claim(first);
    expect((await claims()).map((r) => r.subject)).toEqual([{ type: "iam_database", id: a }]);
  });

  it("refuses another database, naming both and the way out, and writes nothing for it", async () => {
    await claim(first);
    const refused = claim(second);
    await expect(refused).rejects.toBeInstanceOf(SpiceDbOwnedElsewhereError);
    const a = await installationOf(first);
    await expect(refused).rejects.toThrow(`the SpiceDB at ${ENDPOINT} serves another kartograph-iam database (installation ${a}`);
    await expect(refused).rejects.toThrow(`zed relationship delete iam_installation:kartograph_iam database iam_database:${a}`);
    await expect(claim(second, { checkOnly: true })).rejects.toBeInstanceOf(SpiceDbOwnedElsewhereError);
    expect(await claims()).toHaveLength(1);
  });

  it("hands the SpiceDB over once the old claim is deleted, as the message says", async () => {
    await claim(first);
    await spicedb.authorization.deleteRelationships(CLAIMS);
    await claim(second);
    await expect(claim(first)).rejects.toBeInstanceOf(SpiceDbOwnedElsewhereError);
  });

  it("leaves an unclaimed SpiceDB unclaimed on a dry run", async () => {
    await claim(first, { checkOnly: true });
    expect(await claims()).toEqual([]);
  });

  it("lets at most one of two databases claiming at the same moment through", async () => {
    const outcomes = await Promise.allSettled([claim(first), claim(second)]);
    expect(outcomes.filter((outcome) => outcome.status === "fulfilled").length).toBeLessThanOrEqual(1);
    for (const outcome of outcomes) if (outcome.status === "rejected") expect(outcome.reason).toBeInstanceOf(SpiceDbOwnedElsewhereError);
  });
});

describe.skipIf(!HAS_SPICEDB_SERVER)("a service started against another database's SpiceDB server", () => {
  let spicedb: SpiceDbEngine;
  let identity: TestIdentity;
  const databases: TestDatabase[] = [];
  const servers: TestIamServer[] = [];
  afterAll(async () => {
    for (const server of servers) await server.close();
    for (const database of databases) await database.dispose();
    await identity?.close();
    await spicedb?.close();
  });

  it("stops at start, and the service already serving is unharmed", async () => {
    spicedb = await startTestSpiceDb();
    identity = await startTestIdentity();
    databases.push(await createTestDatabase("pglite"), await createTestDatabase("pglite"));
    servers.push(await startTestIamServer({ database: databases[0]!.handle, spicedb, identity }));
    await expect(startTestIamServer({ database: databases[1]!.handle, spicedb, identity })).rejects.toBeInstanceOf(SpiceDbOwnedElsewhereError);
    expect((await servers[0]!.server.inject("/health/ready")).statusCode).toBe(200);
  });
});
