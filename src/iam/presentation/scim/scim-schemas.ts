/**
 * SCIM discovery (RFC 7644 §4): what this service provider implements, and nothing more. Bulk,
 * sorting, password changes and attribute projection (but `excludedAttributes=members` on groups)
 * are not implemented, and these documents say so; a client that reads them can plan on exactly
 * what the endpoints do.
 */
export const USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User";
export const GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group";
export const LIST_RESPONSE_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
export const PATCH_OP_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const SERVICE_PROVIDER_CONFIG_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RESOURCE_TYPE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCHEMA_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/** Most users a list answers at once (`count` above it is lowered to it, as RFC 7644 §3.4.2.4 says). */
export const MAX_RESULTS = 1000;

export function serviceProviderConfig(baseUrl: string) {
  return {
    schemas: [SERVICE_PROVIDER_CONFIG_SCHEMA],
    documentationUri: `${baseUrl.replace(/\/scim\/v2$/, "")}/docs`,
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_RESULTS },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: "oauthbearertoken",
        name: "SCIM token",
        description: "A tenant's SCIM token (POST /iam/scim-tokens), sent as Authorization: Bearer <token>",
        primary: true,
      },
    ],
    meta: { resourceType: "ServiceProviderConfig", location: `${baseUrl}/ServiceProviderConfig` },
  };
}

export function userResourceType(baseUrl: string) {
  return {
    schemas: [RESOURCE_TYPE_SCHEMA],
    id: "User",
    name: "User",
    endpoint: "/Users",
    description: "A user of the tenant",
    schema: USER_SCHEMA,
    schemaExtensions: [],
    meta: { resourceType: "ResourceType", location: `${baseUrl}/ResourceTypes/User` },
  };
}

export function groupResourceType(baseUrl: string) {
  return {
    schemas: [RESOURCE_TYPE_SCHEMA],
    id: "Group",
    name: "Group",
    endpoint: "/Groups",
    description: "A group of the tenant that the directory owns; it can hold workspace roles",
    schema: GROUP_SCHEMA,
    schemaExtensions: [],
    meta: { resourceType: "ResourceType", location: `${baseUrl}/ResourceTypes/Group` },
  };
}

const attribute = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  type: "string",
  multiValued: false,
  required: false,
  caseExact: false,
  mutability: "readWrite",
  returned: "default",
  uniqueness: "none",
  ...extra,
});

export function userSchema(baseUrl: string) {
  return {
    schemas: [SCHEMA_SCHEMA],
    id: USER_SCHEMA,
    name: "User",
    description: "A user of the tenant. Only the attributes below are kept; others are ignored.",
    attributes: [
      attribute("id", { caseExact: true, mutability: "readOnly", returned: "always", uniqueness: "server" }),
      attribute("externalId", { caseExact: true }),
      attribute("userName", { required: true, returned: "always", uniqueness: "server", description: "The username; unique across the service, ignoring case" }),
      {
        ...attribute("name", { type: "complex" }),
        subAttributes: [attribute("formatted"), attribute("givenName"), attribute("familyName")],
      },
      attribute("displayName"),
      {
        ...attribute("emails", { type: "complex", multiValued: true }),
        subAttributes: [attribute("value"), attribute("type"), attribute("primary", { type: "boolean" })],
      },
      attribute("active", { type: "boolean", description: "Whether the user is a member of the tenant" }),
    ],
    meta: { resourceType: "Schema", location: `${baseUrl}/Schemas/${USER_SCHEMA}` },
  };
}

export function groupSchema(baseUrl: string) {
  return {
    schemas: [SCHEMA_SCHEMA],
    id: GROUP_SCHEMA,
    name: "Group",
    description: "A group of the tenant that the directory owns. Only the attributes below are kept.",
    attributes: [
      attribute("id", { caseExact: true, mutability: "readOnly", returned: "always", uniqueness: "server" }),
      attribute("externalId", { caseExact: true }),
      attribute("displayName", { required: true, uniqueness: "server", description: "The group's name; unique in the tenant" }),
      {
        ...attribute("members", { type: "complex", multiValued: true }),
        subAttributes: [
          attribute("value", { caseExact: true, description: "A user id of the tenant" }),
          attribute("display", { mutability: "readOnly" }),
          attribute("type", { mutability: "readOnly", canonicalValues: ["User"] }),
          attribute("$ref", { type: "reference", referenceTypes: ["User"], mutability: "readOnly" }),
        ],
      },
    ],
    meta: { resourceType: "Schema", location: `${baseUrl}/Schemas/${GROUP_SCHEMA}` },
  };
}

export function listResponse<T>(resources: readonly T[], totalResults: number, startIndex: number) {
  return { schemas: [LIST_RESPONSE_SCHEMA], totalResults, startIndex, itemsPerPage: resources.length, Resources: resources };
}
