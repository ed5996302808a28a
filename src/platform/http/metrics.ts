import type { FastifyInstance } from "fastify";
import { Registry, collectDefaultMetrics } from "prom-client";
import { RequestDurationHistogram } from "./request-duration-histogram.js";

/** Prometheus metrics: process metrics plus request durations by route pattern and status. */
export function installMetrics(server: FastifyInstance): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const duration = new RequestDurationHistogram([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]);
  duration.register(registry);
  server.addHook("onResponse", (request, reply, done) => {
    // The route pattern, never the raw URL: IDs in paths would explode the label cardinality.
    duration.observe(request.method, request.routePattern, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  server.get("/metrics", { schema: { hide: true } }, async (_request, reply) => {
    reply.header("Content-Type", registry.contentType);
    return registry.metrics();
  });
  return registry;
}
