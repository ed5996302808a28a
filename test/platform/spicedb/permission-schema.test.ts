/**
 * The permission schema's semantics, run against the embedded SpiceDB with relationships written
 * directly through the adapter (the translator from domain events is tested elsewhere).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Relationship, SubjectRef } from "../../../src/shared-kernel/authorization/authorization-port.js";
import type { SpiceDbEngine } from "../../../src/platform/spicedb/spicedb-engine.js";
import { startTestSpiceDb } from "../../support/test-spicedb.js";

const user = (id: string): SubjectRef => ({ type: "user", id });
const rel = (resource: string, relation: string, subject: string): Relationship => {
  const [resourceType = "", resourceId = ""] = resource.split(":");
  const [subjectObject = "", subjectRelation] = subject.split("#");
  const [subjectType = "", subjectId = ""] = subjectObject.split(":");
  return {
    resource: { type: resourceType, id: resourceId },
    relation,
    subject: { type: subjectType, id: subjectId, ...(subjectRelation ? { relation: subjectRelation } : {}) },
  };
};

/**
 * Tenant acme: admin "ada", members "mel", "gus" (in group ops), "gia" (admin of group ops),
 * "wes" (direct workspace editor). Root workspace "root", child workspaces "child" and "other".
 * Group ops is editor of "child". Tenant beta: admin "bea", its own root "broot".
 * API key "k1" owned by "mel" in acme.
 */
const TUPLES: Relationship[] = [
  rel("tenant:acme", "admin", "user:ada"),
  rel("tenant:acme", "member", "user:mel"),
  rel("tenant:acme", "member", "user:gus"),
  rel("tenant:acme", "member", "user:gia"),
  rel("tenant:acme", "member", "user:wes"),
  rel("tenant:acme", "root_workspace", "workspace:root"),
  rel("workspace:root", "tenant", "tenant:acme"),
  rel("workspace:root", "creator_tenant", "tenant:acme"),
  rel("workspace:child", "tenant", "tenant:acme"),
  rel("workspace:child", "parent", "workspace:root"),
  rel("workspace:other", "tenant", "tenant:acme"),
  rel("workspace:other", "parent", "workspace:root"),
  rel("workspace:other", "editor", "user:wes"),
  rel("group:ops", "tenant", "tenant:acme"),
  rel("group:ops", "member_relation", "user:gus"),
  rel("group:ops", "admin", "user:gia"),
  rel("group:idle", "tenant", "tenant:acme"),
  rel("workspace:child", "editor", "group:ops#member"),
  rel("tenant:beta", "admin", "user:bea"),
  rel("workspace:broot", "tenant", "tenant:beta"),
  rel("workspace:broot", "creator_tenant", "tenant:beta"),
  rel("api_key:k1", "owner", "user:mel"),
  rel("api_key:k1", "tenant", "tenant:acme"),
];

