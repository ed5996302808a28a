/**
 * Assembles the Fastify server: request ids, error and not-found handling, CORS, metrics,
 * OpenAPI and docs, health routes, and the feature routes handed in by the caller.
 */
import { randomUUID } from "node:crypto";
import cors from "@fastify/cors";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { IncomingMessage, ServerResponse } from "node:http";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RawServerDefault, LogController } from "fastify";
import type { Registry } from "prom-client";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { Logger } from "../logging/logger.js";
import { installErrorHandling } from "./error-handler.js";
import { answerClientError, frameworkErrorAnswer, type ErrorShape } from "./framework-errors.js";
import { registerHealthRoutes, type HealthChecks } from "./health-routes.js";
import { installMetricsRoute, RequestMetrics } from "./metrics.js";
import { installNotFoundHandling } from "./method-not-allowed.js";
import { installParameterCoercion } from "./parameter-coercion.js";
import { installRoutePattern, recordRoutePattern } from "./route-pattern.js";
import { installStorableTextCheck, NUL_IN_URL_DETAIL, urlHasNul } from "./storable-text.js";
import { SYSTEM_ACTOR, withChangeOrigin } from "../../shared-kernel/change-origin.js";

/** The server as routes see it: TypeBox schemas give request and reply types. */
export type HttpServer = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;
export type RouteRegistrar = (server: HttpServer) => void | Promise<void>;

export interface HttpServerOptions {
  readonly logger: Logger;
  readonly corsOrigins: readonly string[];
  readonly health: HealthChecks;
  readonly routes?: readonly RouteRegistrar[];
  readonly version?: string;
  /** The process's metrics registry, which /metrics renders along with the request metrics. */
  readonly metrics?: Registry;
  /** Time a client has to send a whole request, headers and body (default 30 s; tests shorten it). */
  readonly requestTimeoutMs?: number;
  /** Fastify's `trustProxy`: which proxies' X-Forwarded-For names the client (default: none). */
  readonly trustProxy?: boolean | number | readonly string[];
  /** APIs whose error bodies differ from `{"detail"}` (SCIM's), for the refusals before routing. */
  readonly errorShapes?: readonly ErrorShape[];
}

/** Request bodies above this are refused with 413 before they are read. */
export const BODY_LIMIT_BYTES = 1024 * 1024;
/**
 * A request must arrive whole within this time, or the connection is answered 408 and closed:
 * without it (Fastify's default), a client that trickles a large body holds a connection and
 * its buffers for ever. 30 s carries the 1 MiB body limit at 280 kbit/s.
 */
export const REQUEST_TIMEOUT_MS = 30_000;

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** A hop count trusts that many proxies nearest the service (what Fastify's number form does). */
function trustProxyOption(trust: HttpServerOptions["trustProxy"]): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof trust === "number") return (_address, hop) => hop < trust;
  return typeof trust === "object" ? [...trust] : (trust ?? false);
}

/** Routes that infrastructure polls rather than users call. */
function isProbeRoute(route: string): boolean {
  return route === "/metrics" || route === "/health" || route.startsWith("/health/");
}

export async function buildHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const requestTimeout = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const server = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // A path parameter longer than this (in characters) is answered 414 by the router, before any
    // hook or database look-up; ids are far shorter. Header sizes are Node's limit, not this.
    routerOptions: { maxParamLength: 600 },
    // Refusals before routing (bad URL encoding, over-long parameters, unparsable HTTP) keep our
    // JSON shape instead of Fastify's and Node's own.
    frameworkErrors: frameworkErrorAnswer(options.errorShapes ?? []),
    clientErrorHandler: answerClientError,
    bodyLimit: BODY_LIMIT_BYTES,
    requestTimeout,
    // Node checks for expired requests every 30 s by default, which would let a slow client keep
    // its connection for up to twice the timeout; headers get no longer than the whole request.
    http: { headersTimeout: requestTimeout, connectionsCheckingInterval: Math.min(1_000, requestTimeout / 4) },
    requestIdHeader: false,
    trustProxy: trustProxyOption(options.trustProxy),
    genReqId: (request) => {
      const incoming = request.headers["x-request-id"];
      return typeof incoming === "string" && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
    },
    // One access-log line per request (below) instead of Fastify's two.
    // The request id goes under the key the service's own records use: one key finds all of a
    // request's lines.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: "request_id" }),
    // Fastify's own 503 while closing has a body of its own making; ours below says {"detail": ...}.
    return503OnClosing: false,
    forceCloseConnections: "idle",
    ajv: {
      customOptions: {
        // Wrong JSON types are errors, as in pydantic: "5" is not an integer and 5 is not a string.
        coerceTypes: false,
        removeAdditional: false,
        allErrors: true,
      },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Requests that reach a closing server (a keep-alive connection still in use) are turned away
  // so that the load balancer retries them elsewhere; the ones already running finish.
  let closing = false;
  server.addHook("preClose", async () => {
    closing = true;
  });
  installRoutePattern(server);
  const metrics = new RequestMetrics(options.metrics);
  // One hook per phase, in callback style: each hook run and each promise costs on every request.
  server.addHook("onRequest", (request, reply, done) => {
    recordRoutePattern(request);
    reply.header("X-Request-ID", request.id);
    if (urlHasNul(request.url)) return void reply.code(400).send({ detail: NUL_IN_URL_DETAIL });
    // Everything the request does runs in its change-origin scope: the audit log's "from where".
    // The actor is named once authentication knows it.
    const userAgent = request.headers["user-agent"] ?? null;
    if (!closing) return withChangeOrigin({ actor: SYSTEM_ACTOR, requestId: request.id, ip: request.ip, userAgent }, done);
    reply.code(503).header("Connection", "close").header("Retry-After", "1").send({ detail: "Service Unavailable: shutting down" });
  });

  server.addHook("onResponse", (request, reply, done) => {
    metrics.observe(request, reply);
    // Probes (health, metrics) are polled every few seconds by every load balancer and scraper;
    // their access lines would drown the log, so they are written at debug level only.
    const route = request.routePattern;
    const fields = {
      method: request.method,
      route,
      status: reply.statusCode,
      duration_ms: Math.round(reply.elapsedTime * 100) / 100,
    };
    if (isProbeRoute(route) && reply.statusCode < 400) request.log.debug(fields, "request completed");
    else request.log.info(fields, "request completed");
    done();
  });

  installErrorHandling(server, metrics);
  installStorableTextCheck(server);
  installNotFoundHandling(server);
  installParameterCoercion(server);

  if (options.corsOrigins.length > 0) {
    const allowed = new Set(options.corsOrigins);
    await server.register(cors, {
      // A function rather than a list: for any other origin the plugin then adds no CORS header
      // at all (with a list it still sends Allow-Credentials and the exposed headers).
      origin: (origin, done) => done(null, origin !== undefined && allowed.has(origin) ? origin : false),
      credentials: true,
      methods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
      exposedHeaders: ["Content-Length", "Content-Type", "X-Request-ID"],
      maxAge: 600,
    });
  }

  await server.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Kartograph IAM",
        description:
          "Tenants, workspaces, groups, users and API keys, with relationship-based authorization by SpiceDB.",
        version: options.version ?? "0.1.0",
      },
      components: {
        securitySchemes: {
          bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
          apiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
        },
      },
    },
  });
  await server.register(swaggerUi, { routePrefix: "/docs" });

  installMetricsRoute(server, metrics);
  registerHealthRoutes(server, options.health);
  for (const register of options.routes ?? []) await register(server);

  server.get("/openapi.json", { schema: { hide: true } }, async () => server.swagger());
  return server;
}
