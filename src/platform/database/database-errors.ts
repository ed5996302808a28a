/**
 * Reads PostgreSQL's own error fields (SQLSTATE, constraint name) from an error, whether it comes
 * from `pg` or PGlite and whether Drizzle wrapped it. Repositories use it to turn constraint
 * violations into domain errors, also when a race makes the database the one that notices.
 */
export interface PostgresErrorInfo {
  readonly code: string;
  readonly constraint: string | null;
  /** PostgreSQL's own message, without the statement a driver wrapper may add. */
  readonly message: string;
}

export const UNIQUE_VIOLATION = "23505";
export const FOREIGN_KEY_VIOLATION = "23503";
export const CHECK_VIOLATION = "23514";
export const SERIALIZATION_FAILURE = "40001";
export const DEADLOCK_DETECTED = "40P01";

export function postgresErrorOf(error: unknown): PostgresErrorInfo | null {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    const fields = current as { code?: unknown; constraint?: unknown };
    if (typeof fields.code === "string" && /^[0-9A-Z]{5}$/.test(fields.code)) {
      return { code: fields.code, constraint: typeof fields.constraint === "string" ? fields.constraint : null, message: current.message };
    }
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}

/**
 * True for PostgreSQL's class 22, data exceptions: a value the column or type cannot hold (too
 * long, out of range, not valid text for the type, a character the encoding lacks). Only the data
 * a statement carries can cause one.
 */
export function isDataException(error: unknown): boolean {
  return postgresErrorOf(error)?.code.startsWith("22") ?? false;
}

/** True when `error` is a violation of the named constraint (any kind). */
export function violates(error: unknown, constraint: string): boolean {
  return postgresErrorOf(error)?.constraint === constraint;
}
