/**
 * Fastify answers 404 for a known path with the wrong method; the contract says 405. This keeps
 * the registered routes as patterns and tells the two apart in the not-found handler.
 */
import type { FastifyInstance } from "fastify";

interface RoutePattern {
  readonly regex: RegExp;
  readonly methods: Set<string>;
}

function compile(url: string): RegExp {
  const escaped = url
    .split("/")
    .map((segment) =>
      segment.startsWith(":") ? "[^/]+" : segment === "*" ? ".*" : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
    )
    .join("/");
  // Exact: "/health/" is not "/health" (Fastify treats them as different routes, so a GET of
  // "/health/" is a 404, not a 405 naming GET as allowed).
  return new RegExp(`^${escaped}$`);
}

/**
 * Records the routes registered on `server` from now on (in its encapsulation context, and in the
 * plugins it registers); the answer says which methods a concrete path has, none for a path no
 * route matches. For not-found handlers that tell "no such path" (404) from "not this method" (405).
 */
export function methodsOfPaths(server: FastifyInstance): (path: string) => string[] {
  const patterns = new Map<string, RoutePattern>();
  server.addHook("onRoute", (route) => {
    // A catch-all (the CORS preflight route "*") says nothing about which paths exist.
    if (route.url === "*" || route.url === "/*") return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const existing = patterns.get(route.url) ?? { regex: compile(route.url), methods: new Set<string>() };
    for (const method of methods) existing.methods.add(method);
    patterns.set(route.url, existing);
  });
  return (path) => {
    const allowed = new Set<string>();
    for (const pattern of patterns.values()) {
      if (pattern.regex.test(path)) for (const method of pattern.methods) allowed.add(method);
    }
    return [...allowed].sort();
  };
}

export function installNotFoundHandling(server: FastifyInstance): void {
  const methodsOf = methodsOfPaths(server);
  server.setNotFoundHandler((request, reply) => {
    const allowed = methodsOf(request.url.split("?")[0] ?? "/");
    if (allowed.length > 0) {
      return reply.code(405).header("Allow", allowed.join(", ")).send({ detail: "Method Not Allowed" });
    }
    return reply.code(404).send({ detail: "Not Found" });
  });
}
