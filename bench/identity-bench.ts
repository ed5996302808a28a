/**
 * Identity benchmark: what authentication costs.
 *
 * 1. Throughput of GET /iam/users?ids=... (10 ids) under autocannon, authenticated with a JWT and
 *    with an API key, next to GET /health (no authentication) measured the same way, against the
 *    service in embedded mode (PGlite, in-process SpiceDB, development issuer) in this process.
 * 2. CPU time per request (process.cpuUsage over sequential in-process requests) for the same
 *    three, so the difference is the authentication and tenant-context overhead.
 * 3. The raw cost of one token verification (RS256 and ES256, jose) and of one API-key digest.
 *
 * Figures only; nothing is asserted. `identityBench()` returns them; `scenarios` plugs into
 * bench/run.ts (name "identity").
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { sql } from "drizzle-orm";
import { generateKeyPair, SignJWT } from "jose";
import { createService, type Service } from "../src/app.js";
import { DevelopmentIssuer } from "../src/iam/infrastructure/identity/development-issuer.js";
import { JwtVerifier } from "../src/iam/infrastructure/identity/jwt-verifier.js";
import { LocalKeySet } from "../src/iam/infrastructure/identity/local-key-set.js";
import { Sha256ApiKeySecrets } from "../src/iam/infrastructure/sha256-api-key-secrets.js";
import { loadConfig } from "../src/platform/config/config.js";
import { openDatabase } from "../src/platform/database/open-database.js";
import { createLogger } from "../src/platform/logging/logger.js";
import { newUlid } from "../src/shared-kernel/ids.js";

export interface IdentityBenchFigure {
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline?: { readonly label: string; readonly value: number };
  readonly note?: string;
}

const USERS = 50;
const CONNECTIONS = 20;
const SECONDS = 5;
const CPU_SAMPLES = 2_000;

async function throughput(url: string, headers: Record<string, string>): Promise<{ rps: number; p99: number; failures: number }> {
  await autocannon({ url, headers, connections: CONNECTIONS, duration: 1 });
  const result = await autocannon({ url, headers, connections: CONNECTIONS, duration: SECONDS });
  return { rps: result.requests.average, p99: result.latency.p99, failures: result.non2xx + result.errors };
}

/** Microseconds of CPU (user + system) per sequential in-process request. */
async function cpuPerRequest(service: Service, url: string, headers: Record<string, string>): Promise<number> {
  for (let index = 0; index < 200; index++) await service.server.inject({ method: "GET", url, headers });
  const before = process.cpuUsage();
  for (let index = 0; index < CPU_SAMPLES; index++) {
    const response = await service.server.inject({ method: "GET", url, headers });
    if (response.statusCode !== 200) throw new Error(`${url} answered ${response.statusCode}: ${response.body}`);
  }
  const used = process.cpuUsage(before);
  return (used.user + used.system) / CPU_SAMPLES;
}

/**
 * Microseconds per verification of one token (wall clock, sequential); `remembered` lets the
 * verifier answer repeats of the token from memory, as the service does.
 */
async function verifyCost(alg: "RS256" | "ES256", remembered = false): Promise<number> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const { exportJWK } = await import("jose");
  const jwk = { ...(await exportJWK(publicKey)), kid: "k", alg };
  const verifier = new JwtVerifier({
    issuer: "https://idp.example",
    audience: "api",
    keys: new LocalKeySet({ keys: [jwk] }),
    verifiedCacheSize: remembered ? 10_000 : 0,
  });
  const token = await new SignJWT({ sub: "u", iss: "https://idp.example", aud: "api" })
    .setProtectedHeader({ alg, kid: "k" })
    .setExpirationTime("1h")
    .sign(privateKey);
  for (let index = 0; index < 200; index++) await verifier.verify(token);
  const rounds = 2_000;
  const start = process.hrtime.bigint();
  for (let index = 0; index < rounds; index++) await verifier.verify(token);
  return Number(process.hrtime.bigint() - start) / 1e3 / rounds;
}

function digestCost(): number {
  const secrets = new Sha256ApiKeySecrets();
  const secret = secrets.issue().secret;
  const rounds = 100_000;
  const start = process.hrtime.bigint();
  for (let index = 0; index < rounds; index++) createHash("sha256").update(secret).digest("hex");
  return Number(process.hrtime.bigint() - start) / 1e3 / rounds;
}

