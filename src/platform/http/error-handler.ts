/**
 * The one place errors become HTTP answers. Every body is JSON `{"detail": ...}`; validation
 * failures use FastAPI's 422 list shape; anything unexpected is a 500 whose details go only to the
 * log. Backing-service outages are 503.
 *
 * Below the routes' own limits sits a safety net: a value that reaches PostgreSQL and is refused
 * there as a data exception (class 22: too long, out of range, not valid for its type) came from
 * the client, so it is a 422 too, with a message that names no SQL; the log line and the
 * `kartograph_validation_reached_database_total` counter show which route lacks a limit.
 */
import { CHANGE_NOT_YET_IN_EFFECT } from "../outbox/change-not-in-effect.js";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { isDataException, postgresErrorOf } from "../database/database-errors.js";
import { HttpError, type ValidationIssue } from "./http-error.js";
import type { RequestMetrics } from "./metrics.js";
import { receivedParameters } from "./parameter-coercion.js";
import { isUnavailableError } from "../runtime/unavailable.js";
import { toValidationIssues } from "./validation-errors.js";

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  401: "Not authenticated",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  408: "Request Timeout",
  413: "Request body is too large",
  414: "URI Too Long",
  429: "Too Many Requests",
  431: "Request header fields are too large",
};

function jsonInvalid(error: Error): ValidationIssue[] {
  const position = /position (\d+)/.exec(error.message);
  return [
    {
      type: "json_invalid",
      loc: ["body", position ? Number(position[1]) : 0],
      msg: "JSON decode error",
      input: {},
      ctx: { error: error.message.replace(/^Unexpected token.*?in JSON/, "Invalid JSON").slice(0, 200) },
    },
  ];
}

/** Where the value probably was: the database does not say which parameter it refused. */
function partOf(request: FastifyRequest): string {
  if (request.body !== undefined && request.body !== null) return "body";
  return request.url.includes("?") ? "query" : "path";
}

declare module "fastify" {
  interface FastifyRequest {
    /**
     * True when `error` is a value only the database refused, which this then logs and counts.
     * For a plugin with an error handler of its own (SCIM's), which answers it in its own shape.
     */
    valueReachedDatabase(error: unknown): boolean;
  }
}

export function installErrorHandling(server: FastifyInstance, metrics: RequestMetrics): void {
  server.decorateRequest("valueReachedDatabase", function (this: FastifyRequest, error: unknown): boolean {
    if (!isDataException(error)) return false;
    metrics.validationReachedDatabase(this);
    const refused = postgresErrorOf(error);
    this.log.warn(
      { sqlstate: refused?.code, route: this.routePattern, reason: refused?.message },
      "a value reached the database that it cannot store: the route lacks a limit",
    );
    return true;
  });
  server.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof HttpError) {
      return reply.code(error.statusCode).headers(error.headers).send({ detail: error.detail });
    }
    if (error.validation) {
      const context = error.validationContext ?? "body";
      const data =
        context === "body"
          ? request.body
          : context === "querystring"
            ? receivedParameters(request).query
            : context === "params"
              ? receivedParameters(request).params
              : request.headers;
      const schemas = request.routeOptions.schema as Record<string, unknown> | undefined;
      const schema = schemas?.[context === "querystring" ? "querystring" : context];
      return reply.code(422).send({ detail: toValidationIssues(error.validation, context, data, schema) });
    }
    if (error.code === "FST_ERR_CTP_INVALID_JSON_BODY" || error instanceof SyntaxError) {
      return reply.code(422).send({ detail: jsonInvalid(error) });
    }
    if (error.code === "FST_ERR_CTP_EMPTY_JSON_BODY") {
      return reply.code(422).send({ detail: [{ type: "missing", loc: ["body"], msg: "Field required", input: null }] });
    }
    if (error.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
      return reply.code(422).send({
        detail: [
          {
            type: "model_attributes_type",
            loc: ["body"],
            msg: "Input should be a valid dictionary or object to extract fields from (send Content-Type: application/json)",
            input: null,
          },
        ],
      });
    }
    if (request.valueReachedDatabase(error)) {
      return reply.code(422).send({
        detail: [{ type: "value_error", loc: [partOf(request)], msg: "A value is not valid for storage", input: null }],
      });
    }
    if (error.name === "ChangeNotYetInEffectError") {
      request.log.warn({ err: error }, "change committed, not in effect before the answer");
      return reply.code(503).header("Retry-After", "2").send({ detail: CHANGE_NOT_YET_IN_EFFECT });
    }
    if (isUnavailableError(error)) {
      request.log.error({ err: error }, "backing service unavailable");
      return reply
        .code(503)
        .header("Retry-After", "5")
        .send({ detail: "Service temporarily unavailable; please retry shortly" });
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply.code(status).send({ detail: STATUS_TEXT[status] ?? error.message });
    }
    request.log.error({ err: error }, "unhandled error");
    return reply.code(500).send({ detail: "Internal Server Error" });
  });
}
