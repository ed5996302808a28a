/**
 * Generated requests for one OpenAPI operation: who calls, with which tenant header, which path
 * and query values and which body. Values that should name a real resource are drawn from pools
 * the test keeps up to date (`{ $pool, pick }`, resolved when the request is sent), so that
 * generated requests reach the services and the database, not only the validator.
 *
 * A case that breaks the published schema, or carries text no database can store, or a
 * malformed id, records why in `refusal`: such a request must never be answered 2xx.
 */
import fc from "fast-check";
import {
  isNullable,
  literalsOf,
  stringSchemaOf,
  typesOf,
  type JsonSchema,
  type Operation,
  type Parameter,
} from "./openapi-operations.js";
import { textAtEdges, textOverLimit, unstorableText } from "./text-at-edges.js";

export type PoolName =
  | "tenant"
  | "deletableTenant"
  | "workspace"
  | "deletableWorkspace"
  | "group"
  | "deletableGroup"
  | "apiKey"
  | "user"
  /** Users a tenant may lose: removing one takes every role they hold in the tenant. */
  | "removableUser"
  | "member"
  | "email";

/** A value taken from a pool when the request is sent: `pool[pick % pool.length]`. */
export interface FromPool {
  readonly $pool: PoolName;
  readonly pick: number;
  /** Emails: surrounding spaces and upper case, which the service normalises away. */
  readonly pad?: string;
  readonly upper?: boolean;
}

/**
 * A path or query value: text (percent-encoded when sent), pool values joined by commas, or
 * bytes already encoded.
 */
export type UrlValue = { readonly text: string | FromPool } | { readonly list: readonly FromPool[] } | { readonly encoded: string };

export type Body =
  | { readonly kind: "none" }
  | { readonly kind: "json"; readonly value: unknown }
  | { readonly kind: "raw"; readonly text: string; readonly contentType: string };

export type CallerName = "admin" | "member" | "apiKey" | "outsider" | "stranger";
export type TenantHeader = "usual" | "none" | "malformed" | "unknown";

export interface RequestCase {
  readonly caller: CallerName;
  readonly tenantHeader: TenantHeader;
  readonly path: Readonly<Record<string, UrlValue>>;
  readonly query: readonly (readonly [string, UrlValue])[];
  readonly body: Body;
  /** Why this request must be refused (4xx), or null when any answer but a 5xx is fine. */
  readonly refusal: string | null;
}

const ULID_FIELDS = new Set(["tenant_id", "workspace_id", "group_id", "api_key_id", "parent_workspace_id"]);
const POOL_OF_FIELD: Record<string, PoolName> = {
  tenant_id: "tenant",
  workspace_id: "workspace",
  group_id: "group",
  api_key_id: "apiKey",
  parent_workspace_id: "workspace",
  user_id: "user",
  member_id: "member",
  email: "email",
};
const DELETABLE: Partial<Record<PoolName, PoolName>> = {
  tenant: "deletableTenant",
  workspace: "deletableWorkspace",
  group: "deletableGroup",
};

const fromPool = (pool: PoolName): fc.Arbitrary<FromPool> => fc.nat().map((pick) => ({ $pool: pool, pick }));

// ---------------------------------------------------------------------------------------------
// Path and query values

const MALFORMED_ULIDS = [
  "",
  " ",
  "not-a-ulid",
  "0".repeat(27),
  "01ARZ3NDEKTSV4RRFFQ69G5FAU", // U is not Crockford base32
  "81ARZ3NDEKTSV4RRFFQ69G5FAV", // first character above 7
  "01ARZ3NDEKTSV4RRFFQ69G5FA",
  " 01ARZ3NDEKTSV4RRFFQ69G5FAV",
  "Ö".repeat(26),
  "😀".repeat(26),
  "null",
  "..",
  "0",
];
/** Percent-encodings that do not decode, or decode to what no column stores. */
const BROKEN_ENCODINGS = ["%00", "abc%00", "%ED%A0%80", "%FF", "%", "%E0%A4%A", "%C0%AF", "%F4%90%80%80"];

const encoded = (value: string): UrlValue => ({ encoded: value });
const text = (value: string | FromPool): UrlValue => ({ text: value });