export async function identityBench(): Promise<IdentityBenchFigure[]> {
  const dataDir = mkdtempSync(join(tmpdir(), "kiam-bench-identity-"));
  const env = { KARTOGRAPH_DATA_DIR: dataDir, KARTOGRAPH_IAM_SINGLE_TENANT_MODE: "false", LOG_LEVEL: "warn", KARTOGRAPH_OUTBOX_ENABLED: "false" };
  const config = loadConfig(env);
  let service: Service | undefined;
  try {
    // Seed before start: the embedded SpiceDB is loaded from these rows when the service starts.
    const tenantId = newUlid();
    const seed = await openDatabase(config.database, { migrate: true });
    await seed.db.execute(sql`INSERT INTO tenants (id, name) VALUES (${tenantId}, 'bench')`);
    for (let index = 0; index < USERS; index++) {
      const id = `bench-user-${index}`;
      await seed.db.execute(sql`INSERT INTO users (id, username, name, email) VALUES (${id}, ${id}, ${`Bench ${index}`}, ${`${id}@example.com`})`);
      await seed.db.execute(sql`INSERT INTO tenant_members (tenant_id, user_id, role) VALUES (${tenantId}, ${id}, ${index === 0 ? "admin" : "member"})`);
    }
    await seed.close();

    service = await createService(config, createLogger("warn", { pretty: false }), { migrate: true });
    const address = await service.server.listen({ host: "127.0.0.1", port: 0 });
    const issuer = await DevelopmentIssuer.open(dataDir);
    const token = await issuer.sign({
      subject: "bench-user-0",
      username: "bench-user-0",
      name: "Bench 0",
      email: "bench-user-0@example.com",
      audience: config.oidc.audience,
      ttlSeconds: 3600,
    });
    const jwtHeaders = { authorization: `Bearer ${token}`, "x-tenant-id": tenantId };
    const created = await service.server.inject({ method: "POST", url: "/iam/api-keys", headers: jwtHeaders, payload: { name: "bench" } });
    if (created.statusCode !== 201) throw new Error(`creating the bench API key answered ${created.statusCode}: ${created.body}`);
    const keyHeaders = { "x-api-key": created.json<{ secret: string }>().secret };

    const ids = Array.from({ length: 10 }, (_, index) => `bench-user-${index * 3}`).join(",");
    const usersPath = `/iam/users?ids=${ids}`;
    const health = await throughput(`${address}/health`, {});
    const jwt = await throughput(`${address}${usersPath}`, jwtHeaders);
    const apiKey = await throughput(`${address}${usersPath}`, keyHeaders);
    const cpuHealth = await cpuPerRequest(service, "/health", {});
    const cpuJwt = await cpuPerRequest(service, usersPath, jwtHeaders);
    const cpuKey = await cpuPerRequest(service, usersPath, keyHeaders);
    const rs256 = await verifyCost("RS256");
    const es256 = await verifyCost("ES256");
    const repeat = await verifyCost("ES256", true);
    const digest = digestCost();
    const note = `${CONNECTIONS} connections, ${SECONDS} s, in-process, PGlite`;
    const failures = (figures: { failures: number }) => (figures.failures > 0 ? `; ${figures.failures} failures` : "");

    return [
      { metric: "GET /iam/users?ids (10) with JWT", value: jwt.rps, unit: "req/s", baseline: { label: "GET /health", value: health.rps }, note: note + failures(jwt) },
      { metric: "GET /iam/users?ids (10) with API key", value: apiKey.rps, unit: "req/s", baseline: { label: "same with JWT", value: jwt.rps }, note: note + failures(apiKey) },
      { metric: "p99 latency, JWT", value: jwt.p99, unit: "ms", baseline: { label: "GET /health", value: health.p99 } },
      { metric: "p99 latency, API key", value: apiKey.p99, unit: "ms", baseline: { label: "GET /health", value: health.p99 } },
      { metric: "CPU per request, users lookup with JWT (ES256)", value: cpuJwt, unit: "µs", baseline: { label: "GET /health", value: cpuHealth } },
      { metric: "CPU per request, users lookup with API key", value: cpuKey, unit: "µs", baseline: { label: "same with JWT", value: cpuJwt } },
      { metric: "one JWT verification, RS256", value: rs256, unit: "µs", note: "jose, signature checked, key set cached" },
      { metric: "one JWT verification, ES256", value: es256, unit: "µs", baseline: { label: "RS256", value: rs256 } },
      { metric: "repeat of a verified token", value: repeat, unit: "µs", baseline: { label: "ES256 verification", value: es256 } },
      { metric: "one API-key digest (SHA-256)", value: digest, unit: "µs", note: "the reference's bcrypt (cost 12) takes ~100-250 ms" },
    ];
  } finally {
    await service?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export const scenarios = [{ name: "identity", run: identityBench }];
