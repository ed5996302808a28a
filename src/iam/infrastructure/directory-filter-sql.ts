/**
 * A checked SCIM filter as a SQL condition, over the columns a resource declares for its
 * filterable attributes. Case follows the attribute's kind (RFC 7643's `caseExact`): ids and
 * externalId compare exactly, names and emails ignoring case. A multi-valued attribute (a user's
 * emails, a group's members) matches when any of its values does.
 */
import { sql, type SQL } from "drizzle-orm";
import type { AttributeKind, ComparisonOperator, DirectoryFilter } from "../ports/directory-filter.js";

export interface FilterColumn {
  readonly kind: AttributeKind;
  /** The value, for a single-valued attribute. */
  readonly expression?: SQL;
  /** For a multi-valued one: true when `matches` holds for one of its values. */
  readonly anyValue?: (matches: (value: SQL) => SQL) => SQL;
}

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

function compareValue(kind: AttributeKind, expression: SQL, op: ComparisonOperator, value: string | boolean | null): SQL {
  if (value === null) {
    if (op === "eq") return sql`${expression} IS NULL`;
    if (op === "ne") return sql`${expression} IS NOT NULL`;
    throw unchecked(`${op} null`);
  }
  switch (kind) {
    case "boolean":
      if (typeof value !== "boolean") throw unchecked(`a boolean compared with a ${typeof value}`);
      return op === "eq" ? sql`${expression} = ${value}` : sql`${expression} <> ${value}`;
    case "time": {
      const ordering = op === "eq" ? "=" : op === "ne" ? "<>" : ORDERING[op];
      if (typeof value !== "string" || ordering === undefined) throw unchecked(`a time compared by ${op}`);
      return sql`${expression} ${sql.raw(ordering)} ${new Date(value).toISOString()}::timestamptz`;
    }
    default:
      if (typeof value !== "string") throw unchecked(`a string compared with a ${typeof value}`);
      return compareText(expression, op, value, kind === "text");
  }
}

function columnOf<A extends string>(columns: Record<A, FilterColumn>, attribute: A): FilterColumn {
  return columns[attribute];
}

export function filterSql<A extends string>(filter: DirectoryFilter<A>, columns: Record<A, FilterColumn>): SQL {
  switch (filter.op) {
    case "and":
    case "or":
      return sql`(${sql.join(
        filter.filters.map((inner) => filterSql(inner, columns)),
        sql.raw(filter.op === "and" ? " AND " : " OR "),
      )})`;
    case "not":
      return sql`NOT coalesce(${filterSql(filter.filter, columns)}, false)`;
    case "pr": {
      const column = columnOf(columns, filter.attribute);
      if (column.anyValue !== undefined) return column.anyValue((value) => sql`${value} IS NOT NULL AND ${value}::text <> ''`);
      if (column.kind === "boolean" || column.kind === "time") return sql.raw("true");
      return sql`(${column.expression} IS NOT NULL AND ${column.expression}::text <> '')`;
    }
    default: {
      const column = columnOf(columns, filter.attribute);
      const { op, value } = filter;
      if (column.anyValue !== undefined) return column.anyValue((each) => compareValue(column.kind, each, op, value));
      if (column.expression === undefined) throw unchecked(`${filter.attribute} has no column`);
      return compareValue(column.kind, column.expression, op, value);
    }
  }
}
