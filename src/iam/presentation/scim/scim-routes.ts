/**
 * The SCIM 2.0 service provider (RFC 7643/7644) at `/scim/v2`, one encapsulated plugin: a tenant's
 * SCIM token authenticates every request (and works nowhere else), the tenant is the token's, and
 * every answer, errors included, is `application/scim+json`. Changes are made as the system actor
 * named by the token, so the audit log says which directory made them.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { setChangeActor } from "../../../shared-kernel/change-origin.js";
import { storableJsonParser } from "../../../platform/http/storable-text.js";
import { HttpError } from "../../../platform/http/http-error.js";
import { methodsOfPaths } from "../../../platform/http/method-not-allowed.js";
import type { ErrorShape } from "../../../platform/http/framework-errors.js";
import type { DirectoryUserService } from "../../application/directory-user-service.js";
import type { DirectoryGroupService } from "../../application/directory-group-service.js";
import { GROUP_FILTER_ATTRIBUTES } from "../../ports/directory-groups.js";
import { groupEtagOf, groupInputOf, patchedGroup, scimGroupOf } from "./scim-group-resource.js";
import type { ScimTokenService } from "../../application/scim-token-service.js";
import type { ScimTokenHolder } from "../../ports/scim-tokens.js";
import type { FailedAuthenticationLimit } from "../auth/failed-authentication-limit.js";
import { SCIM_CONTENT_TYPE, ScimRequestError, scimErrorBody, sendScimError } from "./scim-error.js";
import { parseFilter } from "./scim-filter.js";
import { excludesMembers, pageOf, queryParameter, type ScimQuery } from "./scim-query.js";
import { USER_FILTER_ATTRIBUTES } from "../../ports/directory-users.js";
import {
  GROUP_SCHEMA,
  USER_SCHEMA,
  groupResourceType,
  groupSchema,
  listResponse,
  serviceProviderConfig,
  userResourceType,
  userSchema,
} from "./scim-schemas.js";
import { etagOf, expectedVersionOf, patchedUser, scimUserOf, userInputOf } from "./scim-user-resource.js";

export const SCIM_PREFIX = "/scim/v2";

/** SCIM's error body, for the refusals the server makes before routing (a URL not percent-encoded, an over-long id). */
export const SCIM_ERROR_SHAPE: ErrorShape = {
  prefix: SCIM_PREFIX,
  contentType: SCIM_CONTENT_TYPE,
  body: (status, detail) => scimErrorBody(new ScimRequestError(status, detail)),
};

export interface ScimRoutesOptions {
  readonly tokens: ScimTokenService;
  readonly users: DirectoryUserService;
  readonly groups: DirectoryGroupService;
  /** The IAM API's limit on failed authentications: a wrong SCIM token counts as a failure. */
  readonly failureLimit: FailedAuthenticationLimit;
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

async function authenticate(tokens: ScimTokenService, limit: FailedAuthenticationLimit, request: FastifyRequest): Promise<void> {
  await limit.refuseIfExhausted(request);
  const header = request.headers.authorization;
  const match = typeof header === "string" ? /^bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (match?.[1] === undefined) {
    throw await limit.recordFailure(request, unauthenticated("Send the tenant's SCIM token as Authorization: Bearer <token>"));
  }
  const holder = await tokens.authenticate(match[1]);
  if (holder === null) throw await limit.recordFailure(request, unauthenticated("The SCIM token is not valid, or was revoked"));
  holders.set(request, holder);
  setChangeActor({ type: "system", id: holder.tokenId, username: `scim:${holder.name}` });
}

function send(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).type(SCIM_CONTENT_TYPE).send(body);
}