function ulidValue(pool: PoolName): fc.Arbitrary<{ value: UrlValue; refusal: string | null }> {
  return fc.oneof(
    { weight: 10, arbitrary: fromPool(pool).map((p) => ({ value: text(p), refusal: null })) },
    { weight: 1, arbitrary: fc.ulid().map((id) => ({ value: text(id.toLowerCase()), refusal: null })) },
    { weight: 1, arbitrary: fc.ulid().map((id) => ({ value: text(id), refusal: null })) },
    { weight: 2, arbitrary: fc.constantFrom(...MALFORMED_ULIDS).map((id) => ({ value: text(id), refusal: "malformed ULID" })) },
    { weight: 1, arbitrary: textAtEdges(1, 40).filter((t) => t.length !== 26).map((t) => ({ value: text(t), refusal: "malformed ULID" })) },
    { weight: 1, arbitrary: textOverLimit(26).map((t) => ({ value: text(t), refusal: "over-long ULID" })) },
    { weight: 1, arbitrary: fc.constantFrom(...BROKEN_ENCODINGS).map((e) => ({ value: encoded(e), refusal: "broken encoding" })) },
  );
}

function userIdValue(pool: PoolName, max: number): fc.Arbitrary<{ value: UrlValue; refusal: string | null }> {
  return fc.oneof(
    { weight: 10, arbitrary: fromPool(pool).map((p) => ({ value: text(p), refusal: null })) },
    { weight: 3, arbitrary: textAtEdges(1, max).map((t) => ({ value: text(t), refusal: null })) },
    { weight: 1, arbitrary: fc.constantFrom("", " ", "\t", " \u3000 ").map((t) => ({ value: text(t), refusal: "blank user id" })) },
    { weight: 1, arbitrary: textOverLimit(max).map((t) => ({ value: text(t), refusal: `user id over ${max} characters` })) },
    { weight: 1, arbitrary: fc.constantFrom(...BROKEN_ENCODINGS).map((e) => ({ value: encoded(e), refusal: "broken encoding" })) },
  );
}

function pathValue(operation: Operation, parameter: Parameter): fc.Arbitrary<{ value: UrlValue; refusal: string | null }> {
  const name = parameter.name;
  let pool = POOL_OF_FIELD[name] ?? "user";
  const last = operation.path.endsWith(`{${name}}`);
  if (operation.method === "DELETE" && last) pool = DELETABLE[pool] ?? pool;
  if (operation.method === "DELETE" && operation.path.startsWith("/iam/tenants/") && name === "user_id") pool = "removableUser";
  if (ULID_FIELDS.has(name)) return ulidValue(pool);
  return userIdValue(pool, parameter.schema.maxLength ?? 255);
}

function queryValues(parameter: Parameter): fc.Arbitrary<{ values: UrlValue[]; refusal: string | null }> {
  const { name, schema, required } = parameter;
  const literals = literalsOf(schema);
  const absent = fc.constant({ values: [] as UrlValue[], refusal: required ? `missing query ${name}` : null });
  const one = (arbitrary: fc.Arbitrary<{ value: UrlValue; refusal: string | null }>) =>
    arbitrary.map(({ value, refusal }) => ({ values: [value], refusal }));
  if (literals !== null) {
    const valid = fc.constantFrom(...literals.map(String)).map((v) => ({ value: text(v), refusal: null }));
    const wrong = fc
      .constantFrom("", "USER", "admin", " user", "user ", "grup", "x".repeat(300))
      .map((v) => ({ value: text(v), refusal: `${name} not one of its values` }));
    return fc.oneof(
      { weight: 6, arbitrary: one(valid) },
      { weight: 1, arbitrary: absent },
      { weight: 2, arbitrary: one(wrong) },
      { weight: 1, arbitrary: fc.tuple(valid, valid).map(([a, b]) => ({ values: [a.value, b.value], refusal: `${name} repeated` })) },
    );
  }
  const declared = stringSchemaOf(schema)?.maxLength;
  // Without a declared maximum, past the longest value any column holds.
  const max = declared ?? 255;
  if (name === "ids") {
    const picks = fc.array(fromPool("user"), { minLength: 1, maxLength: 6 });
    const many = fc.integer({ min: 101, max: 150 }).map((count) => Array.from({ length: count }, (_, i) => `u${i}`).join(","));
    return fc.oneof(
      { weight: 3, arbitrary: absent },
      { weight: 4, arbitrary: picks.map((list) => ({ values: [{ list }], refusal: null })) },
      { weight: 2, arbitrary: fc.array(textAtEdges(0, 300), { minLength: 1, maxLength: 4 }).map((ids) => ({ values: [text(ids.join(","))], refusal: null })) },
      { weight: 1, arbitrary: many.map((ids) => ({ values: [text(ids)], refusal: "more than 100 ids" })) },
    );
  }
  const pool = POOL_OF_FIELD[name];
  return fc.oneof(
    { weight: 3, arbitrary: absent },
    ...(pool ? [{ weight: 3, arbitrary: one(fromPool(pool).map((p) => ({ value: text(p), refusal: null }))) }] : []),
    { weight: 3, arbitrary: one(textAtEdges(1, Math.min(max, 300)).map((t) => ({ value: text(t), refusal: null }))) },
    { weight: 1, arbitrary: one(textOverLimit(max).map((t) => ({ value: text(t), refusal: declared === undefined ? null : `${name} too long` }))) },
    { weight: 1, arbitrary: one(fc.constantFrom(...BROKEN_ENCODINGS).map((e) => ({ value: encoded(e), refusal: null }))) },
  );
}

