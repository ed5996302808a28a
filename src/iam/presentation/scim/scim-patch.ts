/**
 * PATCH (RFC 7644 §3.5.2) for Users and Groups: the operations are applied by scim-patch to the
 * resource as the directory sees it, and the result is read like a PUT body. Operation names
 * ignore case and value-less forms (`{"op": "replace", "value": {"active": false}}`) work, as
 * Entra ID sends them.
 *
 * Paths are checked first: a path into an attribute of the resource's schema that this service
 * does not keep (a user's title or phoneNumbers, an enterprise-extension attribute) is accepted
 * and has no effect, like those attributes in a POST; a path that names no attribute is a 400
 * invalidPath, and one into a read-only attribute (id, meta) a 400 mutability. A replace with
 * null clears (see `cleared`); whatever else the library cannot apply is a 400 naming the operation.
 */
import { scimPatch, ScimError, type ScimPatchOperation } from "scim-patch";
import { ScimRequestError, invalidValue } from "./scim-error.js";
import { GROUP_SCHEMA, PATCH_OP_SCHEMA, USER_SCHEMA } from "./scim-schemas.js";

/** Enough for any directory's update of one resource; a body with more is refused whole. */
export const MAX_PATCH_OPERATIONS = 10_000;

export interface PatchableSchema {
  readonly urn: string;
  /** The schema's attributes, lower-cased: the ones kept and the ones ignored. */
  readonly attributes: ReadonlySet<string>;
  /** Attributes, lower-cased, that a null cannot clear (see {@link cleared}). */
  readonly notClearable: ReadonlySet<string>;
}

const lowered = (names: readonly string[]) => new Set(names.map((name) => name.toLowerCase()));

/** RFC 7643 §4.1's User attributes. */
export const USER_PATCH_SCHEMA: PatchableSchema = {
  urn: USER_SCHEMA,
  attributes: lowered([
    "externalId", "userName", "name", "displayName", "emails", "active", "nickName", "profileUrl", "title",
    "userType", "preferredLanguage", "locale", "timezone", "password", "phoneNumbers", "ims", "photos",
    "addresses", "groups", "entitlements", "roles", "x509Certificates",
  ]),
  notClearable: lowered(["active"]),
};

/** RFC 7643 §4.2's Group attributes. */
export const GROUP_PATCH_SCHEMA: PatchableSchema = { urn: GROUP_SCHEMA, attributes: lowered(["externalId", "displayName", "members"]), notClearable: new Set() };

const READ_ONLY = new Set(["id", "meta", "schemas"]);

const invalidPath = (detail: string) => new ScimRequestError(400, detail, "invalidPath");

/**
 * Whether the library would follow the path (or a value's key, which it reads as a path) into an
 * object's prototype: `name.__proto__.x` or `name.constructor.prototype.x` would set `x` on every
 * object of the process. No SCIM attribute has such a name; filters in brackets are only read.
 */
function reachesPrototype(path: string): boolean {
  return path
    .replace(/\[[^\]]*\]/g, "")
    .split(/[.:]/)
    .some((segment) => segment === "prototype" || segment in Object.prototype);
}

/** The lower-cased attribute the path starts at; null for an extension's attribute (not kept). */
function rootOf(path: string, schema: PatchableSchema): string | null {
  let rest = path.trim();
  const urn = schema.urn.toLowerCase();
  if (rest.toLowerCase().startsWith(`${urn}:`)) rest = rest.slice(urn.length + 1);
  else if (rest.toLowerCase().startsWith("urn:")) return null;
  return (/^[A-Za-z][\w$-]*/.exec(rest)?.[0] ?? "").toLowerCase();
}

function checkPath(path: string, schema: PatchableSchema): void {
  if (reachesPrototype(path)) throw invalidPath(`"${path}" is not an attribute of this resource`);
  const root = rootOf(path, schema);
  if (root === null) return;
  if (READ_ONLY.has(root)) throw new ScimRequestError(400, `"${path}" is read-only`, "mutability");
  if (!schema.attributes.has(root)) throw invalidPath(`"${path}" is not an attribute of this resource`);
}

/** An object value's keys are paths to the library: none may lead into a prototype, nor clear what cannot be. */
function checkValueKeys(value: unknown, schema: PatchableSchema, index: number): void {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return;
  for (const [key, inner] of Object.entries(value)) {
    if (reachesPrototype(key)) throw invalidPath(`Operations[${index}].value: "${key}" is not an attribute of this resource`);
    if (inner === null && schema.notClearable.has(rootOf(key, schema) ?? "")) throw cannotClear(key, index);
  }
}

