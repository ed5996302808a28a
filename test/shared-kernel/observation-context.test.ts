import { describe, expect, it } from "vitest";
import { ObservationContext } from "../../src/shared-kernel/observation-context.js";

describe("ObservationContext", () => {
  it("emits only the fields that are set, in snake_case", () => {
    expect(ObservationContext.empty.asRecord()).toEqual({});
    expect(ObservationContext.of({ requestId: "r1", userId: null, tenantId: undefined }).asRecord()).toEqual({ request_id: "r1" });
    expect(ObservationContext.of({ requestId: "r1", userId: "u1", tenantId: "t1" }).asRecord()).toEqual({
      request_id: "r1",
      user_id: "u1",
      tenant_id: "t1",
    });
  });

  it("includes extras, which never replace a field that is set", () => {
    const context = ObservationContext.of({ userId: "u1" }, { route: "/iam/tenants", user_id: "spoofed" });
    expect(context.asRecord()).toEqual({ route: "/iam/tenants", user_id: "u1" });
  });

  it("is immutable: with and withExtra return new contexts and leave the original alone", () => {
    const original = ObservationContext.of({ requestId: "r1" }, { a: 1 });
    const more = original.with({ tenantId: "t1" }).withExtra({ b: 2 });
    expect(original.asRecord()).toEqual({ request_id: "r1", a: 1 });
    expect(more.asRecord()).toEqual({ request_id: "r1", tenant_id: "t1", a: 1, b: 2 });
    expect(more.tenantId).toBe("t1");
    expect(original.tenantId).toBeNull();
    expect(Object.isFrozen(original)).toBe(true);
    expect(() => {
      (original as unknown as { fields: unknown }).fields = {};
    }).toThrow(TypeError);
  });

  it("with() can clear a field by setting it to null", () => {
    expect(ObservationContext.of({ userId: "u1", requestId: "r1" }).with({ userId: null }).asRecord()).toEqual({ request_id: "r1" });
  });

  it("mergeInto: the probe's own fields always win; a colliding context value is kept under context.<key>", () => {
    const context = ObservationContext.of({ requestId: "r1", userId: "caller", tenantId: "t1" }, { workspace_id: "w-context" });
    const merged = context.mergeInto({ user_id: "added-member", workspace_id: "w1", role: "admin" });
    expect(merged).toEqual({
      request_id: "r1",
      tenant_id: "t1",
      user_id: "added-member",
      "context.user_id": "caller",
      workspace_id: "w1",
      "context.workspace_id": "w-context",
      role: "admin",
    });
  });

  it("mergeInto does not duplicate a value both sides agree on, and leaves the probe's record untouched", () => {
    const own = { tenant_id: "t1", event: "created" };
    const merged = ObservationContext.of({ tenantId: "t1" }).mergeInto(own);
    expect(merged).toEqual({ tenant_id: "t1", event: "created" });
    expect(own).toEqual({ tenant_id: "t1", event: "created" });
    expect(ObservationContext.empty.mergeInto({ x: 1 })).toEqual({ x: 1 });
  });

  it("mergeInto keeps the probe's explicit null over a context value", () => {
    expect(ObservationContext.of({ userId: "u1" }).mergeInto({ user_id: null })).toEqual({ user_id: null, "context.user_id": "u1" });
  });
});
