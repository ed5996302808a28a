/**
 * The "one of two fields" rules of the member-add bodies, which a JSON schema cannot word well.
 * Reported as FastAPI model-level validation errors (422, loc ["body"]), as the reference does.
 */
import { validationError } from "../../platform/http/http-error.js";

export function requireOneOf(body: unknown, idField: string, id: string | null | undefined, email: string | null): void {
  const fail = (message: string) =>
    validationError([{ type: "value_error", loc: ["body"], msg: `Value error, ${message}`, input: body, ctx: { error: {} } }]);
  const hasId = id !== null && id !== undefined;
  if (hasId && email !== null) throw fail(`Provide either ${idField} or email, not both`);
  if (!hasId && email === null) throw fail(`Either ${idField} or email is required`);
}

export function emailOnlyForUsers(body: unknown, memberType: string, email: string | null): void {
  if (email !== null && memberType !== "user") {
    throw validationError([
      {
        type: "value_error",
        loc: ["body"],
        msg: "Value error, Email can only be used when member_type is 'user'",
        input: body,
        ctx: { error: {} },
      },
    ]);
  }
}
