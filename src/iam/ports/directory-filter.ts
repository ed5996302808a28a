/**
 * A SCIM filter (RFC 7644 §3.4.2.2), already checked by the presentation layer against the
 * attributes a resource can be filtered on: every comparison is one its attribute's kind has,
 * with a value of that kind (a time as an ISO-8601 string).
 */

/** `text` compares ignoring case, `exact` with case (RFC 7643's caseExact), `boolean` by eq/ne, `time` as date-times. */
export type AttributeKind = "text" | "exact" | "boolean" | "time";

export type ComparisonOperator = "eq" | "ne" | "co" | "sw" | "ew" | "gt" | "ge" | "lt" | "le";

export type DirectoryFilter<A extends string> =
  | { readonly op: "and" | "or"; readonly filters: readonly DirectoryFilter<A>[] }
  | { readonly op: "not"; readonly filter: DirectoryFilter<A> }
  | { readonly op: "pr"; readonly attribute: A }
  | { readonly op: ComparisonOperator; readonly attribute: A; readonly value: string | boolean | null };