// ---------------------------------------------------------------------------------------------
// Bodies

function validValue(schema: JsonSchema, field: string | null): fc.Arbitrary<unknown> {
  const literals = literalsOf(schema);
  if (literals !== null) return fc.constantFrom(...literals);
  const types = typesOf(schema);
  const nullable = isNullable(schema);
  const strings = stringSchemaOf(schema);
  let arbitrary: fc.Arbitrary<unknown>;
  if (strings !== null) {
    const min = strings.minLength ?? 0;
    const pool = field === null ? undefined : POOL_OF_FIELD[field];
    // Without a declared maximum anything goes, including what no column holds.
    const plain =
      strings.maxLength === undefined ? fc.oneof(textAtEdges(min, 300), textOverLimit(255)) : textAtEdges(min, strings.maxLength);
    if (pool === "email") {
      const dressed = fc
        .tuple(fromPool("email"), fc.constantFrom("", " ", "  "), fc.boolean())
        .map(([p, pad, upper]): FromPool => ({ ...p, pad, upper }));
      arbitrary = fc.oneof({ weight: 5, arbitrary: dressed }, { weight: 4, arbitrary: plain }, { weight: 1, arbitrary: fc.constant("") });
    } else if (field !== null && ULID_FIELDS.has(field)) {
      arbitrary = fc.oneof({ weight: 7, arbitrary: fromPool(pool ?? "workspace") }, { weight: 2, arbitrary: fc.ulid() }, { weight: 1, arbitrary: plain });
    } else if (pool !== undefined) {
      arbitrary = fc.oneof({ weight: 1, arbitrary: fromPool(pool) }, { weight: 1, arbitrary: plain });
    } else {
      arbitrary = plain;
    }
  } else if (types.includes("integer") || types.includes("number")) {
    const min = schema.minimum ?? -1_000;
    const max = schema.maximum ?? 1_000;
    arbitrary = fc.oneof(fc.constant(min), fc.constant(max), fc.integer({ min, max }));
  } else if (types.includes("boolean")) {
    arbitrary = fc.boolean();
  } else if (types.includes("object")) {
    arbitrary = validObject(schema);
  } else {
    arbitrary = fc.constant(null);
  }
  return nullable ? fc.oneof({ weight: 4, arbitrary }, { weight: 1, arbitrary: fc.constant(null) }) : arbitrary;
}

function validObject(schema: JsonSchema): fc.Arbitrary<Record<string, unknown>> {
  const required = new Set(schema.required ?? []);
  const entries = Object.entries(schema.properties ?? {}).map(([name, property]) => {
    const value = validValue(property, name);
    const entry = required.has(name)
      ? value.map((v) => [[name, v]] as [string, unknown][])
      : fc.oneof(
          { weight: 1, arbitrary: value.map((v) => [[name, v]] as [string, unknown][]) },
          { weight: 1, arbitrary: fc.constant([] as [string, unknown][]) },
        );
    return entry;
  });
  return fc.tuple(...entries).map((parts) => Object.fromEntries(parts.flat()));
}

/**
 * JSON text spliced into a body as it is, for values too deep to build and serialise as objects
 * (JSON.stringify recurses).
 */
export interface RawJson {
  readonly $raw: string;
}

