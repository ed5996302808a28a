/** `POST /iam/api-keys`, `GET /iam/api-keys`, `DELETE /iam/api-keys/{api_key_id}` (contract 26–28). */
import { Type } from "typebox";
import type { HttpServer, RouteRegistrar } from "../../platform/http/http-server.js";
import { HttpError } from "../../platform/http/http-error.js";
import { normaliseUlid } from "../../shared-kernel/ids.js";
import type { ApiKeyService } from "../application/api-key-service.js";
import { DEFAULT_API_KEY_EXPIRY_DAYS, MAX_API_KEY_EXPIRY_DAYS, MIN_API_KEY_EXPIRY_DAYS, type ApiKey } from "../domain/api-key.js";
import { answering } from "./error-mapping.js";
import { callerOf } from "./request-context.js";
import { UserIdParameter, nameField, nameOr422, ulidParameter, userIdOr400 } from "./request-fields.js";
import { isoTimestamp } from "./timestamps.js";

const Detail = Type.Object({ detail: Type.Unknown() });
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
const ApiKeyCreatedResponse = Type.Object({ ...apiKeyFields, secret: Type.String() });

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
  { additionalProperties: false },
);

function apiKeyResponse(key: ApiKey) {
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

const security: { [scheme: string]: string[] }[] = [{ bearer: [] }, { apiKey: [] }];

export function apiKeyRoutes(apiKeys: ApiKeyService): RouteRegistrar {
  return (server: HttpServer) => {
    server.post(
      "/iam/api-keys",
      {
        config: { auth: "tenant" },
        schema: {
          tags: ["api-keys"],
          summary: "Create an API key in the current tenant (the secret is shown only in this answer)",
          description:
            "Needs a person's token: API keys cannot create API keys (403), so no key outlives the revocation of another.",
          security,
          body: CreateApiKeyBody,
          response: { 201: ApiKeyCreatedResponse, 403: Detail, 404: Detail, 409: Detail, 422: Detail },
        },
      },
      async (request, reply) => {
        const name = nameOr422("API key", request.body.name);
        const expiresInDays = request.body.expires_in_days ?? DEFAULT_API_KEY_EXPIRY_DAYS;
        const created = await answering(() =>
          apiKeys.create(callerOf(request), name, expiresInDays),
        );
        return reply.code(201).send({ ...apiKeyResponse(created.apiKey), secret: created.secret });
      },
    );

    server.get(
      "/iam/api-keys",
      {
        config: { auth: "tenant" },
        schema: {
          tags: ["api-keys"],
          summary: "List the API keys of the current tenant you may view (yours; all of them for tenant admins)",
          security,
          querystring: Type.Object({ user_id: Type.Optional(UserIdParameter) }),
          response: { 200: Type.Array(ApiKeyResponse), 400: Detail, 422: Detail },
        },
      },
      async (request) => {
        const raw = request.query.user_id;
        const userId = raw === undefined ? null : userIdOr400(raw, "Invalid user_id format: cannot be blank");
        const keys = await answering(() => apiKeys.list(callerOf(request), userId));
        return keys.map(apiKeyResponse);
      },
    );

    server.delete(
      "/iam/api-keys/:api_key_id",
      {
        config: { auth: "tenant" },
        schema: {
          tags: ["api-keys"],
          summary: "Revoke an API key (it stays listed, marked revoked)",
          security,
          params: Type.Object({ api_key_id: ulidParameter("API key") }),
          response: { 204: Type.Null(), 403: Detail, 404: Detail, 409: Detail, 422: Detail },
        },
      },
      async (request, reply) => {
        const apiKeyId = normaliseUlid(request.params.api_key_id);
        // A string detail, not the validation list: the reference's answer for this route.
        if (apiKeyId === null) throw new HttpError(422, "Invalid API key ID format");
        await answering(() => apiKeys.revoke(callerOf(request), apiKeyId));
        return reply.code(204).send(null);
      },
    );
  };
}
