/**
 * Answers for requests refused before any route runs, in the service's `{"detail": ...}` shape.
 * Fastify and Node's HTTP parser otherwise answer these with bodies of their own making
 * (`{"error", "code", "message", "statusCode"}`), which echo the raw URL and break clients that
 * read `detail`.
 */
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";

/**
 * An API under a path prefix whose clients read errors in a shape of their own (SCIM's error body
 * as application/scim+json): the refusals before routing are written in it there too, since no
 * handler or hook of that API runs for them.
 */
export interface ErrorShape {
  readonly prefix: string;
  readonly contentType: string;
  body(status: number, detail: string): unknown;
}

function shapeOf(url: string, shapes: readonly ErrorShape[]): ErrorShape | undefined {
  return shapes.find(({ prefix }) => url.startsWith(prefix) && /^(?:[/?]|$)/.test(url.slice(prefix.length)));
}

/**
 * Fastify's `frameworkErrors` option: a malformed URL, an over-long path parameter. No hook runs
 * for these requests, so the access-log line is written here.
 */
export function frameworkErrorAnswer(shapes: readonly ErrorShape[]) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    const { status, detail } = FRAMEWORK_ERRORS[error.code] ?? { status: 500, detail: "Internal Server Error" };
    if (status === 500) request.log.error({ err: error }, "request refused by the framework");
    const shape = shapeOf(request.url, shapes);
    reply.code(status).header("X-Request-ID", request.id);
    if (shape === undefined) reply.send({ detail });
    else reply.type(shape.contentType).send(shape.body(status, detail));
    // The route is unknown before routing; the raw URL stays out of the log, as for every request.
    request.log.info({ method: request.method, route: "unmatched", status }, "request completed");
  };
}

const FRAMEWORK_ERRORS: Record<string, { status: number; detail: string }> = {
  FST_ERR_BAD_URL: { status: 400, detail: "The URL is not valid: a part of it is not correctly percent-encoded" },
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, detail: "URI Too Long: a path parameter exceeds the allowed length" },
};

const CLIENT_ERRORS: Record<string, { status: number; detail: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, detail: "Request header fields are too large" },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, detail: "Request Timeout" },
};

/**
 * Node's `clientError`: a request the HTTP parser refused (headers too large, malformed request
 * line, timeout). The socket gets one JSON answer, then closes, as Node's own handler does.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  if (!socket.writable) {
    socket.destroy(error);
    return;
  }
  const { status, detail } = CLIENT_ERRORS[error.code ?? ""] ?? { status: 400, detail: "Bad Request: the request is not valid HTTP" };
  const body = JSON.stringify({ detail });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\n` +
      "Content-Type: application/json; charset=utf-8\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      "Connection: close\r\n\r\n" +
      body,
  );
}
