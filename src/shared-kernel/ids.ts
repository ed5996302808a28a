import { monotonicFactory } from "ulidx";

/** Crockford base32, upper case, first character 0-7 (a 128-bit value): the ULIDs we issue and accept. */
const ULID_PATTERN = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

const nextUlid = monotonicFactory();

export function newUlid(): string {
  return nextUlid();
}

export function isUlid(value: string): boolean {
  return ULID_PATTERN.test(value);
}

/**
 * IDs in paths and headers are accepted in any case and normalised to upper case (DESIGN §3.10).
 * Returns null when the value is not a ULID in any case.
 */
export function normaliseUlid(value: string): string | null {
  const upper = value.trim().toUpperCase();
  return isUlid(upper) ? upper : null;
}
