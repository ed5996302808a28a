/**
 * Text that PostgreSQL cannot store is refused at the door, with a message that says why, instead
 * of failing deep in the database as a 500:
 *
 * - the NUL character (no PostgreSQL text or jsonb value can hold it);
 * - half of a UTF-16 surrogate pair (a JSON escape such as \ud800 with no partner): a text column
 *   would silently store U+FFFD instead, and jsonb refuses it.
 *
 * In a JSON body such text can only be spelt with a \u escape (raw NUL is not valid JSON, and
 * undecodable bytes become U+FFFD), so bodies without one skip the check. A body that has one gets
 * a 422 naming the field; a URL with %00 gets a 400.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { validationError, type ValidationIssue } from "./http-error.js";

/** Whether a raw request URL (path and query, still percent-encoded) carries a NUL character. */
export function urlHasNul(url: string): boolean {
  return url.includes("%00");
}

export const NUL_IN_URL_DETAIL = "The URL must not contain the NUL character (%00)";

/** A \u escape that may spell NUL or a surrogate: only bodies holding one are walked. */
const SUSPECT_ESCAPE = /\\u(0000|[dD][89a-fA-F])/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function problemOf(text: string): Pick<ValidationIssue, "type" | "msg"> | null {
  if (text.includes("\u0000")) return { type: "string_nul", msg: "Text must not contain the NUL character (\\u0000)" };
  if (LONE_SURROGATE.test(text)) {
    return { type: "string_unicode", msg: "Text must be valid Unicode: it holds half of a surrogate pair (\\ud800-\\udfff)" };
  }
  return null;
}

/** Fields in FastAPI's order: type, loc, msg, input. */
function issueAt(problem: Pick<ValidationIssue, "type" | "msg">, loc: (string | number)[], input: string): ValidationIssue {
  return { type: problem.type, loc, msg: problem.msg, input };
}

/** The first string or key in `value` that cannot be stored, as an issue below "body"; null if none. */
function unstorableText(value: unknown): ValidationIssue | null {
  // An explicit stack: bodies may nest thousands of levels deep.
  const stack: { value: unknown; loc: (string | number)[] }[] = [{ value, loc: ["body"] }];
  while (stack.length > 0) {
    const { value: current, loc } = stack.pop() as { value: unknown; loc: (string | number)[] };
    if (typeof current === "string") {
      const problem = problemOf(current);
      if (problem) return issueAt(problem, loc, current);
    } else if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) stack.push({ value: current[i], loc: [...loc, i] });
    } else if (current !== null && typeof current === "object") {
      const entries = Object.entries(current);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, item] = entries[i] as [string, unknown];
        const problem = problemOf(key);
        if (problem) return issueAt(problem, [...loc, key], key);
        stack.push({ value: item, loc: [...loc, key] });
      }
    }
  }
  return null;
}

type BodyParser = (request: FastifyRequest, body: string | Buffer, done: (error: Error | null, value?: unknown) => void) => void;

/** Fastify's own JSON parser (prototype-poisoning checks included) with the check. */
export function storableJsonParser(server: FastifyInstance): BodyParser {
  const parseJson = server.getDefaultJsonParser("error", "error");
  return (request, body, done) => {
    parseJson(request, body as string, (error: Error | null, value?: unknown) => {
      if (error) return done(error, undefined);
      const issue = SUSPECT_ESCAPE.test(body as string) ? unstorableText(value) : null;
      if (issue === null) return done(null, value);
      done(validationError([issue]), undefined);
    });
  };
}

/** JSON bodies are parsed with the check (storableJsonParser); other JSON media types may use it too. */
export function installStorableTextCheck(server: FastifyInstance): void {
  const parser = storableJsonParser(server);
  server.removeContentTypeParser("application/json");
  server.addContentTypeParser("application/json", { parseAs: "string" }, parser);
}