describe("permission schema", () => {
  let engine: SpiceDbEngine;
  const can = (subject: string, permission: string, resource: string) => {
    const [type = "", id = ""] = resource.split(":");
    return engine.authorization.check({ resource: { type, id }, permission, subject: user(subject) });
  };

  beforeAll(async () => {
    engine = await startTestSpiceDb();
    await engine.authorization.writeRelationships(TUPLES.map((relationship) => ({ operation: "touch", relationship })));
  });
  afterAll(() => engine?.close());

  describe("tenant", () => {
    it("admins and members view it; only admins manage and administrate it", async () => {
      expect(await can("ada", "view", "tenant:acme")).toBe(true);
      expect(await can("mel", "view", "tenant:acme")).toBe(true);
      expect(await can("bea", "view", "tenant:acme")).toBe(false);
      expect(await can("ada", "manage", "tenant:acme")).toBe(true);
      expect(await can("ada", "administrate", "tenant:acme")).toBe(true);
      expect(await can("mel", "manage", "tenant:acme")).toBe(false);
      expect(await can("mel", "administrate", "tenant:acme")).toBe(false);
      expect(await can("mel", "create_api_key", "tenant:acme")).toBe(true);
      expect(await can("bea", "create_api_key", "tenant:acme")).toBe(false);
    });
  });

  describe("workspaces", () => {
    it("tenant admins view every workspace of their tenant, and none of another tenant", async () => {
      for (const workspace of ["workspace:root", "workspace:child", "workspace:other"]) {
        expect(await can("ada", "view", workspace)).toBe(true);
      }
      const visible = await engine.authorization.lookupResources("workspace", "view", user("ada"));
      expect(visible.sort()).toEqual(["child", "other", "root"]);
      expect(await can("ada", "view", "workspace:broot")).toBe(false);
      expect(await can("bea", "view", "workspace:child")).toBe(false);
    });

    it("tenant admins view but do not edit or manage a workspace they hold no role on", async () => {
      expect(await can("ada", "edit", "workspace:child")).toBe(false);
      expect(await can("ada", "manage", "workspace:child")).toBe(false);
    });

    it("plain tenant members do not view workspaces they hold no role on", async () => {
      expect(await can("mel", "view", "workspace:child")).toBe(false);
      expect(await can("mel", "view", "workspace:root")).toBe(false);
      expect(await engine.authorization.lookupResources("workspace", "view", user("mel"))).toEqual([]);
    });

    it("group members and group admins inherit the group's workspace role", async () => {
      for (const member of ["gus", "gia"]) {
        expect(await can(member, "view", "workspace:child")).toBe(true);
        expect(await can(member, "edit", "workspace:child")).toBe(true);
        expect(await can(member, "manage", "workspace:child")).toBe(false);
        expect(await can(member, "view", "workspace:other")).toBe(false);
      }
      expect(await can("mel", "edit", "workspace:child")).toBe(false);
      const editors = await engine.authorization.lookupSubjects({ type: "workspace", id: "child" }, "edit", "user");
      expect(editors.sort()).toEqual(["gia", "gus"]);
    });

    it("direct roles map to view, edit and manage", async () => {
      expect(await can("wes", "view", "workspace:other")).toBe(true);
      expect(await can("wes", "edit", "workspace:other")).toBe(true);
      expect(await can("wes", "manage", "workspace:other")).toBe(false);
    });

    it("no permission flows from a parent workspace to its children", async () => {
      expect(await can("wes", "view", "workspace:root")).toBe(false);
    });

    it("create_child: every tenant member on the root workspace, on no other workspace without a role", async () => {
      for (const member of ["ada", "mel", "gus", "gia", "wes"]) {
        expect(await can(member, "create_child", "workspace:root")).toBe(true);
      }
      expect(await can("mel", "create_child", "workspace:child")).toBe(false);
      expect(await can("ada", "create_child", "workspace:child")).toBe(false);
      expect(await can("bea", "create_child", "workspace:root")).toBe(false);
      const roots = await engine.authorization.lookupResources("workspace", "create_child", user("mel"));
      expect(roots).toEqual(["root"]);
    });

    it("create_child on other workspaces for their admins and editors (direct or through a group)", async () => {
      expect(await can("wes", "create_child", "workspace:other")).toBe(true);
      expect(await can("gus", "create_child", "workspace:child")).toBe(true);
    });
  });

  describe("groups", () => {
    it("tenant admins view every group of their tenant; only group admins manage it", async () => {
      expect(await can("ada", "view", "group:ops")).toBe(true);
      expect(await can("ada", "view", "group:idle")).toBe(true);
      expect(await can("ada", "manage", "group:ops")).toBe(false);
      expect(await can("bea", "view", "group:ops")).toBe(false);
      expect(await can("gia", "manage", "group:ops")).toBe(true);
      expect(await can("gus", "manage", "group:ops")).toBe(false);
    });

    it("members and admins view the group and count as its members; other tenant members do not", async () => {
      expect(await can("gus", "view", "group:ops")).toBe(true);
      expect(await can("gia", "view", "group:ops")).toBe(true);
      expect(await can("gus", "member", "group:ops")).toBe(true);
      expect(await can("gia", "member", "group:ops")).toBe(true);
      expect(await can("mel", "view", "group:ops")).toBe(false);
      expect(await can("mel", "member", "group:ops")).toBe(false);
    });
  });

  describe("api keys", () => {
    it("the owner and tenant admins view and revoke a key; other members do not", async () => {
      for (const permission of ["view", "revoke"]) {
        expect(await can("mel", permission, "api_key:k1")).toBe(true);
        expect(await can("ada", permission, "api_key:k1")).toBe(true);
        expect(await can("gus", permission, "api_key:k1")).toBe(false);
        expect(await can("bea", permission, "api_key:k1")).toBe(false);
      }
    });
  });

  it("losing a relationship removes the permission at once", async () => {
    const token = await engine.authorization.writeRelationships([
      { operation: "delete", relationship: rel("group:ops", "member_relation", "user:gus") },
    ]);
    expect(token).not.toBeNull();
    expect(await can("gus", "view", "workspace:child")).toBe(false);
    expect(await can("gia", "view", "workspace:child")).toBe(true);
  });
});
