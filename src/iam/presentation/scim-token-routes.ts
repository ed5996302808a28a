/** `POST /iam/scim-tokens`, `GET /iam/scim-tokens`, `DELETE /iam/scim-tokens/{scim_token_id}`: a tenant's directory credentials. */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { HttpError } from "../../platform/http/http-error.js";
import { normaliseUlid } from "../../shared-kernel/ids.js";
import type { ScimTokenService } from "../application/scim-token-service.js";
import type { ScimToken } from "../ports/scim-tokens.js";
import { EXAMPLE } from "./examples.js";
import { callerOf } from "./request-context.js";
import { nameField, nameOr422, ulidParameter } from "./request-fields.js";
import { errors, noContent, tenantScoped } from "./route-contract.js";
import { isoTimestamp } from "./timestamps.js";

const tokenFields = {
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String(),
  created_by_user_id: Type.String(),
  created_at: Type.String(),
  revoked_at: Type.Union([Type.String(), Type.Null()]),
};

function tokenResponse(token: ScimToken) {
  return {
    id: token.id,
    name: token.name,
    prefix: token.prefix,
    created_by_user_id: token.createdByUserId,
    created_at: isoTimestamp(token.createdAt),
    revoked_at: token.revokedAt === null ? null : isoTimestamp(token.revokedAt),
  };
}

const example = {
  id: EXAMPLE.apiKeyId,
  name: "okta",
  prefix: "kscim_Q2xv8T",
  created_by_user_id: EXAMPLE.userId,
  created_at: EXAMPLE.createdAt,
  revoked_at: null,
};

const tags = ["scim-tokens"];
const ADMINS_ONLY = "Tenant admins only, with a person's token (an API key gets 403).";

export const scimTokenRoutes: FastifyPluginAsyncTypebox<{ service: ScimTokenService }> = async (server, { service }) => {
  server.post(
    "/iam/scim-tokens",
    tenantScoped({
      operationId: "createScimToken",
      tags,
      summary: "Create a SCIM token for the current tenant's directory (the secret is shown only in this answer)",
      description: `${ADMINS_ONLY} The identity provider sends it as \`Authorization: Bearer\` to \`/scim/v2\`, and it works nowhere else. A name another live token of the tenant has is a 409.`,
      body: Type.Object({ name: nameField("SCIM token") }, { additionalProperties: false, examples: [{ name: "okta" }] }),
      response: {
        201: Type.Object(
          { ...tokenFields, secret: Type.String() },
          { description: "Created; `secret` is not shown again", examples: [{ ...example, secret: "kscim_Q2xv8TmW8rL5nJ1pZ7yC4hF6dG0sA3eK9uB2xNq4abc" }] },
        ),
        ...errors(403, 404, 409, 422),
      },
    }),
    async (request, reply) => {
      const created = await service.create(callerOf(request), nameOr422("SCIM token", request.body.name));
      return reply.code(201).send({ ...tokenResponse(created.token), secret: created.secret });
    },
  );

  server.get(
    "/iam/scim-tokens",
    tenantScoped({
      operationId: "listScimTokens",
      tags,
      summary: "List the current tenant's SCIM tokens, newest first (revoked ones included)",
      description: ADMINS_ONLY,
      response: { 200: Type.Array(Type.Object(tokenFields), { description: "The tokens, without their secrets", examples: [[example]] }), ...errors(403, 404) },
    }),
    async (request) => (await service.list(callerOf(request))).map(tokenResponse),
  );

  server.delete(
    "/iam/scim-tokens/:scim_token_id",
    tenantScoped({
      operationId: "revokeScimToken",
      tags,
      summary: "Revoke a SCIM token (at once; it stays listed, with revoked_at)",
      description: `${ADMINS_ONLY} Revoking a revoked token again is a success.`,
      params: Type.Object({ scim_token_id: ulidParameter("SCIM token") }),
      response: { 204: noContent("Revoked"), ...errors(403, 404, 422) },
    }),
    async (request, reply) => {
      const id = normaliseUlid(request.params.scim_token_id);
      if (id === null) throw new HttpError(422, "Invalid SCIM token ID format");
      await service.revoke(callerOf(request), id);
      return reply.code(204).send(null);
    },
  );
};