export const scimRoutes: FastifyPluginAsync<ScimRoutesOptions> = async (server, { tokens, users, groups, failureLimit }) => {
  server.setErrorHandler(sendScimError);
  // Registered before the routes, to see them: a known path asked with another method is a 405.
  const methodsOf = methodsOfPaths(server);
  server.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0] ?? "";
    const allowed = methodsOf(path);
    const refusal =
      allowed.length > 0
        ? new ScimRequestError(405, `${request.method} is not supported on ${path}; it takes ${allowed.join(", ")}`, null, { Allow: allowed.join(", ") })
        : new ScimRequestError(404, `No SCIM endpoint ${request.method} ${path}`);
    return sendScimError(refusal, request, reply);
  });
  // Directories send application/scim+json; application/json is Fastify's own.
  // Parsed as the server parses JSON: prototype poisoning refused, and text PostgreSQL cannot store.
  const parseJson = storableJsonParser(server);
  server.addContentTypeParser("application/scim+json", { parseAs: "string", bodyLimit: BODY_LIMIT }, (request, body, done) =>
    parseJson(request, body, (error, value) => {
      if (error !== null && !(error instanceof HttpError)) {
        return done(new ScimRequestError(400, "The body is not valid JSON", "invalidSyntax"));
      }
      done(error, value);
    }),
  );
  server.addHook("onRequest", async (request) => authenticate(tokens, failureLimit, request));
  // Refusals made before this plugin's handlers run (the server's own request checks, a shutdown)
  // carry the IAM API's {"detail"} body: a SCIM client gets them as SCIM errors too.
  server.addHook("onSend", async (_request, reply, payload) => {
    if (reply.statusCode < 400 || typeof payload !== "string") return payload;
    let body: unknown;
    try {
      body = JSON.parse(payload);
    } catch {
      return payload;
    }
    if (typeof body !== "object" || body === null || "schemas" in body || !("detail" in body)) return payload;
    const detail = (body as { detail: unknown }).detail;
    reply.type(SCIM_CONTENT_TYPE);
    return JSON.stringify(SCIM_ERROR_SHAPE.body(reply.statusCode, typeof detail === "string" ? detail : "The request was refused"));
  });

  const routeOptions = { bodyLimit: BODY_LIMIT, schema: { hide: true } };

  server.get("/ServiceProviderConfig", routeOptions, async (request, reply) => send(reply, 200, serviceProviderConfig(baseUrlOf(request))));
  const resourceTypes = { User: userResourceType, Group: groupResourceType } as const;
  const schemas = { [USER_SCHEMA]: userSchema, [GROUP_SCHEMA]: groupSchema } as const;
  server.get("/ResourceTypes", routeOptions, async (request, reply) => {
    const all = Object.values(resourceTypes).map((document) => document(baseUrlOf(request)));
    return send(reply, 200, listResponse(all, all.length, 1));
  });
  server.get<{ Params: { id: string } }>("/ResourceTypes/:id", routeOptions, async (request, reply) => {
    const document = Object.hasOwn(resourceTypes, request.params.id) ? resourceTypes[request.params.id as keyof typeof resourceTypes] : undefined;
    if (document === undefined) throw new ScimRequestError(404, `No resource type ${request.params.id}`);
    return send(reply, 200, document(baseUrlOf(request)));
  });
  server.get("/Schemas", routeOptions, async (request, reply) => {
    const all = Object.values(schemas).map((document) => document(baseUrlOf(request)));
    return send(reply, 200, listResponse(all, all.length, 1));
  });
  server.get<{ Params: { id: string } }>("/Schemas/:id", routeOptions, async (request, reply) => {
    const document = Object.hasOwn(schemas, request.params.id) ? schemas[request.params.id as keyof typeof schemas] : undefined;
    if (document === undefined) throw new ScimRequestError(404, `No schema ${request.params.id}`);
    return send(reply, 200, document(baseUrlOf(request)));
  });

  server.get<{ Querystring: ScimQuery }>("/Users", routeOptions, async (request, reply) => {
    const filter = parseFilter(queryParameter(request.query, "filter", "invalidFilter"), { schema: USER_SCHEMA, attributes: USER_FILTER_ATTRIBUTES, valueOf: { emails: "emails.value" } });
    const { startIndex, count } = pageOf(request.query);
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

  server.get<{ Querystring: ScimQuery }>("/Groups", routeOptions, async (request, reply) => {
    const filter = parseFilter(queryParameter(request.query, "filter", "invalidFilter"), { schema: GROUP_SCHEMA, attributes: GROUP_FILTER_ATTRIBUTES, valueOf: { members: "members.value" } });
    const { startIndex, count } = pageOf(request.query);
    const withMembers = !excludesMembers(request.query);
    const baseUrl = baseUrlOf(request);
    const page = await groups.list(holderOf(request).tenantId, filter, startIndex, count, withMembers);
    return send(reply, 200, listResponse(page.groups.map((group) => scimGroupOf(group, baseUrl, withMembers)), page.totalResults, startIndex));
  });

  server.post("/Groups", routeOptions, async (request, reply) => {
    const created = await groups.create(holderOf(request).tenantId, groupInputOf(request.body));
    const resource = scimGroupOf(created, baseUrlOf(request));
    return send(reply.header("Location", resource.meta.location).header("ETag", groupEtagOf(created)), 201, resource);
  });

  server.get<{ Params: { id: string }; Querystring: ScimQuery }>("/Groups/:id", routeOptions, async (request, reply) => {
    const withMembers = !excludesMembers(request.query);
    const group = await groups.find(holderOf(request).tenantId, request.params.id, withMembers);
    const resource = scimGroupOf(group, baseUrlOf(request), withMembers);
    return send(withMembers ? reply.header("ETag", groupEtagOf(group)) : reply, 200, resource);
  });

  server.put<{ Params: { id: string } }>("/Groups/:id", routeOptions, async (request, reply) => {
    const input = groupInputOf(request.body);
    const expected = expectedVersionOf(request.headers["if-match"]);
    const changed = await groups.change(holderOf(request).tenantId, request.params.id, () => input, expected);
    return send(reply.header("ETag", groupEtagOf(changed)), 200, scimGroupOf(changed, baseUrlOf(request)));
  });

  server.patch<{ Params: { id: string } }>("/Groups/:id", routeOptions, async (request, reply) => {
    const baseUrl = baseUrlOf(request);
    const expected = expectedVersionOf(request.headers["if-match"]);
    const changed = await groups.change(holderOf(request).tenantId, request.params.id, (current) => patchedGroup(current, request.body, baseUrl), expected);
    return send(reply.header("ETag", groupEtagOf(changed)), 200, scimGroupOf(changed, baseUrl));
  });

  server.delete<{ Params: { id: string } }>("/Groups/:id", routeOptions, async (request, reply) => {
    await groups.delete(holderOf(request).tenantId, request.params.id);
    return reply.code(204).send();
  });
};