function nested(depth: number, asObject: boolean): RawJson {
  return { $raw: asObject ? `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}` : `${"[".repeat(depth)}1${"]".repeat(depth)}` };
}

/** One way of breaking the field `name` of a valid body. */
function fieldViolation(name: string, schema: JsonSchema, nullable: boolean): fc.Arbitrary<{ value: unknown; refusal: string }> {
  const ways: fc.Arbitrary<{ value: unknown; refusal: string }>[] = [];
  const types = typesOf(schema);
  const literals = literalsOf(schema);
  const strings = stringSchemaOf(schema);
  if (!nullable) ways.push(fc.constant({ value: null, refusal: `${name} null` }));
  const wrongTypes: unknown[] = [];
  if (!types.includes("string") && literals === null) wrongTypes.push("5", "text");
  if (literals !== null) wrongTypes.push(5, true, ["admin"]);
  if (strings !== null) wrongTypes.push(5, 0, -1.5, true, false, ["x"], { x: 1 }, []);
  if (types.includes("integer")) wrongTypes.push(1.5, true, [], {}, "30");
  if (wrongTypes.length > 0) ways.push(fc.constantFrom(...wrongTypes).map((value) => ({ value, refusal: `${name} of the wrong type` })));
  if (literals !== null) {
    ways.push(
      fc
        .constantFrom("", "ADMIN", "owner", " admin", "admin ", "Member", "x".repeat(10_000), "adm\u0000in")
        .map((value) => ({ value, refusal: `${name} not one of its values` })),
    );
  }
  if (strings !== null) {
    if (strings.maxLength !== undefined) ways.push(textOverLimit(strings.maxLength).map((value) => ({ value, refusal: `${name} too long` })));
    if ((strings.minLength ?? 0) >= 1) ways.push(fc.constant({ value: "", refusal: `${name} too short` }));
    ways.push(unstorableText.map((value) => ({ value, refusal: `${name} holds text no database can store` })));
  }
  if (types.includes("integer") || types.includes("number")) {
    const below = (schema.minimum ?? 0) - 1;
    const above = (schema.maximum ?? 0) + 1;
    ways.push(
      fc
        .constantFrom(below, above, 1e308, -1e308, 2 ** 53 + 2, -(2 ** 31) - 1, 2 ** 31)
        .filter((v) => v < (schema.minimum ?? -Infinity) || v > (schema.maximum ?? Infinity))
        .map((value) => ({ value, refusal: `${name} out of range` })),
    );
  }
  ways.push(
    fc
      .tuple(fc.constantFrom(50, 5_000, 100_000), fc.boolean())
      .map(([depth, asObject]) => ({ value: nested(depth, asObject), refusal: `${name} nested ${depth} deep` })),
  );
  ways.push(fc.constant({ value: Array.from({ length: 100_000 }, (_, i) => i), refusal: `${name} a huge array` }));
  return fc.oneof(...ways);
}

const EXTRA_FIELDS = ["expire_in_days", "Name", "name ", "extra", "is_admin", "role_id", "tenant", "constructor", "__proto__", "user_id2"];

