/**
 * A SCIM list's query parameters (RFC 7644 §3.4.2). Fastify reads a repeated parameter
 * (`?filter=a&filter=b`) as an array: each parameter the lists read is taken once, and a repeated
 * one is a 400 that names it, as a repeated `count` always was; the parsers below never see an
 * array. Parameters the lists do not implement (attributes, sortBy, ...) are not read at all.
 */
import { ScimRequestError, invalidValue, type ScimType } from "./scim-error.js";
import { MAX_RESULTS } from "./scim-schemas.js";

/** The query string as Fastify parses it. */
export type ScimQuery = Readonly<Record<string, string | readonly string[] | undefined>>;

/** The parameter's one value, or undefined without it; repeated, a 400 of `scimType`. */
export function queryParameter(query: ScimQuery, name: string, scimType: ScimType = "invalidValue"): string | undefined {
  const value = query[name];
  if (value === undefined || typeof value === "string") return value;
  throw new ScimRequestError(400, `${name} must be given once, not ${value.length} times`, scimType);
}

function integerParameter(query: ScimQuery, name: string, fallback: number): number {
  const raw = queryParameter(query, name);
  if (raw === undefined || raw === "") return fallback;
  const value = /^-?\d{1,9}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(value)) throw invalidValue(`${name} must be an integer`);
  return value;
}

/** startIndex and count as RFC 7644 §3.4.2.4 reads them: below 1 counts as 1, a negative count as 0. */
export function pageOf(query: ScimQuery): { startIndex: number; count: number } {
  return {
    startIndex: Math.max(1, integerParameter(query, "startIndex", 1)),
    count: Math.min(MAX_RESULTS, Math.max(0, integerParameter(query, "count", 100))),
  };
}

/** Directories list groups without their members (Entra ID, Okta): `excludedAttributes=members`. */
export function excludesMembers(query: ScimQuery): boolean {
  return /(^|,)\s*members\s*(,|$)/i.test(queryParameter(query, "excludedAttributes") ?? "");
}
