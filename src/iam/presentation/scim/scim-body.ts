/** Reading SCIM bodies: attribute names ignore case (RFC 7643 §2.1). */

export const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** The body's value for attribute `name`, whatever its case. */
export function field(body: Record<string, unknown>, name: string): unknown {
  const lower = name.toLowerCase();
  const key = Object.keys(body).find((candidate) => candidate.toLowerCase() === lower);
  return key === undefined ? undefined : body[key];
}

/** Whether the body's `schemas` names `schema` (URNs ignore case). */
export function namesSchema(body: Record<string, unknown>, schema: string): boolean {
  const schemas = field(body, "schemas");
  return Array.isArray(schemas) && schemas.some((named) => typeof named === "string" && named.toLowerCase() === schema.toLowerCase());
}
