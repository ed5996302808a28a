/** `POST /iam/api-keys`, `GET /iam/api-keys`, `DELETE /iam/api-keys/{api_key_id}` (contract 26–28). */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { HttpError } from "../../platform/http/http-error.js";
import { normaliseUlid } from "../../shared-kernel/ids.js";
import type { ApiKeyService } from "../application/api-key-service.js";
import { DEFAULT_API_KEY_EXPIRY_DAYS, MAX_API_KEY_EXPIRY_DAYS, MIN_API_KEY_EXPIRY_DAYS, type ApiKeyState } from "../domain/api-key.js";
import { EXAMPLE } from "./examples.js";
import { callerOf, observationOf } from "./request-context.js";
import { UserIdParameter, nameField, nameOr422, ulidParameter, userIdOr400 } from "./request-fields.js";
import { errors, noContent, tenantScoped } from "./route-contract.js";
import { isoTimestamp } from "./timestamps.js";

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

const apiKeyFields = {
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String(),
  created_by_user_id: Type.String(),
  created_at: Type.String(),
  expires_at: Type.String(),
  last_used_at: Nullable(Type.String()),
  is_revoked: Type.Boolean(),
};
const ApiKeyResponse = Type.Object(apiKeyFields);

const CreateApiKeyBody = Type.Object(
  {
    name: nameField("API key"),
    expires_in_days: Type.Optional(
      // No schema `default`: Ajv would write it into the body, and 422s echo the body as sent.
      Type.Integer({
        minimum: MIN_API_KEY_EXPIRY_DAYS,
        maximum: MAX_API_KEY_EXPIRY_DAYS,
        description: `Days until the key expires (default ${DEFAULT_API_KEY_EXPIRY_DAYS})`,
      }),
    ),
  },
  // A misspelt field (`expire_in_days`) is refused rather than silently ignored.
  { additionalProperties: false, examples: [{ name: "ci-deploy", expires_in_days: 90 }] },
);

function apiKeyResponse(key: ApiKeyState) {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    created_by_user_id: key.createdByUserId,
    created_at: isoTimestamp(key.createdAt),
    expires_at: isoTimestamp(key.expiresAt),
    last_used_at: key.lastUsedAt === null ? null : isoTimestamp(key.lastUsedAt),
    is_revoked: key.revokedAt !== null,
  };
}

const apiKeyExample = {
  id: EXAMPLE.apiKeyId,
  name: "ci-deploy",
  prefix: "karto_Xb3kQ9",
  created_by_user_id: EXAMPLE.userId,
  created_at: EXAMPLE.createdAt,
  expires_at: EXAMPLE.expiresAt,
  last_used_at: null,
  is_revoked: false,
};

const tags = ["api-keys"];

export const apiKeyRoutes: FastifyPluginAsyncTypebox<{ service: ApiKeyService }> = async (server, { service: apiKeys }) => {
  server.post(
    "/iam/api-keys",
    tenantScoped({
      operationId: "createApiKey",
      tags,
      summary: "Create an API key in the current tenant (the secret is shown only in this answer)",
      description:
        "Needs a person's token: API keys cannot create API keys (403), so no key outlives the revocation of another. " +
        "The key acts as its creator, in this tenant only, until it expires or is revoked. Send it as `X-API-Key`.",
      body: CreateApiKeyBody,
      response: {
        201: Type.Object(
          { ...apiKeyFields, secret: Type.String() },
          { description: "Created; `secret` is not shown again", examples: [{ ...apiKeyExample, secret: "karto_Xb3kQ9vT2mW8rL5nJ1pZ7yC4hF6dG0sA3eK9uB2xNq4" }] },
        ),
        ...errors(404, 409, 422),
      },
    }),
    async (request, reply) => {
      const name = nameOr422("API key", request.body.name);
      const expiresInDays = request.body.expires_in_days ?? DEFAULT_API_KEY_EXPIRY_DAYS;
      const created = await apiKeys.create(callerOf(request), name, expiresInDays, observationOf(request));
      return reply.code(201).send({ ...apiKeyResponse(created.apiKey), secret: created.secret });
    },
  );

  server.get(
    "/iam/api-keys",
    tenantScoped({
      operationId: "listApiKeys",
      tags,
      summary: "List the API keys of the current tenant you may view",
      description: "Yours; all of them for tenant admins. Revoked and expired keys stay listed. `user_id` narrows to one creator's keys.",
      querystring: Type.Object({ user_id: Type.Optional(UserIdParameter) }),
      response: {
        200: Type.Array(ApiKeyResponse, { description: "The keys, without their secrets", examples: [[apiKeyExample]] }),
        ...errors(422),
      },
    }),
    async (request) => {
      const raw = request.query.user_id;
      const userId = raw === undefined ? null : userIdOr400(raw, "Invalid user_id format: cannot be blank");
      const keys = await apiKeys.list(callerOf(request), userId);
      return keys.map(apiKeyResponse);
    },
  );

  server.delete(
    "/iam/api-keys/:api_key_id",
    tenantScoped({
      operationId: "revokeApiKey",
      tags,
      summary: "Revoke an API key (it stays listed, marked revoked)",
      description: "Its creator or a tenant admin. 409 when it is already revoked; a malformed id is 422, as in the reference.",
      params: Type.Object({ api_key_id: ulidParameter("API key") }),
      response: { 204: noContent("Revoked"), ...errors(404, 409, 422) },
    }),
    async (request, reply) => {
      const apiKeyId = normaliseUlid(request.params.api_key_id);
      // A string detail, not the validation list: the reference's answer for this route.
      if (apiKeyId === null) throw new HttpError(422, "Invalid API key ID format");
      await apiKeys.revoke(callerOf(request), apiKeyId, observationOf(request));
      return reply.code(204).send(null);
    },
  );
};
