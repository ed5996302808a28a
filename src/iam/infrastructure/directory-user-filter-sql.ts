/**
 * A checked SCIM filter as a SQL condition over the directory's view of a tenant's users (`u`
 * users, `m` the tenant membership, `s` the directory's record). Case follows RFC 7643's
 * `caseExact`: ids and externalId compare exactly, names and emails ignoring case.
 */
import { sql, type SQL } from "drizzle-orm";
import { USER_FILTER_ATTRIBUTES, type ComparisonOperator, type FilterableUserAttribute, type UserFilter } from "../ports/directory-users.js";

/** When the user became visible to the directory, and when anything it shows last changed. */
export const CREATED_SQL = sql.raw(`least(coalesce(s.created_at, m.created_at), coalesce(m.created_at, s.created_at))`);
export const LAST_MODIFIED_SQL = sql.raw(
  `greatest(u.updated_at, coalesce(s.updated_at, u.updated_at), coalesce(m.created_at, u.updated_at))`,
);

const COLUMNS: Record<Exclude<FilterableUserAttribute, "emails.value">, SQL> = {
  id: sql.raw("u.id"),
  userName: sql.raw("u.username"),
  externalId: sql.raw("s.external_id"),
  displayName: sql.raw("coalesce(s.attributes->>'displayName', u.name)"),
  "name.givenName": sql.raw("s.attributes->>'givenName'"),
  "name.familyName": sql.raw("s.attributes->>'familyName'"),
  active: sql.raw("(m.user_id IS NOT NULL)"),
  "meta.created": CREATED_SQL,
  "meta.lastModified": LAST_MODIFIED_SQL,
};

/** A comparison the checks before this module should have refused: a programming error. */
function unchecked(detail: string): Error {
  return new Error(`unchecked SCIM filter: ${detail}`);
}

/** `%`, `_` and `\` match only themselves. */
function likeEscaped(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}

const ORDERING: Partial<Record<ComparisonOperator, string>> = { gt: ">", ge: ">=", lt: "<", le: "<=" };

function compareText(expression: SQL, op: ComparisonOperator, value: string, ignoreCase: boolean): SQL {
  const left = ignoreCase ? sql`lower(${expression})` : expression;
  const right = ignoreCase ? value.toLowerCase() : value;
  switch (op) {
    case "eq":
      return sql`${left} = ${right}`;
    case "ne":
      return sql`${left} IS DISTINCT FROM ${right}`;
    case "co":
      return sql`${left} LIKE ${`%${likeEscaped(right)}%`}`;
    case "sw":
      return sql`${left} LIKE ${`${likeEscaped(right)}%`}`;
    case "ew":
      return sql`${left} LIKE ${`%${likeEscaped(right)}`}`;
    default:
      return sql`${left} ${sql.raw(ORDERING[op] ?? "=")} ${right}`;
  }
}

function comparison(attribute: FilterableUserAttribute, op: ComparisonOperator, value: string | boolean | null): SQL {
  if (attribute === "emails.value") {
    if (typeof value !== "string") throw unchecked("emails.value compares with a string");
    const any = compareText(sql.raw("e.value"), op, value, true);
    return sql`(${compareText(sql.raw("u.email"), op, value, true)} OR EXISTS (
      SELECT 1 FROM jsonb_to_recordset(coalesce(s.attributes->'emails', '[]'::jsonb)) AS e(value text) WHERE ${any}))`;
  }
  const column = COLUMNS[attribute];
  if (value === null) {
    if (op === "eq") return sql`${column} IS NULL`;
    if (op === "ne") return sql`${column} IS NOT NULL`;
    throw unchecked(`${attribute} ${op} null`);
  }
  const kind = USER_FILTER_ATTRIBUTES[attribute];
  switch (kind) {
    case "boolean":
      if (typeof value !== "boolean") throw unchecked(`${attribute} with a ${typeof value}`);
      return op === "eq" ? sql`${column} = ${value}` : sql`${column} <> ${value}`;
    case "time": {
      const ordering = op === "eq" ? "=" : op === "ne" ? "<>" : ORDERING[op];
      if (typeof value !== "string" || ordering === undefined) throw unchecked(`${attribute} ${op}`);
      return sql`${column} ${sql.raw(ordering)} ${new Date(value).toISOString()}::timestamptz`;
    }
    default:
      if (typeof value !== "string") throw unchecked(`${attribute} with a ${typeof value}`);
      return compareText(column, op, value, kind === "text");
  }
}

function present(attribute: FilterableUserAttribute): SQL {
  switch (attribute) {
    case "emails.value":
      return sql.raw(`(u.email IS NOT NULL OR jsonb_array_length(coalesce(s.attributes->'emails', '[]'::jsonb)) > 0)`);
    case "active":
    case "meta.created":
    case "meta.lastModified":
      return sql.raw("true");
    default:
      return sql`(${COLUMNS[attribute]} IS NOT NULL AND ${COLUMNS[attribute]}::text <> '')`;
  }
}

export function filterSql(filter: UserFilter): SQL {
  switch (filter.op) {
    case "and":
    case "or":
      return sql`(${sql.join(filter.filters.map(filterSql), sql.raw(filter.op === "and" ? " AND " : " OR "))})`;
    case "not":
      return sql`NOT coalesce(${filterSql(filter.filter)}, false)`;
    case "pr":
      return present(filter.attribute);
    default:
      return comparison(filter.attribute, filter.op, filter.value);
  }
}
