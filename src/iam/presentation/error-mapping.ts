import { HttpError } from "../../platform/http/http-error.js";
import { IamError } from "../domain/errors.js";

const STATUS_OF_KIND = {
  not_found: 404,
  forbidden: 403,
  conflict: 409,
  invalid: 400,
  unauthenticated: 401,
} as const;

/**
 * Maps domain errors to HTTP answers with their own message; anything else is rethrown for the
 * platform's error handler (503 for outages, 500 otherwise). Route handlers wrap service calls in it.
 */
export async function answering<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof IamError) throw new HttpError(STATUS_OF_KIND[error.kind], error.message);
    throw error;
  }
}
