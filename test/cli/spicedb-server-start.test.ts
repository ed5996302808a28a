/**
 * The built CLI against real SpiceDB servers (the SpiceDB-server test configuration): TLS with a
 * CA made for the test, and every way a SpiceDB refuses the service at start ending in one line
 * that names the SPICEDB_* variable to fix.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { v1 } from "@authzed/authzed-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { permissionSchema } from "../../src/platform/spicedb/spicedb-engine.js";
import { ensureBuilt, expectOneClearLine, runCli, startCli } from "../support/built-cli.js";
import { createTestCertificates, type TestCertificates } from "../support/test-certificates.js";
import { createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { HAS_SPICEDB_SERVER, startTestSpiceDbServer, type TestSpiceDbServer } from "../support/test-spicedb.js";

describe.skipIf(!HAS_SPICEDB_SERVER)("kartograph-iam serve against a SpiceDB server", () => {
  let workDir: string;
  let dataDir: string;
  let certificates: TestCertificates;
  let database: TestDatabase;
  let tlsServer: TestSpiceDbServer;
  let plainServer: TestSpiceDbServer;

  beforeAll(async () => {
    ensureBuilt();
    workDir = mkdtempSync(join(tmpdir(), "kiam-spicedb-start-"));
    // PostgreSQL holds the data; the directory only the development issuer's key.
    dataDir = join(workDir, "data");
    certificates = createTestCertificates(workDir);
    [database, tlsServer, plainServer] = await Promise.all([
      createTestDatabase("postgres"),
      startTestSpiceDbServer({ tls: { certPath: certificates.serverCertPath, keyPath: certificates.serverKeyPath } }),
      startTestSpiceDbServer(),
    ]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([tlsServer?.stop(), plainServer?.stop(), database?.dispose()]);
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  /** The service's environment towards `server`; TLS is on unless said otherwise (the default). */
  const towards = (server: TestSpiceDbServer, extra: Record<string, string> = {}) => ({
    KARTOGRAPH_DB_URL: database.url ?? "",
    KARTOGRAPH_DATA_DIR: dataDir,
    // The certificate names localhost: an IP address would also make Node warn about SNI.
    SPICEDB_ENDPOINT: server.endpoint.replace("127.0.0.1", "localhost"),
    SPICEDB_PRESHARED_KEY: server.presharedKey,
    ...extra,
  });

  it("over TLS, with the CA in SPICEDB_CERT_PATH, serves and answers permission checks", async () => {
    const cli = startCli(["serve"], towards(tlsServer, { SPICEDB_CERT_PATH: certificates.caPath, PORT: "0", KARTOGRAPH_IAM_BOOTSTRAP_ADMIN_USERNAMES: '["alice"]' }));
    try {
      const ready = JSON.parse(await cli.waitForLine(/kartograph-iam ready/)) as { address: string; spicedb: string };
      expect(ready.spicedb).toBe("remote");
      const tokenOf = async (user: string) => (await runCli(["token", user], { KARTOGRAPH_DATA_DIR: dataDir })).stdout.trim();
      const call = async (user: string, method: string, path: string, body?: unknown) => {
        const response = await fetch(`${ready.address}${path}`, {
          method,
          headers: { authorization: `Bearer ${await tokenOf(user)}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        return { status: response.status, body: (await response.json()) as Record<string, unknown> };
      };

      const listed = await call("alice", "GET", "/iam/workspaces");
      expect(listed.status).toBe(200);
      const [root] = listed.body["workspaces"] as { id: string }[];
      const created = await call("alice", "POST", "/iam/workspaces", { name: "Over TLS", parent_workspace_id: root?.id });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect((await call("alice", "GET", `/iam/workspaces/${String(created.body["id"])}`)).status).toBe(200);
      // And a check that says no: bob is in the tenant, not in the workspace.
      expect((await call("bob", "GET", `/iam/workspaces/${String(created.body["id"])}`)).status).toBe(404);
    } finally {
      cli.child.kill("SIGTERM");
      await cli.exited;
    }
  }, 120_000); // serve and four token commands

  it("refuses a server certificate that the CA in SPICEDB_CERT_PATH did not sign", async () => {
    const run = await runCli(["serve"], towards(tlsServer, { SPICEDB_CERT_PATH: certificates.otherCaPath }));
    expectOneClearLine(run, /SpiceDB at localhost:\d+ \(SPICEDB_ENDPOINT\) presents a certificate not signed by the CA in SPICEDB_CERT_PATH \(.*kiam-other-ca\.pem\) .*; set SPICEDB_CERT_PATH to the CA certificate/);
  });

  it("refuses a server certificate that no trusted CA signed when SPICEDB_CERT_PATH is unset", async () => {
    const run = await runCli(["serve"], towards(tlsServer));
    expectOneClearLine(run, /presents a certificate not signed by any trusted CA .*; set SPICEDB_CERT_PATH/);
  });

  it("refuses a wrong preshared key, naming SPICEDB_PRESHARED_KEY", async () => {
    for (const key of ["not-the-key", ""]) {
      const run = await runCli(["serve"], towards(plainServer, { SPICEDB_USE_TLS: "false", SPICEDB_PRESHARED_KEY: key }));
      expectOneClearLine(run, /SpiceDB at localhost:\d+ \(SPICEDB_ENDPOINT\) refuses SPICEDB_PRESHARED_KEY \(.*preshared key.*\); set it to a key the server was started with/);
    }
  });

  it("names SPICEDB_USE_TLS when TLS meets a plaintext server", async () => {
    const run = await runCli(["serve"], towards(plainServer, { SPICEDB_CERT_PATH: certificates.caPath }));
    expectOneClearLine(run, /does not answer TLS \(.+\); set SPICEDB_USE_TLS=false if it serves plaintext gRPC$/);
  });

  it("refuses a SpiceDB holding relationships of another schema, and leaves them alone", async () => {
    const foreign = await startTestSpiceDbServer();
    const client = v1.NewClient(foreign.presharedKey, foreign.endpoint, v1.ClientSecurity.INSECURE_PLAINTEXT_CREDENTIALS);
    try {
      await client.promises.writeSchema(v1.WriteSchemaRequest.create({ schema: `${permissionSchema()}\ndefinition report {\n  relation reader: user\n}\n` }));
      const reader = v1.Relationship.create({
        resource: v1.ObjectReference.create({ objectType: "report", objectId: "q3" }),
        relation: "reader",
        subject: v1.SubjectReference.create({ object: v1.ObjectReference.create({ objectType: "user", objectId: "carol" }) }),
      });
      await client.promises.writeRelationships(
        v1.WriteRelationshipsRequest.create({ updates: [v1.RelationshipUpdate.create({ operation: v1.RelationshipUpdate_Operation.TOUCH, relationship: reader })] }),
      );

      const run = await runCli(["serve"], towards(foreign, { SPICEDB_USE_TLS: "false" }));
      expectOneClearLine(run, /refuses kartograph-iam's permission schema \(.*report.*\); .*point SPICEDB_ENDPOINT at a SpiceDB whose datastore serves kartograph-iam alone$/);

      const kept = await client.promises.readRelationships(
        v1.ReadRelationshipsRequest.create({
          relationshipFilter: v1.RelationshipFilter.create({ resourceType: "report" }),
          consistency: v1.Consistency.create({ requirement: { oneofKind: "fullyConsistent", fullyConsistent: true } }),
        }),
      );
      expect(kept.map((r) => r.relationship?.subject?.object?.objectId)).toEqual(["carol"]);
    } finally {
      client.close();
      await foreign.stop();
    }
  });
});
