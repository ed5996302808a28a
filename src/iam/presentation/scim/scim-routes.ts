/**
 * The SCIM 2.0 service provider (RFC 7643/7644) at `/scim/v2`, one encapsulated plugin: a tenant's
 * SCIM token authenticates every request (and works nowhere else), the tenant is the token's, and
 * every answer, errors included, is `application/scim+json`. Changes are made as the system actor
 * named by the token, so the audit log says which directory made them.
 *
 * Users only for now: `ResourceTypes` says so, and `/Groups` is a SCIM 404.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { setChangeActor } from "../../../shared-kernel/change-origin.js";
import type { DirectoryUserService } from "../../application/directory-user-service.js";
import type { ScimTokenService } from "../../application/scim-token-service.js";
import type { ScimTokenHolder } from "../../ports/scim-tokens.js";
import { SCIM_CONTENT_TYPE, ScimRequestError, invalidValue, sendScimError } from "./scim-error.js";
import { parseUserFilter } from "./scim-filter.js";
import { MAX_RESULTS, USER_SCHEMA, listResponse, serviceProviderConfig, userResourceType, userSchema } from "./scim-schemas.js";
import { patchedUser } from "./scim-user-patch.js";
import { etagOf, expectedVersionOf, scimUserOf, userInputOf } from "./scim-user-resource.js";

export const SCIM_PREFIX = "/scim/v2";

export interface ScimRoutesOptions {
  readonly tokens: ScimTokenService;
  readonly users: DirectoryUserService;
}

/** Large enough for a user with many emails; a SCIM body beyond it is a 413. */
const BODY_LIMIT = 256 * 1024;

const holders = new WeakMap<FastifyRequest, ScimTokenHolder>();

function holderOf(request: FastifyRequest): ScimTokenHolder {
  const holder = holders.get(request);
  if (holder === undefined) throw new Error("SCIM route reached without authentication");
  return holder;
}

function baseUrlOf(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}${SCIM_PREFIX}`;
}

const unauthenticated = (detail: string) => new ScimRequestError(401, detail, null, { "WWW-Authenticate": 'Bearer realm="scim"' });

async function authenticate(tokens: ScimTokenService, request: FastifyRequest): Promise<void> {
  const header = request.headers.authorization;
  const match = typeof header === "string" ? /^bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (match?.[1] === undefined) throw unauthenticated("Send the tenant's SCIM token as Authorization: Bearer <token>");
  const holder = await tokens.authenticate(match[1]);
  if (holder === null) throw unauthenticated("The SCIM token is not valid, or was revoked");
  holders.set(request, holder);
  setChangeActor({ type: "system", id: holder.tokenId, username: `scim:${holder.name}` });
}

function integerParameter(raw: unknown, name: string, fallback: number): number {
  if (raw === undefined || raw === "") return fallback;
  const value = typeof raw === "string" && /^-?\d{1,9}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(value)) throw invalidValue(`${name} must be an integer`);
  return value;
}

function send(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).type(SCIM_CONTENT_TYPE).send(body);
}

export const scimRoutes: FastifyPluginAsync<ScimRoutesOptions> = async (server, { tokens, users }) => {
  server.setErrorHandler(sendScimError);
  server.setNotFoundHandler((request, reply) =>
    sendScimError(new ScimRequestError(404, `No SCIM endpoint ${request.method} ${request.url.split("?")[0] ?? ""}`), request, reply),
  );
  // Directories send application/scim+json; application/json is Fastify's own.
  server.addContentTypeParser("application/scim+json", { parseAs: "string", bodyLimit: BODY_LIMIT }, (_request, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(new ScimRequestError(400, "The body is not valid JSON", "invalidSyntax"));
    }
  });
  server.addHook("onRequest", async (request) => authenticate(tokens, request));

  const routeOptions = { bodyLimit: BODY_LIMIT, schema: { hide: true } };

  server.get("/ServiceProviderConfig", routeOptions, async (request, reply) => send(reply, 200, serviceProviderConfig(baseUrlOf(request))));
  server.get("/ResourceTypes", routeOptions, async (request, reply) => send(reply, 200, listResponse([userResourceType(baseUrlOf(request))], 1, 1)));
  server.get<{ Params: { id: string } }>("/ResourceTypes/:id", routeOptions, async (request, reply) => {
    if (request.params.id !== "User") throw new ScimRequestError(404, `No resource type ${request.params.id}`);
    return send(reply, 200, userResourceType(baseUrlOf(request)));
  });
  server.get("/Schemas", routeOptions, async (request, reply) => send(reply, 200, listResponse([userSchema(baseUrlOf(request))], 1, 1)));
  server.get<{ Params: { id: string } }>("/Schemas/:id", routeOptions, async (request, reply) => {
    if (request.params.id !== USER_SCHEMA) throw new ScimRequestError(404, `No schema ${request.params.id}`);
    return send(reply, 200, userSchema(baseUrlOf(request)));
  });

  server.get<{ Querystring: Record<string, string | undefined> }>("/Users", routeOptions, async (request, reply) => {
    const filter = parseUserFilter(request.query["filter"]);
    // RFC 7644 §3.4.2.4: a startIndex below 1 counts as 1, a negative count as 0.
    const startIndex = Math.max(1, integerParameter(request.query["startIndex"], "startIndex", 1));
    const count = Math.min(MAX_RESULTS, Math.max(0, integerParameter(request.query["count"], "count", 100)));
    const baseUrl = baseUrlOf(request);
    const page = await users.list(holderOf(request).tenantId, filter, startIndex, count);
    return send(reply, 200, listResponse(page.users.map((user) => scimUserOf(user, baseUrl)), page.totalResults, startIndex));
  });

  server.post("/Users", routeOptions, async (request, reply) => {
    const created = await users.create(holderOf(request).tenantId, userInputOf(request.body));
    const resource = scimUserOf(created, baseUrlOf(request));
    return send(reply.header("Location", resource.meta.location).header("ETag", etagOf(created)), 201, resource);
  });

  server.get<{ Params: { id: string } }>("/Users/:id", routeOptions, async (request, reply) => {
    const user = await users.find(holderOf(request).tenantId, request.params.id);
    return send(reply.header("ETag", etagOf(user)), 200, scimUserOf(user, baseUrlOf(request)));
  });

  server.put<{ Params: { id: string } }>("/Users/:id", routeOptions, async (request, reply) => {
    const input = userInputOf(request.body);
    const expected = expectedVersionOf(request.headers["if-match"]);
    const changed = await users.change(holderOf(request).tenantId, request.params.id, () => input, expected);
    return send(reply.header("ETag", etagOf(changed)), 200, scimUserOf(changed, baseUrlOf(request)));
  });

  server.patch<{ Params: { id: string } }>("/Users/:id", routeOptions, async (request, reply) => {
    const baseUrl = baseUrlOf(request);
    const expected = expectedVersionOf(request.headers["if-match"]);
    const changed = await users.change(holderOf(request).tenantId, request.params.id, (current) => patchedUser(current, request.body, baseUrl), expected);
    return send(reply.header("ETag", etagOf(changed)), 200, scimUserOf(changed, baseUrl));
  });

  server.delete<{ Params: { id: string } }>("/Users/:id", routeOptions, async (request, reply) => {
    await users.delete(holderOf(request).tenantId, request.params.id, expectedVersionOf(request.headers["if-match"]));
    return reply.code(204).send();
  });
};