function bodyViolation(schema: JsonSchema): fc.Arbitrary<{ body: Body; refusal: string }> {
  const valid = validObject(schema);
  const json = (value: unknown, refusal: string) => ({ body: { kind: "json", value } as Body, refusal });
  const raw = (bodyText: string, contentType: string, refusal: string) => ({ body: { kind: "raw", text: bodyText, contentType } as Body, refusal });
  const properties = Object.entries(schema.properties ?? {});
  const required = schema.required ?? [];
  const ways: fc.Arbitrary<{ body: Body; refusal: string }>[] = [
    fc.constant({ body: { kind: "none" } as Body, refusal: "no body" }),
    fc.constantFrom<unknown>(null, [], "text", 42, true, 0).map((value) => json(value, "body not an object")),
    valid.map((value) => json([value], "body an array")),
    fc
      .tuple(fc.constantFrom(50, 5_000, 100_000), fc.boolean())
      .map(([depth, asObject]) => raw(nested(depth, asObject).$raw, "application/json", `body nested ${depth} deep`)),
    fc.constant(raw(`{"name":"${"x".repeat(1_100_000)}"}`, "application/json", "body over 1 MiB")),
    fc
      .constantFrom('{"name":', "{", "", "nul", '{"name":"x"} trailing', "\ufeff{}", '{"name":"\\ud800"}', '{"a":"\\u0000"}', "{'name': 'x'}")
      .map((bodyText) => raw(bodyText, "application/json", "body not valid JSON or not storable")),
    valid.map((value) => raw(JSON.stringify(value), "text/plain", "body not sent as JSON")),
    valid.map((value) => raw(JSON.stringify(value), "application/x-www-form-urlencoded", "body not sent as JSON")),
  ];
  for (const name of required) {
    ways.push(valid.map((value) => json(omit(value, name), `missing ${name}`)));
  }
  if (schema.additionalProperties === false) {
    ways.push(
      fc
        .tuple(valid, fc.constantFrom(...EXTRA_FIELDS), fc.constantFrom<unknown>(30, "x", null, true, { nested: 1 }))
        .map(([value, field, extra]) => json({ ...value, [field]: extra }, `extra field ${field}`)),
    );
  }
  for (const [name, property] of properties) {
    const violation = fieldViolation(name, property, isNullable(property));
    ways.push(fc.tuple(valid, violation).map(([value, broken]) => json({ ...value, [name]: broken.value }, broken.refusal)));
  }
  ways.push(
    fc
      .tuple(valid, fc.constantFrom("na\u0000me", "\ud800", "x\udfff"))
      .map(([value, key]) => json({ ...value, [key]: "x" }, "a key no database can store")),
  );
  return fc.oneof(...ways);
}

function omit(value: Record<string, unknown>, name: string): Record<string, unknown> {
  const copy = { ...value };
  delete copy[name];
  return copy;
}


function bodyOf(operation: Operation): fc.Arbitrary<{ body: Body; refusal: string | null }> {
  const schema = operation.body;
  if (schema === null) {
    return fc.oneof(
      { weight: 9, arbitrary: fc.constant({ body: { kind: "none" } as Body, refusal: null }) },
      { weight: 1, arbitrary: fc.constant({ body: { kind: "json", value: { unexpected: true } } as Body, refusal: null }) },
    );
  }
  return fc.oneof(
    { weight: 1, arbitrary: validObject(schema).map((value) => ({ body: { kind: "json", value } as Body, refusal: null })) },
    { weight: 1, arbitrary: bodyViolation(schema) },
  );
}

// ---------------------------------------------------------------------------------------------
// Whole requests

const CALLERS = fc.oneof(
  { weight: 40, arbitrary: fc.constant<CallerName>("admin") },
  { weight: 20, arbitrary: fc.constant<CallerName>("member") },
  { weight: 20, arbitrary: fc.constant<CallerName>("apiKey") },
  { weight: 15, arbitrary: fc.constant<CallerName>("outsider") },
  { weight: 5, arbitrary: fc.constant<CallerName>("stranger") },
);

const TENANT_HEADERS = fc.oneof(
  { weight: 90, arbitrary: fc.constant<TenantHeader>("usual") },
  { weight: 4, arbitrary: fc.constant<TenantHeader>("none") },
  { weight: 3, arbitrary: fc.constant<TenantHeader>("malformed") },
  { weight: 3, arbitrary: fc.constant<TenantHeader>("unknown") },
);

export function requestCases(operation: Operation): fc.Arbitrary<RequestCase> {
  const paths = fc.tuple(
    ...operation.pathParameters.map((parameter) => pathValue(operation, parameter).map((v) => [parameter.name, v] as const)),
  );
  const queries = fc.tuple(
    ...operation.queryParameters.map((parameter) => queryValues(parameter).map((v) => [parameter.name, v] as const)),
  );
  return fc.record({ caller: CALLERS, tenantHeader: TENANT_HEADERS, paths, queries, body: bodyOf(operation) }).map(
    ({ caller, tenantHeader, paths: pathParts, queries: queryParts, body }) => {
      const refusals = [
        ...pathParts.map(([, v]) => v.refusal),
        ...queryParts.map(([, v]) => v.refusal),
        body.refusal,
      ].filter((r): r is string => r !== null);
      return {
        caller,
        tenantHeader,
        path: Object.fromEntries(pathParts.map(([name, v]) => [name, v.value])),
        query: queryParts.flatMap(([name, v]) => v.values.map((value) => [name, value] as const)),
        body: body.body,
        refusal: refusals[0] ?? null,
      };
    },
  );
}
