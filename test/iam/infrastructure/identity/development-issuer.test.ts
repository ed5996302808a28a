import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createService, type Service } from "../../../../src/app.js";
import { DEVELOPMENT_ISSUER, DevelopmentIssuer } from "../../../../src/iam/infrastructure/identity/development-issuer.js";
import { JwtVerifier } from "../../../../src/iam/infrastructure/identity/jwt-verifier.js";
import { loadConfig } from "../../../../src/platform/config/config.js";
import { createLogger } from "../../../../src/platform/logging/logger.js";
import { seedTenant, seedTenantMember } from "../../../support/seed-tenants.js";
import { createTestDatabase, type TestDatabase } from "../../../support/test-database.js";

const run = promisify(execFile);
const cli = (args: string[], env: Record<string, string>) =>
  run(process.execPath, ["--import", "tsx", "src/cli.ts", ...args], { env: { ...process.env, ...env, NODE_ENV: env["NODE_ENV"] ?? "test" } });

describe("development issuer", () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "kiam-dev-issuer-"));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("creates one private key, readable by the owner only, even when opened concurrently", async () => {
    const issuers = await Promise.all(Array.from({ length: 5 }, () => DevelopmentIssuer.open(dataDir)));
    expect(new Set(issuers.map((issuer) => issuer.publicJwk.kid)).size).toBe(1);
    expect(await readdir(join(dataDir, "dev-issuer"))).toEqual(["signing-key.json"]);
    expect((await stat(join(dataDir, "dev-issuer", "signing-key.json"))).mode & 0o077).toBe(0);
    expect(issuers[0]!.publicJwk).not.toHaveProperty("d");
  });

  it("signs tokens that a verifier trusting its key accepts, and a different key set refuses", async () => {
    const issuer = await DevelopmentIssuer.open(dataDir);
    const token = await issuer.sign({ subject: "alice", username: "alice", email: "a@example.com", audience: "kartograph-api", ttlSeconds: 60 });
    const verifier = new JwtVerifier({ issuer: DEVELOPMENT_ISSUER, audience: "kartograph-api", keys: issuer.keySet() });
    expect(await verifier.verify(token)).toMatchObject({ sub: "alice", preferred_username: "alice", email: "a@example.com", email_verified: true });
    const without = await issuer.sign({ subject: "bob", username: "bob", audience: "kartograph-api", ttlSeconds: 60 });
    expect(await verifier.verify(without)).not.toHaveProperty("email_verified");

    const otherDir = await mkdtemp(join(tmpdir(), "kiam-dev-issuer-other-"));
    try {
      const other = await DevelopmentIssuer.open(otherDir);
      const stranger = new JwtVerifier({ issuer: DEVELOPMENT_ISSUER, audience: "kartograph-api", keys: other.keySet() });
      await expect(stranger.verify(token)).rejects.toThrow(/^Invalid token/);
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it("`kartograph-iam token` prints a token the service accepts", async () => {
    const { stdout } = await cli(["token", "alice", "--name", "Alice", "--email", "alice@example.com", "--ttl", "10m"], {
      KARTOGRAPH_DATA_DIR: dataDir,
    });
    const token = stdout.trim();
    expect(token.split(".")).toHaveLength(3);

    let database: TestDatabase | undefined;
    let service: Service | undefined;
    try {
      database = await createTestDatabase("pglite");
      const config = loadConfig({ KARTOGRAPH_DATA_DIR: dataDir, KARTOGRAPH_IAM_SINGLE_TENANT_MODE: "false", LOG_LEVEL: "silent" });
      service = await createService(config, createLogger("silent", { pretty: false }), { database: database.handle });
      const tenant = await seedTenant(database.handle, "acme");
      await database.handle.db.execute(sql`INSERT INTO users (id, username) VALUES ('alice', 'alice')`);
      await seedTenantMember(database.handle, service.spicedb.authorization, tenant, "alice", "member");
      // --email vouches for the address: an invitation to it binds at this first call.
      const inviting = await seedTenant(database.handle, "inviting");
      await database.handle.db.execute(sql`INSERT INTO tenant_invitations (tenant_id, email, role) VALUES (${inviting}, 'alice@example.com', 'member')`);
      const response = await service.server.inject({
        method: "GET",
        url: "/iam/users?ids=alice",
        headers: { authorization: `Bearer ${token}`, "x-tenant-id": tenant },
      });
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json()).toEqual({
        users: [{ id: "alice", username: "alice", name: "Alice", email: "alice@example.com" }],
        count: 1,
      });
      const tenants = await service.server.inject({ method: "GET", url: "/iam/tenants", headers: { authorization: `Bearer ${token}` } });
      expect(tenants.json<{ id: string }[]>().map((t) => t.id).sort()).toEqual([tenant, inviting].sort());
    } finally {
      await service?.close();
      await database?.dispose();
    }
  });

  it("after the development key changed, a 401 says to get a new token; other refusals keep their words", async () => {
    const otherDir = await mkdtemp(join(tmpdir(), "kiam-dev-issuer-old-"));
    let database: TestDatabase | undefined;
    let service: Service | undefined;
    try {
      // A token from an earlier data directory: the one a user holds after `rm -rf ./data`.
      const old = await DevelopmentIssuer.open(otherDir);
      const stale = await old.sign({ subject: "alice", username: "alice", audience: "kartograph-api", ttlSeconds: 60 });
      database = await createTestDatabase("pglite");
      const config = loadConfig({ KARTOGRAPH_DATA_DIR: dataDir, LOG_LEVEL: "silent" });
      service = await createService(config, createLogger("silent", { pretty: false }), { database: database.handle });
      const call = (token: string) => service!.server.inject({ method: "GET", url: "/iam/tenants", headers: { authorization: `Bearer ${token}` } });
      const refused = await call(stale);
      expect(refused.statusCode).toBe(401);
      const detail = refused.json<{ detail: string }>().detail;
      expect(detail).toMatch(
        /^Invalid token: no key in the identity provider's key set matches the token\. This server's development signing key \(the dev-issuer folder of its KARTOGRAPH_DATA_DIR\) .*re-created with the data directory\. Get a new token with the same KARTOGRAPH_DATA_DIR: npm run -s iam -- token <username>$/,
      );
      // Any client reads it: the server's filesystem stays out of it.
      expect(detail).not.toContain(dataDir);
      const current = await DevelopmentIssuer.open(dataDir);
      const wrongAudience = await current.sign({ subject: "alice", username: "alice", audience: "someone-else", ttlSeconds: 60 });
      expect((await call(wrongAudience)).json()).toEqual({ detail: "Invalid audience claim" });
    } finally {
      await service?.close();
      await database?.dispose();
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it("`kartograph-iam token` refuses bad usage, an external issuer, and production", async () => {
    const failure = (args: string[], env: Record<string, string> = {}) =>
      cli(args, { KARTOGRAPH_DATA_DIR: dataDir, ...env }).then(
        () => "succeeded",
        (error: { stderr: string }) => error.stderr,
      );
    expect(await failure(["token"])).toMatch(/give exactly one username/);
    expect(await failure(["token", "alice", "--ttl", "forever"])).toMatch(/--ttl must be a duration/);
    expect(await failure(["token", "alice"], { KARTOGRAPH_OIDC_ISSUER_URL: "https://idp.example.com/realms/x" })).toMatch(
      /KARTOGRAPH_OIDC_ISSUER_URL is set/,
    );
    expect(await failure(["token", "alice"], { NODE_ENV: "production" })).toMatch(/KARTOGRAPH_OIDC_ISSUER_URL must be set when NODE_ENV=production/);
  });
});
