import { describe, expect, it } from "vitest";
import { API_KEY_ALREADY_REVOKED, ApiKey } from "../../../src/iam/domain/api-key.js";
import { ConflictError, InvalidInputError } from "../../../src/iam/domain/errors.js";

const NOW = new Date("2025-01-02T03:04:05.000Z");
const LATER = new Date("2025-01-03T00:00:00.000Z");
const TENANT = "01J00000000000000000000001";
const KEY = "01J00000000000000000000003";

const issued = (name = " nightly ") =>
  ApiKey.issue({ id: KEY, tenantId: TENANT, createdByUserId: "alice", name, keyDigest: "d".repeat(64), prefix: "karto_abcdef", expiresInDays: 30, now: NOW });

describe("ApiKey", () => {
  it("is issued with a normalised name and an expiry, recording ApiKeyCreated", () => {
    const key = issued();
    expect(key.snapshot()).toMatchObject({ name: "nightly", createdAt: NOW, expiresAt: new Date("2025-02-01T03:04:05.000Z"), revokedAt: null });
    expect(key.isNew).toBe(true);
    expect(key.pullEvents()).toEqual([
      { type: "ApiKeyCreated", tenantId: TENANT, occurredAt: NOW, apiKeyId: KEY, userId: "alice", name: "nightly", prefix: "karto_abcdef" },
    ]);
    expect(() => issued("  ")).toThrow(InvalidInputError);
  });

  it("is revoked once: again is a conflict", () => {
    const key = ApiKey.restore({ ...issued().snapshot() });
    expect(key.revocationChanged).toBe(false);
    key.revoke(LATER);
    expect(key.revocationChanged).toBe(true);
    expect(key.revokedAt).toEqual(LATER);
    expect(key.pullEvents()).toEqual([{ type: "ApiKeyRevoked", tenantId: TENANT, occurredAt: LATER, apiKeyId: KEY, userId: "alice" }]);
    expect(() => key.revoke(LATER)).toThrow(new ConflictError(API_KEY_ALREADY_REVOKED));
  });

  it("goes with its creator (a revoked key stays as it is) and with its tenant", () => {
    const revoked = ApiKey.restore({ ...issued().snapshot(), revokedAt: NOW });
    revoked.revokeWithCreator(LATER);
    expect(revoked.revokedAt).toEqual(NOW);
    expect(revoked.pullEvents()).toEqual([]);
    const live = ApiKey.restore(issued().snapshot());
    live.revokeWithCreator(LATER);
    expect(live.pullEvents().map((e) => e.type)).toEqual(["ApiKeyRevoked"]);
    live.markDeletedWithTenant(LATER);
    expect(live.isDeleted).toBe(true);
    expect(live.pullEvents()).toEqual([{ type: "ApiKeyDeleted", tenantId: TENANT, occurredAt: LATER, apiKeyId: KEY, userId: "alice" }]);
  });
});
