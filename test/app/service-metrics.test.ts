/**
 * What an operator reads on /metrics, through the real composition (createService): the outbox
 * backlog and applies, SpiceDB calls by operation, and the in-process caches. Each figure is read
 * before and after the action that must move it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createService, type Service } from "../../src/app.js";
import { DevelopmentIssuer } from "../../src/iam/infrastructure/identity/development-issuer.js";
import { loadConfig } from "../../src/platform/config/config.js";
import { queryRows } from "../../src/platform/database/database.js";
import { createLogger } from "../../src/platform/logging/logger.js";
import { parsePrometheusText, sampleValue, type Sample } from "../support/prometheus-text.js";
import { TEST_DATABASE_KINDS, createTestDatabase, type TestDatabase } from "../support/test-database.js";

describe.each(TEST_DATABASE_KINDS)("service metrics on %s", (kind) => {
  let database: TestDatabase;
  let dataDir: string;
  let service: Service;
  let token: string;

  const scrape = async (): Promise<Sample[]> => {
    const response = await service.server.inject("/metrics");
    expect(response.statusCode).toBe(200);
    return parsePrometheusText(response.body);
  };
  const call = (method: "GET" | "POST", url: string, payload?: Record<string, unknown>) =>
    service.server.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });
  /** Scrapes until `done` holds (the worker applies in the background), at most a few seconds. */
  const scrapeUntil = async (done: (samples: Sample[]) => boolean): Promise<Sample[]> => {
    for (let attempt = 0; attempt < 100; attempt++) {
      const samples = await scrape();
      if (done(samples)) return samples;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return scrape();
  };

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    dataDir = mkdtempSync(join(tmpdir(), "kiam-metrics-"));
    const config = loadConfig({
      KARTOGRAPH_DATA_DIR: dataDir,
      LOG_LEVEL: "silent",
      KARTOGRAPH_IAM_SINGLE_TENANT_MODE: "false",
      ...(database.url ? { KARTOGRAPH_DB_URL: database.url } : {}),
    });
    service = await createService(config, createLogger("silent", { pretty: false }), {
      database: database.handle,
      outbox: { pollIntervalMs: 100 },
    });
    const issuer = await DevelopmentIssuer.open(dataDir);
    token = await issuer.sign({ subject: "ada", username: "ada", audience: config.oidc.audience, ttlSeconds: 3600 });
  });
  afterAll(async () => {
    await service?.close();
    await database?.dispose();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("counts a write's outbox entries as applied, and the backlog returns to zero", async () => {
    const before = await scrape();
    const created = await call("POST", "/iam/tenants", { name: "acme" });
    expect(created.statusCode).toBe(201);
    const applied = (s: Sample[]) => sampleValue(s, "kartograph_outbox_applied_entries_total");
    const after = await scrapeUntil((s) => sampleValue(s, "kartograph_outbox_pending_entries") === 0 && applied(s) > applied(before));
    expect(applied(after)).toBeGreaterThan(applied(before));
    expect(sampleValue(after, "kartograph_outbox_pending_entries")).toBe(0);
    expect(sampleValue(after, "kartograph_outbox_oldest_pending_age_seconds")).toBe(0);
  });

  it("shows an entry no handler knows as a dead letter and a dead_letter failure", async () => {
    const before = await scrape();
    expect(sampleValue(before, "kartograph_outbox_dead_letters")).toBe(0);
    // An event type no handler registers: the dispatcher gives up on it at once.
    await queryRows(
      database.handle.db,
      sql`INSERT INTO outbox (tenant_id, aggregate_type, aggregate_id, event_type, payload, occurred_at)
          VALUES ('01JZZZZZZZZZZZZZZZZZZZZZZZ', 'test', 'x', 'NoSuchEvent', '{}'::jsonb, now())`,
    );
    const deadLettered = (s: Sample[]) => sampleValue(s, "kartograph_outbox_apply_failures_total", { kind: "dead_letter" });
    // Counters are read as the scrape starts and the backlog query ends later: wait for both.
    const after = await scrapeUntil((s) => sampleValue(s, "kartograph_outbox_dead_letters") === 1 && deadLettered(s) > deadLettered(before));
    expect(sampleValue(after, "kartograph_outbox_dead_letters")).toBe(1);
    expect(deadLettered(after)).toBe(deadLettered(before) + 1);
    expect(sampleValue(after, "kartograph_outbox_pending_entries")).toBe(0);
  });

  it("reports the age of the oldest pending entry while one waits", async () => {
    // Far in the future: the worker leaves it alone, and it is pending, not failed.
    await queryRows(
      database.handle.db,
      sql`INSERT INTO outbox (tenant_id, aggregate_type, aggregate_id, event_type, payload, occurred_at, created_at, next_attempt_at)
          VALUES ('01JZZZZZZZZZZZZZZZZZZZZZZY', 'test', 'y', 'NoSuchEvent', '{}'::jsonb, now(), now() - interval '90 seconds', now() + interval '1 day')`,
    );
    const samples = await scrape();
    expect(sampleValue(samples, "kartograph_outbox_pending_entries")).toBe(1);
    expect(sampleValue(samples, "kartograph_outbox_oldest_pending_age_seconds")).toBeGreaterThanOrEqual(90);
    await queryRows(database.handle.db, sql`DELETE FROM outbox WHERE tenant_id = '01JZZZZZZZZZZZZZZZZZZZZZZY'`);
  });

  it("times the SpiceDB calls a write and reads make, by operation, with no errors", async () => {
    const list = await call("GET", "/iam/tenants");
    expect(list.statusCode).toBe(200);
    const samples = await scrape();
    const count = (operation: string) => sampleValue(samples, "kartograph_spicedb_request_duration_seconds_count", { operation });
    // The tenant created above was written to SpiceDB; listing tenants looks them up.
    expect(count("write_relationships")).toBeGreaterThan(0);
    expect(count("lookup_resources")).toBeGreaterThan(0);
    expect(sampleValue(samples, "kartograph_spicedb_request_duration_seconds_bucket", { operation: "write_relationships", le: "+Inf" })).toBe(
      count("write_relationships"),
    );
    expect(sampleValue(samples, "kartograph_spicedb_errors_total")).toBe(0);
  });

  it("counts audit events written and sealed, and the unsealed backlog returns to zero", async () => {
    const written = (s: Sample[]) => sampleValue(s, "kartograph_audit_events_written_total");
    const sealed = (s: Sample[]) => sampleValue(s, "kartograph_audit_events_sealed_total");
    // The earlier tests' events may still be on their way to the sealer: start from a quiet log.
    const before = await scrapeUntil((s) => sealed(s) === written(s));
    expect(sealed(before)).toBe(written(before));
    expect((await call("POST", "/iam/tenants", { name: "audited" })).statusCode).toBe(201);
    const after = await scrapeUntil((s) => written(s) >= written(before) + 4 && sealed(s) === written(s));
    // tenant.created, tenant.member_added, workspace.created, workspace.member_added
    expect(written(after)).toBe(written(before) + 4);
    expect(sealed(after)).toBe(written(after));
    expect(sampleValue(after, "kartograph_audit_unsealed_events")).toBe(0);
    expect(sampleValue(after, "kartograph_audit_sealing_lag_seconds")).toBe(0);
  });

  it("counts cache hits per cache on a repeated authenticated request", async () => {
    expect((await call("GET", "/iam/tenants")).statusCode).toBe(200);
    const before = await scrape();
    expect((await call("GET", "/iam/tenants")).statusCode).toBe(200);
    const after = await scrape();
    const hits = (samples: Sample[], cache: string) => sampleValue(samples, "kartograph_cache_hits_total", { cache });
    // The same token is verified once; its subject resolved once; the same user's claims are
    // provisioned once; the same lookup is decided once.
    for (const cache of ["verified_tokens", "user_subjects", "provisioned_users", "decisions"]) {
      expect(hits(after, cache), cache).toBeGreaterThan(hits(before, cache));
    }
    const caches = new Set(after.filter((s) => s.name === "kartograph_cache_hits_total").map((s) => s.labels["cache"]));
    expect(caches).toEqual(new Set(["decisions", "verified_tokens", "api_keys", "provisioned_users", "user_subjects", "group_lists"]));
  });
});
