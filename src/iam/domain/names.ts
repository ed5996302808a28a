import { InvalidInputError } from "./errors.js";

/** Workspace names are 1-512 characters, kept exactly as given (DESIGN §3.5). */
export const WORKSPACE_NAME_MAX = 512;
/** Tenant names are 1-255 characters, kept exactly as given. */
export const TENANT_NAME_MAX = 255;

/** Names are counted in characters (code points), not UTF-16 units, to match the database. */
function lengthOf(value: string): number {
  return [...value].length;
}

export function assertName(kind: "Workspace" | "Tenant", name: string, max: number): void {
  const length = lengthOf(name);
  if (length < 1 || length > max) {
    throw new InvalidInputError(`${kind} name must be between 1 and ${max} characters (got ${length})`);
  }
}
