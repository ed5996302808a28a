/**
 * A per-client limit on failed authentications (every 401: bad or expired tokens, malformed or
 * unknown API keys), with @fastify/rate-limit's counters, keyed by the client's address. Once a
 * client has failed `limit` times in the window, every request it makes to an authenticated route
 * is answered 429, with `Retry-After`, until the window ends, before any token is verified or key
 * looked up; successes count nothing. Counters live in each process (a cluster of n processes
 * allows n times the limit). The IAM API and the SCIM service share one count: a client cannot
 * guess SCIM tokens once it has used up its failures on API keys, nor the other way round.
 */
import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { HttpError } from "../../../platform/http/http-error.js";
import type { AuthFailureLimitConfig } from "../../../platform/config/config.js";

export interface FailedAuthenticationLimit {
  /** 429 for a client that has no failures left; called before authenticating. */
  refuseIfExhausted(request: FastifyRequest): Promise<void>;
  /** Counts a failure; 429 instead of the 401 once the client has none left. */
  recordFailure<Failure extends Error>(request: FastifyRequest, failure: Failure): Promise<Failure | HttpError>;
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

function tooMany(ttlInSeconds: number): HttpError {
  const seconds = Math.max(1, ttlInSeconds);
  return new HttpError(429, `Too many failed authentication attempts; retry in ${seconds} seconds`, { "Retry-After": String(seconds) });
}

export async function installFailedAuthenticationLimit(
  server: FastifyInstance,
  settings: AuthFailureLimitConfig,
): Promise<FailedAuthenticationLimit> {
  if (settings.limit === 0) {
    return { refuseIfExhausted: async () => undefined, recordFailure: async (_request, failure) => failure };
  }
  // Registered without routes of its own (global: false): only the calls below count.
  await server.register(rateLimit, { global: false });
  const limiter = server.createRateLimit({
    max: settings.limit,
    timeWindow: settings.windowSeconds * 1000,
    ...(settings.exemptLoopback ? { allowList: (request: FastifyRequest) => LOOPBACK.test(request.ip) } : {}),
  });
  return {
    async refuseIfExhausted(request) {
      const state = await limiter(request, { increment: false });
      // A peek counts the failures so far: `limit` of them leave none.
      if (!state.isAllowed && state.remaining === 0) throw tooMany(state.ttlInSeconds);
    },
    async recordFailure(request, failure) {
      const state = await limiter(request);
      if (state.isAllowed) return failure;
      // Past the limit only when concurrent requests all passed the peek.
      if (state.isExceeded) return tooMany(state.ttlInSeconds);
      if (state.remaining === 0) request.log.warn({ client: state.key, limit: settings.limit }, "client used up its failed authentications");
      return failure;
    },
  };
}
