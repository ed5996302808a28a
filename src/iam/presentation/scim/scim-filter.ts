/**
 * `filter=` (RFC 7644 §3.4.2.2), parsed by scim2-parse-filter and checked here against the
 * attributes the directory's users can be filtered on. Attribute names ignore case and may carry
 * the User schema's URN, as the RFC allows; anything else is a 400 invalidFilter that names it.
 */
import { parse, type Filter } from "scim2-parse-filter";
import { FILTERABLE_USER_ATTRIBUTES, USER_FILTER_ATTRIBUTES, type ComparisonOperator, type FilterableUserAttribute, type UserFilter } from "../../ports/directory-users.js";
import { ScimRequestError } from "./scim-error.js";
import { USER_SCHEMA } from "./scim-schemas.js";

const BY_LOWER_NAME = new Map<string, FilterableUserAttribute>(FILTERABLE_USER_ATTRIBUTES.map((name) => [name.toLowerCase(), name]));
// `emails eq "x"` compares the emails' values (RFC 7644 §3.4.2.2, multi-valued attributes).
BY_LOWER_NAME.set("emails", "emails.value");

/** Deep enough for any real query; deeper is refused before it costs anything. */
const MAX_DEPTH = 16;
const MAX_LENGTH = 4096;

const invalidFilter = (detail: string) => new ScimRequestError(400, detail, "invalidFilter");

function attributeOf(path: string): FilterableUserAttribute {
  const lower = path.toLowerCase();
  const bare = lower.startsWith(`${USER_SCHEMA.toLowerCase()}:`) ? lower.slice(USER_SCHEMA.length + 1) : lower;
  const attribute = BY_LOWER_NAME.get(bare);
  if (attribute === undefined) {
    throw invalidFilter(`Cannot filter on "${path}"; filterable attributes: ${FILTERABLE_USER_ATTRIBUTES.join(", ")}`);
  }
  return attribute;
}

function checked(filter: Filter, depth: number, prefix = ""): UserFilter {
  if (depth > MAX_DEPTH) throw invalidFilter(`The filter nests deeper than ${MAX_DEPTH} levels`);
  switch (filter.op) {
    case "and":
    case "or":
      return { op: filter.op, filters: filter.filters.map((inner) => checked(inner, depth + 1, prefix)) };
    case "not":
      return { op: "not", filter: checked(filter.filter, depth + 1, prefix) };
    case "[]":
      if (prefix !== "") throw invalidFilter("A value filter cannot contain another");
      return checked(filter.valFilter, depth + 1, `${filter.attrPath}.`);
    case "pr":
      return { op: "pr", attribute: attributeOf(prefix + filter.attrPath) };
    default: {
      const attribute = attributeOf(prefix + filter.attrPath);
      return { op: filter.op, attribute, value: comparedValue(attribute, filter.op, filter.compValue) };
    }
  }
}

/** The value, when the attribute's kind has this comparison with it; else a 400 that says what it has. */
function comparedValue(attribute: FilterableUserAttribute, op: ComparisonOperator, value: unknown): string | boolean | null {
  const kind = USER_FILTER_ATTRIBUTES[attribute];
  if (value === null) {
    if (op === "eq" || op === "ne") return null;
    throw invalidFilter(`${attribute} ${op} null is not a comparison; use eq null, ne null or pr`);
  }
  switch (kind) {
    case "boolean":
      if (typeof value === "boolean" && (op === "eq" || op === "ne")) return value;
      throw invalidFilter(`${attribute} compares only with eq or ne, to true or false`);
    case "time":
      if (typeof value === "string" && op !== "co" && op !== "sw" && op !== "ew" && !Number.isNaN(new Date(value).getTime())) return value;
      throw invalidFilter(`${attribute} compares with eq, ne, gt, ge, lt or le, to an ISO-8601 date-time such as "2026-01-31T12:00:00Z"`);
    default:
      if (typeof value === "string") return value;
      throw invalidFilter(`${attribute} compares with a string in double quotes`);
  }
}

export function parseUserFilter(text: string | undefined): UserFilter | null {
  if (text === undefined || text.trim() === "") return null;
  if (text.length > MAX_LENGTH) throw invalidFilter(`The filter is longer than ${MAX_LENGTH} characters`);
  let tree: Filter;
  try {
    tree = parse(text);
  } catch {
    throw invalidFilter(`The filter is not valid SCIM filter syntax: ${text}`);
  }
  return checked(tree, 0);
}
