/**
 * The audit log's client IP through the real composition (createService): the TCP peer unless
 * KARTOGRAPH_TRUST_PROXY says which proxies may name the client in X-Forwarded-For; a forged
 * header from an untrusted peer changes nothing.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createService } from "../../src/app.js";
import { DevelopmentIssuer } from "../../src/iam/infrastructure/identity/development-issuer.js";
import { loadConfig } from "../../src/platform/config/config.js";
import { createLogger } from "../../src/platform/logging/logger.js";
import { createTestDatabase } from "../support/test-database.js";

/** A whole service (database, embedded SpiceDB, migrations) per case: room for a loaded machine. */
const SERVICES_MS = 120_000;

async function recordedIp(trustProxy: string | null, forwardedFor: string, peer: string): Promise<unknown> {
  const dataDir = await mkdtemp(join(tmpdir(), "kiam-audit-ip-"));
  const database = await createTestDatabase("pglite");
  const env: Record<string, string> = { KARTOGRAPH_DATA_DIR: dataDir, LOG_LEVEL: "silent", KARTOGRAPH_IAM_BOOTSTRAP_ADMIN_USERNAMES: "alice" };
  if (trustProxy !== null) env["KARTOGRAPH_TRUST_PROXY"] = trustProxy;
  const service = await createService(loadConfig(env), createLogger("silent", { pretty: false }), { database: database.handle });
  try {
    const issuer = await DevelopmentIssuer.open(dataDir);
    const token = await issuer.sign({ subject: "alice", username: "alice", audience: "kartograph-api", ttlSeconds: 60 });
    const headers = { authorization: `Bearer ${token}`, "x-forwarded-for": forwardedFor };
    const created = await service.server.inject({ method: "POST", url: "/iam/groups", headers, payload: { name: "Audited" }, remoteAddress: peer });
    expect(created.statusCode, created.body).toBe(201);
    const page = await service.server.inject({ method: "GET", url: "/iam/audit-events?action=group.created", headers: { authorization: `Bearer ${token}` } });
    return page.json<{ events: { context: { ip: unknown } }[] }>().events[0]?.context.ip;
  } finally {
    await service.close();
    await database.dispose();
    await rm(dataDir, { recursive: true, force: true });
  }
}

describe("the client IP the audit log records", () => {
  it("is the peer by default, whatever X-Forwarded-For says", async () => {
    expect(await recordedIp(null, "198.51.100.9", "10.0.0.5")).toBe("10.0.0.5");
  }, SERVICES_MS);

  it("is the forwarded client when the peer is a trusted proxy, and the peer when it is not", async () => {
    expect(await recordedIp("10.0.0.0/8", "198.51.100.9", "10.0.0.5")).toBe("198.51.100.9");
    expect(await recordedIp("10.0.0.0/8", "198.51.100.9", "192.0.2.1")).toBe("192.0.2.1");
    expect(await recordedIp("1", "203.0.113.4, 198.51.100.9", "10.0.0.5")).toBe("198.51.100.9");
  }, 3 * SERVICES_MS);
});
