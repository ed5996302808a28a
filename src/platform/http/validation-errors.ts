/**
 * Turns Ajv errors (what Fastify reports for TypeBox schemas) into FastAPI's 422 list shape,
 * `{type, loc, msg, input, ctx?}`, so that clients written against the reference read them alike.
 */
import type { FastifySchemaValidationError } from "fastify";
import type { ValidationIssue } from "./http-error.js";

type Part = "body" | "query" | "path" | "header";

const PART_OF_CONTEXT: Record<string, Part> = {
  body: "body",
  querystring: "query",
  params: "path",
  headers: "header",
};

/**
 * Containers nested deeper than this are not echoed: JSON accepts any depth, but serializing a
 * body nested 10,000 levels deep overflows the stack, which would turn a 422 into a 500.
 */
const MAX_ECHO_DEPTH = 32;
const TOO_DEEP = "<nested too deeply to echo>";

/** `value` as it is echoed in an issue's `input`: whole, except levels beyond MAX_ECHO_DEPTH. */
function echoOf(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_ECHO_DEPTH) return TOO_DEEP;
  if (Array.isArray(value)) return value.map((item) => echoOf(item, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, echoOf(item, depth + 1)]));
}

function valueAt(root: unknown, pointer: string): unknown {
  if (pointer === "") return root;
  let current: unknown = root;
  for (const segment of pointer.split("/").slice(1)) {
    const key = segment.replace(/~1/g, "/").replace(/~0/g, "~");
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function locOf(part: Part, pointer: string): (string | number)[] {
  const segments = pointer === "" ? [] : pointer.split("/").slice(1);
  return [part, ...segments.map((s) => (/^\d+$/.test(s) ? Number(s) : s.replace(/~1/g, "/").replace(/~0/g, "~")))];
}

function quoteList(values: readonly unknown[]): string {
  const quoted = values.map((v) => `'${String(v)}'`);
  if (quoted.length <= 1) return quoted.join("");
  return `${quoted.slice(0, -1).join(", ")} or ${quoted[quoted.length - 1]}`;
}

const TYPE_NAMES: Record<string, [string, string]> = {
  string: ["string_type", "Input should be a valid string"],
  integer: ["int_type", "Input should be a valid integer"],
  number: ["float_type", "Input should be a valid number"],
  boolean: ["bool_type", "Input should be a valid boolean"],
  object: ["model_attributes_type", "Input should be a valid dictionary or object to extract fields from"],
  array: ["list_type", "Input should be a valid list"],
};

function issueOf(error: FastifySchemaValidationError, part: Part, data: unknown): ValidationIssue | null {
  const pointer = error.instancePath;
  const params = error.params as Record<string, unknown>;
  const input = valueAt(data, pointer);
  switch (error.keyword) {
    case "required": {
      const field = String(params["missingProperty"]);
      const loc = [...locOf(part, pointer), field];
      // pydantic reports the object the field is missing from; FastAPI checks query, path and
      // header parameters one by one, so there the input is null.
      return { type: "missing", loc, msg: "Field required", input: part === "body" ? (input ?? null) : null };
    }
    case "additionalProperties": {
      const field = String(params["additionalProperty"]);
      const loc = [...locOf(part, pointer), field];
      return {
        type: "extra_forbidden",
        loc,
        msg: "Extra inputs are not permitted",
        input: valueAt(data, `${pointer}/${field}`) ?? null,
      };
    }
    case "minLength":
      return {
        type: "string_too_short",
        loc: locOf(part, pointer),
        msg: `String should have at least ${String(params["limit"])} character${params["limit"] === 1 ? "" : "s"}`,
        input,
        ctx: { min_length: params["limit"] },
      };
    case "maxLength":
      return {
        type: "string_too_long",
        loc: locOf(part, pointer),
        msg: `String should have at most ${String(params["limit"])} characters`,
        input,
        ctx: { max_length: params["limit"] },
      };
    case "minimum":
      return {
        type: "greater_than_equal",
        loc: locOf(part, pointer),
        msg: `Input should be greater than or equal to ${String(params["limit"])}`,
        input,
        ctx: { ge: params["limit"] },
      };
    case "maximum":
      return {
        type: "less_than_equal",
        loc: locOf(part, pointer),
        msg: `Input should be less than or equal to ${String(params["limit"])}`,
        input,
        ctx: { le: params["limit"] },
      };
    case "enum": {
      const expected = quoteList((params["allowedValues"] as unknown[]) ?? []);
      return { type: "enum", loc: locOf(part, pointer), msg: `Input should be ${expected}`, input, ctx: { expected } };
    }
    case "const": {
      const expected = quoteList([params["allowedValue"]]);
      return { type: "enum", loc: locOf(part, pointer), msg: `Input should be ${expected}`, input, ctx: { expected } };
    }
    case "type": {
      const wanted = String(params["type"]).split(",")[0] ?? "string";
      // The null branch of a nullable field (`string | null`): the other branch's error says what
      // is wrong, as pydantic reports an Optional field.
      if (wanted === "null") return null;
      if (input === null || input === undefined) {
        return { type: "missing", loc: locOf(part, pointer), msg: "Field required", input: null };
      }
      if (wanted === "integer" && typeof input === "number") {
        return {
          type: "int_from_float",
          loc: locOf(part, pointer),
          msg: "Input should be a valid integer, got a number with a fractional part",
          input,
        };
      }
      const [type, msg] = TYPE_NAMES[wanted] ?? ["type_error", `Input should be of type ${wanted}`];
      return { type, loc: locOf(part, pointer), msg, input };
    }
    case "pattern":
      return {
        type: "string_pattern_mismatch",
        loc: locOf(part, pointer),
        msg: `String should match pattern '${String(params["pattern"])}'`,
        input,
        ctx: { pattern: params["pattern"] },
      };
    case "anyOf":
    case "oneOf":
      // Reported through the branch errors; an enum of literals arrives here as anyOf of consts.
      return null;
    default:
      return { type: "value_error", loc: locOf(part, pointer), msg: error.message ?? "Invalid value", input };
  }
}

/**
 * Folds anyOf-of-const failures (TypeBox unions of literals) into one enum issue per location, and
 * orders issues by the schema's field order, as pydantic reports them (Ajv reports every missing
 * field first).
 */
export function toValidationIssues(
  errors: readonly FastifySchemaValidationError[],
  context: string,
  data: unknown,
  schema?: unknown,
): ValidationIssue[] {
  const part = PART_OF_CONTEXT[context] ?? "body";
  if (data === undefined && part === "body") {
    return [{ type: "missing", loc: ["body"], msg: "Field required", input: null }];
  }
  const issues: ValidationIssue[] = [];
  // One enum issue per location, placed where its first literal failed.
  const enums = new Map<string, { index: number; allowed: unknown[] }>();
  for (const error of errors) {
    if (error.keyword === "const") {
      const existing = enums.get(error.instancePath);
      const allowed = (error.params as Record<string, unknown>)["allowedValue"];
      if (existing) {
        existing.allowed.push(allowed);
      } else {
        enums.set(error.instancePath, { index: issues.length, allowed: [allowed] });
        issues.push({ type: "enum", loc: [], msg: "", input: null });
      }
      continue;
    }
    const issue = issueOf(error, part, data);
    if (issue !== null) issues.push(issue);
  }
  for (const [pointer, { index, allowed }] of enums) {
    const expected = quoteList(allowed);
    issues[index] = {
      type: "enum",
      loc: locOf(part, pointer),
      msg: `Input should be ${expected}`,
      input: valueAt(data, pointer),
      ctx: { expected },
    };
  }
  const seen = new Set<string>();
  const unique = issues.filter((issue) => {
    const key = `${issue.type}|${JSON.stringify(issue.loc)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return inFieldOrder(unique, schema).map((issue) => ({ ...issue, input: echoOf(issue.input) }));
}

/** Stable sort by the position of each issue's top-level field among the schema's properties. */
function inFieldOrder(issues: ValidationIssue[], schema: unknown): ValidationIssue[] {
  const properties = (schema as { properties?: Record<string, unknown> } | undefined)?.properties;
  if (properties === undefined || properties === null || typeof properties !== "object") return issues;
  const order = new Map(Object.keys(properties).map((name, index) => [name, index]));
  const rank = (issue: ValidationIssue) => {
    const field = issue.loc[1];
    return typeof field === "string" ? (order.get(field) ?? order.size) : -1;
  };
  return issues
    .map((issue, position) => ({ issue, position }))
    .sort((a, b) => rank(a.issue) - rank(b.issue) || a.position - b.position)
    .map(({ issue }) => issue);
}
