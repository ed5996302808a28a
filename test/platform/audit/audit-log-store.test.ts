/**
 * The audit log's storage rules against both databases: keyset listing and filters, sealing into
 * per-tenant hash chains, `verify` finding each kind of tampering, and retention that deletes a
 * chain's old end only.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { ulid } from "ulidx";
import { queryRows } from "../../../src/platform/database/database.js";
import type { NewAuditEvent } from "../../../src/platform/audit/audit-event.js";
import { AuditSealer } from "../../../src/platform/audit/audit-sealer.js";
import { appendAuditEvents, chainHead, exportAuditEvents, listAuditEvents } from "../../../src/platform/audit/audit-store.js";
import { verifyChain } from "../../../src/platform/audit/audit-verifier.js";
import { HAS_POSTGRES_SERVER, TEST_DATABASE_KINDS, createTestDatabase, type TestDatabase } from "../../support/test-database.js";

const silent = { sealed: () => undefined, purged: () => undefined, failed: (error: unknown) => { throw error; } };

function event(tenantId: string, action: string, overrides: Partial<NewAuditEvent> = {}): NewAuditEvent {
  return {
    id: ulid(),
    tenantId,
    occurredAt: new Date(),
    action,
    actor: { type: "user", id: "alice", username: "alice" },
    target: { type: "workspace", id: "w1", name: "Research" },
    changes: { member: { type: "user", id: "bob" }, role: { before: null, after: "editor" } },
    context: { request_id: "r1", ip: "127.0.0.1", user_agent: "test" },
    ...overrides,
  };
}

describe.each(TEST_DATABASE_KINDS)("audit log store (%s)", (kind) => {
  let database: TestDatabase;
  const db = () => database.handle.db;
  const sealer = () => new AuditSealer(db(), silent, { retentionDays: 0 });

  beforeAll(async () => {
    database = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await database.dispose();
  });

  it("lists a tenant's events newest first, page by page, with filters, and never another tenant's", async () => {
    const tenant = ulid();
    const other = ulid();
    const base = Date.parse("2026-01-01T00:00:00Z");
    const events = Array.from({ length: 7 }, (_, i) =>
      event(tenant, i % 2 === 0 ? "workspace.member_added" : "group.created", {
        occurredAt: new Date(base + i * 60_000),
        actor: { type: "user", id: i < 3 ? "alice" : "bob", username: null },
        target: { type: "workspace", id: `w${i}`, name: null },
      }),
    );
    await appendAuditEvents(db(), events);
    await appendAuditEvents(db(), [event(other, "workspace.member_added")]);

    const first = await listAuditEvents(db(), { tenantId: tenant, limit: 3 });
    expect(first.events.map((e) => e.id)).toEqual([events[6]!.id, events[5]!.id, events[4]!.id]);
    expect(first.more).toBe(true);
    const second = await listAuditEvents(db(), { tenantId: tenant, limit: 3, beforeSequence: first.events[2]!.sequence });
    expect(second.events.map((e) => e.id)).toEqual([events[3]!.id, events[2]!.id, events[1]!.id]);
    const last = await listAuditEvents(db(), { tenantId: tenant, limit: 3, beforeSequence: second.events[2]!.sequence });
    expect(last.events.map((e) => e.id)).toEqual([events[0]!.id]);
    expect(last.more).toBe(false);

    const ids = async (query: Parameters<typeof listAuditEvents>[1]) => (await listAuditEvents(db(), query)).events.map((e) => e.id);
    expect(await ids({ tenantId: tenant, limit: 100, action: "workspace." })).toHaveLength(4);
    expect(await ids({ tenantId: tenant, limit: 100, action: "group.created" })).toHaveLength(3);
    expect(await ids({ tenantId: tenant, limit: 100, action: "group" })).toHaveLength(0);
    expect(await ids({ tenantId: tenant, limit: 100, action: "%." })).toHaveLength(0);
    expect(await ids({ tenantId: tenant, limit: 100, actorId: "alice" })).toHaveLength(3);
    expect(await ids({ tenantId: tenant, limit: 100, targetId: "w5" })).toEqual([events[5]!.id]);
    expect(
      await ids({ tenantId: tenant, limit: 100, since: new Date(base + 2 * 60_000), until: new Date(base + 4 * 60_000) }),
    ).toEqual([events[3]!.id, events[2]!.id]);
  });

  it("exports every tenant's events oldest first in constant-size batches", async () => {
    const tenant = ulid();
    const written = Array.from({ length: 25 }, () => event(tenant, "tenant.member_added"));
    await appendAuditEvents(db(), written);
    const exported: string[] = [];
    for await (const e of exportAuditEvents(db(), { tenantId: tenant }, 4)) exported.push(e.id);
    expect(exported).toEqual(written.map((e) => e.id));
  });

  it("seals tenants into chains of their own that verify, and continues a chain on the next run", async () => {
    const a = ulid();
    const b = ulid();
    await appendAuditEvents(db(), [event(a, "x.one"), event(b, "x.one"), event(a, "x.two")]);
    await sealer().runOnce();
    await appendAuditEvents(db(), [event(a, "x.three")]);
    await sealer().runOnce();
    const reportA = await verifyChain(db(), a);
    expect(reportA).toMatchObject({ verified: 3, firstPosition: 1, lastPosition: 3, break: null });
    expect((await verifyChain(db(), b)).verified).toBe(1);
    const listed = (await listAuditEvents(db(), { tenantId: a, limit: 10 })).events;
    expect(listed.map((e) => [e.action, e.position])).toEqual([["x.three", 3], ["x.two", 2], ["x.one", 1]]);
  });

  describe("verify reports the first break", () => {
    async function sealedChain(length: number): Promise<string> {
      const tenant = ulid();
      await appendAuditEvents(db(), Array.from({ length }, (_, i) => event(tenant, `step.${i}`)));
      await sealer().runOnce();
      return tenant;
    }

    it("an UPDATE of one event's target name", async () => {
      const tenant = await sealedChain(5);
      await queryRows(
        db(),
        sql`UPDATE audit_events SET body = jsonb_set(body, '{target,name}', '"Renamed"') WHERE tenant_id = ${tenant} AND chain_position = 3`,
      );
      expect((await verifyChain(db(), tenant)).break).toMatchObject({ position: 3, problem: "altered" });
    });

    it("a deleted event", async () => {
      const tenant = await sealedChain(5);
      await queryRows(db(), sql`DELETE FROM audit_events WHERE tenant_id = ${tenant} AND chain_position = 2`);
      expect((await verifyChain(db(), tenant)).break).toMatchObject({ position: 2, problem: "missing" });
    });

    it("the newest event deleted", async () => {
      const tenant = await sealedChain(4);
      await queryRows(db(), sql`DELETE FROM audit_events WHERE tenant_id = ${tenant} AND chain_position = 4`);
      expect((await verifyChain(db(), tenant)).break).toMatchObject({ position: 4, problem: "missing" });
    });

    it("two swapped positions", async () => {
      const tenant = await sealedChain(5);
      await queryRows(
        db(),
        sql`UPDATE audit_events SET chain_position = CASE chain_position WHEN 2 THEN -4 ELSE -2 END
            WHERE tenant_id = ${tenant} AND chain_position IN (2, 4)`,
      );
      await queryRows(db(), sql`UPDATE audit_events SET chain_position = -chain_position WHERE tenant_id = ${tenant} AND chain_position < 0`);
      expect((await verifyChain(db(), tenant)).break).toMatchObject({ position: 2, problem: "altered" });
    });

    it("an inserted event", async () => {
      const tenant = await sealedChain(3);
      await queryRows(
        db(),
        sql`INSERT INTO audit_events (id, tenant_id, occurred_at, action, body, chain_position, hash)
            VALUES (${ulid()}, ${tenant}, now(), 'forged', '{}'::jsonb, 4, ${"f".repeat(64)})`,
      );
      expect((await verifyChain(db(), tenant)).break).toMatchObject({ position: 4, problem: "unexpected" });
    });

    it("passes on an untouched chain of 10,000 events", async () => {
      const tenant = ulid();
      for (let i = 0; i < 10; i++) {
        await appendAuditEvents(db(), Array.from({ length: 1_000 }, () => event(tenant, "bulk.created")));
      }
      await sealer().runOnce();
      expect(await verifyChain(db(), tenant)).toMatchObject({ verified: 10_000, lastPosition: 10_000, break: null });
    }, 60_000);
  });

  it("retention deletes the chain's old end only, records the new start, and the rest still verifies", async () => {
    const tenant = ulid();
    const day = 86_400_000;
    const ages = [400, 390, 10, 380, 5]; // days; the one at 380 sits after a recent one in the chain
    await appendAuditEvents(db(), ages.map((age, i) => event(tenant, `aged.${i}`, { occurredAt: new Date(Date.now() - age * day) })));
    const retaining = new AuditSealer(db(), silent, { retentionDays: 365 });
    await retaining.runOnce();
    const left = (await listAuditEvents(db(), { tenantId: tenant, limit: 10 })).events.map((e) => e.action);
    expect(left).toEqual(["aged.4", "aged.3", "aged.2"]);
    expect(await chainHead(db(), tenant)).toMatchObject({ startPosition: 3, lastPosition: 5 });
    expect(await verifyChain(db(), tenant)).toMatchObject({ verified: 3, firstPosition: 3, break: null });
  });

  it.runIf(kind === "postgres" && HAS_POSTGRES_SERVER)("two sealers at once give each event one position", async () => {
    const tenants = [ulid(), ulid(), ulid()];
    for (const tenant of tenants) await appendAuditEvents(db(), Array.from({ length: 500 }, () => event(tenant, "race.x")));
    await Promise.all([sealer().runOnce(), sealer().runOnce(), sealer().runOnce()]);
    // A tenant a sealer found locked is left to the one holding it; a last run picks up any rest.
    await sealer().runOnce();
    for (const tenant of tenants) expect(await verifyChain(db(), tenant)).toMatchObject({ verified: 500, break: null });
  });
});
