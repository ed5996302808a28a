/**
 * An error that carries its own HTTP answer. Presentation code throws it (or maps domain errors to
 * it); the one error handler turns it into `{"detail": ...}`.
 */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly detail: unknown,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(typeof detail === "string" ? detail : `HTTP ${statusCode}`);
    this.name = "HttpError";
  }
}

/** One item of FastAPI's validation error list. */
export interface ValidationIssue {
  readonly type: string;
  readonly loc: readonly (string | number)[];
  readonly msg: string;
  readonly input: unknown;
  readonly ctx?: Record<string, unknown>;
}

/** A 422 in FastAPI's list shape, for checks the schema cannot express (e.g. "one of two fields"). */
export function validationError(issues: readonly ValidationIssue[]): HttpError {
  return new HttpError(422, issues);
}