const cannotClear = (path: string, index: number) =>
  invalidValue(`Operations[${index}]: "${path}" cannot be cleared with null; give it a value (active: true or false)`);

/**
 * A replace with a null value clears the attribute: RFC 7643 §2.5 makes null and an unassigned
 * attribute the same state, and directories (Entra ID) send `{"op": "replace", "path": "name",
 * "value": null}` to clear one. So it is the remove of that path: `name`, `emails`, a filtered
 * `emails[type eq "work"]` or `members` are emptied, and a required attribute (userName, a group's
 * displayName) is refused as missing. `active` is not cleared: unassigned it would read as its
 * default, true, and a null meant to suspend a user would activate them. An add of null adds
 * nothing the RFC defines (§3.5.2.1: the value "to be added"), so it is refused rather than guessed at.
 */
function cleared(name: string, path: string, index: number, schema: PatchableSchema): ScimPatchOperation {
  if (name === "add") throw invalidValue(`Operations[${index}]: add needs a value; to clear "${path}", use remove, or replace with null`);
  if (schema.notClearable.has(rootOf(path, schema) ?? "")) throw cannotClear(path, index);
  return { op: "remove", path };
}

function operationsOf(body: unknown, schema: PatchableSchema): ScimPatchOperation[] {
  if (typeof body !== "object" || body === null) throw invalidValue("The body must be a SCIM PatchOp object");
  const { schemas, Operations: operations } = body as { schemas?: unknown; Operations?: unknown };
  if (!Array.isArray(schemas) || !schemas.includes(PATCH_OP_SCHEMA)) throw invalidValue(`schemas must be ["${PATCH_OP_SCHEMA}"]`);
  if (!Array.isArray(operations) || operations.length === 0) throw invalidValue("Operations must be a non-empty array");
  if (operations.length > MAX_PATCH_OPERATIONS) {
    throw new ScimRequestError(413, `At most ${MAX_PATCH_OPERATIONS} operations per request`, "tooMany");
  }
  return operations.map((operation: unknown, index) => {
    if (typeof operation !== "object" || operation === null) throw invalidValue(`Operations[${index}] must be an object`);
    const { op, path, value } = operation as { op?: unknown; path?: unknown; value?: unknown };
    const name = typeof op === "string" ? op.toLowerCase() : "";
    if (name !== "add" && name !== "replace" && name !== "remove") {
      throw invalidValue(`Operations[${index}].op must be "add", "replace" or "remove"`);
    }
    if (path !== undefined && typeof path !== "string") throw invalidPath(`Operations[${index}].path must be a string`);
    if (path !== undefined) checkPath(path, schema);
    if (name === "remove") {
      if (path === undefined) throw new ScimRequestError(400, `Operations[${index}]: remove needs a path`, "noTarget");
      return { op: "remove", path, ...(value === undefined ? {} : { value }) };
    }
    if (path === undefined && (typeof value !== "object" || value === null || Array.isArray(value))) {
      throw invalidValue(`Operations[${index}]: without a path, value must be an object of attributes`);
    }
    if (path !== undefined && value === null) return cleared(name, path, index, schema);
    checkValueKeys(value, schema, index);
    return { op: name, ...(path === undefined ? {} : { path }), value };
  });
}

/** A resource as this service shows it: its meta carries ISO-8601 strings. */
interface ShownResource {
  readonly schemas: string[];
  readonly meta: { readonly created: string; readonly lastModified: string } & Record<string, unknown>;
}

/** The resource with the PATCH body applied; throws a SCIM error for a body that cannot apply. */
export function patched(resource: ShownResource, body: unknown, schema: PatchableSchema): unknown {
  const operations = operationsOf(body, schema);
  const { meta, ...rest } = resource;
  const start = { ...rest, meta: { ...meta, created: new Date(meta.created), lastModified: new Date(meta.lastModified) } };
  // One operation at a time, so that a failure can name the operation.
  return operations.reduce((current, operation, index) => {
    try {
      return scimPatch(current, [operation]);
    } catch (error) {
      if (error instanceof ScimError) {
        const scimType = error.scimCode === "noTarget" ? "noTarget" : error.scimCode === "invalidPath" ? "invalidPath" : "invalidValue";
        throw new ScimRequestError(400, error.message, scimType);
      }
      // The library follows a path through whatever it finds, and fails with a TypeError where the
      // resource has no room for it (`emails[type eq "work"].value.x` goes into a string): the
      // operation does not fit the resource, which is the client's 400, never a 500.
      if (operation.path === undefined) throw invalidValue(`Operations[${index}]: the value does not fit the resource`);
      throw invalidPath(`Operations[${index}]: "${operation.path}" does not lead to an attribute that can take this value`);
    }
  }, start);
}
