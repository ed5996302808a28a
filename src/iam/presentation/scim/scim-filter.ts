/**
 * `filter=` (RFC 7644 §3.4.2.2), parsed by scim2-parse-filter and checked here against the
 * attributes a resource can be filtered on, with the comparisons each attribute's kind has.
 * Attribute names ignore case and may carry the resource schema's URN, as the RFC allows;
 * anything else is a 400 invalidFilter that says what is possible.
 */
import { parse, type Filter } from "scim2-parse-filter";
import { STORABLE_YEARS, isStorableTime } from "../../../platform/database/storable-time.js";
import type { AttributeKind, ComparisonOperator, DirectoryFilter } from "../../ports/directory-filter.js";
import { ScimRequestError } from "./scim-error.js";

/** What a resource can be filtered on: its schema URN and its attributes with their kinds. */
export interface FilterableResource<A extends string> {
  readonly schema: string;
  readonly attributes: Readonly<Record<A, AttributeKind>>;
  /** Multi-valued attributes whose bare name means their `.value` (`emails eq "x"`). */
  readonly valueOf?: Readonly<Record<string, A>>;
}

/** Deep enough for any real query; deeper is refused before it costs anything. */
const MAX_DEPTH = 16;
const MAX_LENGTH = 4096;

const invalidFilter = (detail: string) => new ScimRequestError(400, detail, "invalidFilter");

class FilterChecker<A extends string> {
  private readonly byLowerName = new Map<string, A>();

  constructor(private readonly resource: FilterableResource<A>) {
    for (const name of Object.keys(resource.attributes) as A[]) this.byLowerName.set(name.toLowerCase(), name);
    for (const [name, attribute] of Object.entries(resource.valueOf ?? {}) as [string, A][]) this.byLowerName.set(name.toLowerCase(), attribute);
  }

  checked(filter: Filter, depth: number, prefix = ""): DirectoryFilter<A> {
    if (depth > MAX_DEPTH) throw invalidFilter(`The filter nests deeper than ${MAX_DEPTH} levels`);
    switch (filter.op) {
      case "and":
      case "or":
        return { op: filter.op, filters: filter.filters.map((inner) => this.checked(inner, depth + 1, prefix)) };
      case "not":
        return { op: "not", filter: this.checked(filter.filter, depth + 1, prefix) };
      case "[]":
        if (prefix !== "") throw invalidFilter("A value filter cannot contain another");
        return this.checked(filter.valFilter, depth + 1, `${filter.attrPath}.`);
      case "pr":
        return { op: "pr", attribute: this.attributeOf(prefix + filter.attrPath) };
      default: {
        const attribute = this.attributeOf(prefix + filter.attrPath);
        return { op: filter.op, attribute, value: this.comparedValue(attribute, filter.op, filter.compValue) };
      }
    }
  }

  private attributeOf(path: string): A {
    const lower = path.toLowerCase();
    const urn = `${this.resource.schema.toLowerCase()}:`;
    const attribute = this.byLowerName.get(lower.startsWith(urn) ? lower.slice(urn.length) : lower);
    if (attribute === undefined) {
      throw invalidFilter(`Cannot filter on "${path}"; filterable attributes: ${Object.keys(this.resource.attributes).join(", ")}`);
    }
    return attribute;
  }

  /** The value, when the attribute's kind has this comparison with it; else a 400 that says what it has. */
  private comparedValue(attribute: A, op: ComparisonOperator, value: unknown): string | boolean | null {
    if (value === null) {
      if (op === "eq" || op === "ne") return null;
      throw invalidFilter(`${attribute} ${op} null is not a comparison; use eq null, ne null or pr`);
    }
    switch (this.resource.attributes[attribute]) {
      case "boolean":
        if (typeof value === "boolean" && (op === "eq" || op === "ne")) return value;
        throw invalidFilter(`${attribute} compares only with eq or ne, to true or false`);
      case "time": {
        const time = typeof value === "string" && op !== "co" && op !== "sw" && op !== "ew" ? new Date(value) : null;
        if (time === null || Number.isNaN(time.getTime())) {
          throw invalidFilter(`${attribute} compares with eq, ne, gt, ge, lt or le, to an ISO-8601 date-time such as "2026-01-31T12:00:00Z"`);
        }
        // Checked here, not by the database: it cannot read a time outside these years and would fail the query.
        if (!isStorableTime(time)) throw invalidFilter(`${attribute} compares with a date-time in ${STORABLE_YEARS}; ${JSON.stringify(value)} is not`);
        return value as string;
      }
      default:
        if (typeof value === "string") return value;
        throw invalidFilter(`${attribute} compares with a string in double quotes`);
    }
  }
}

export function parseFilter<A extends string>(text: string | undefined, resource: FilterableResource<A>): DirectoryFilter<A> | null {
  if (text === undefined || text.trim() === "") return null;
  if (text.length > MAX_LENGTH) throw invalidFilter(`The filter is longer than ${MAX_LENGTH} characters`);
  let tree: Filter;
  try {
    tree = parse(text);
  } catch {
    throw invalidFilter(`The filter is not valid SCIM filter syntax: ${text}`);
  }
  return new FilterChecker(resource).checked(tree, 0);
}
