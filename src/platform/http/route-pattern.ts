/**
 * The route pattern of a request ("/iam/workspaces/:workspaceId", or "unmatched"), read once when
 * the request arrives. Fastify's `request.routeOptions` builds a fresh object on every read, and
 * the access log, the metrics and other hooks all want the pattern.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";

declare module "fastify" {
  interface FastifyRequest {
    /** The matched route's pattern, never the raw URL; "unmatched" for unknown paths. */
    routePattern: string;
  }
}

export const UNMATCHED_ROUTE = "unmatched";

export function installRoutePattern(server: FastifyInstance): void {
  server.decorateRequest("routePattern", UNMATCHED_ROUTE);
}

/** Called by the server's one onRequest hook, before anything reads the pattern. */
export function recordRoutePattern(request: FastifyRequest): void {
  request.routePattern = request.routeOptions.url ?? UNMATCHED_ROUTE;
}
