/**
 * A directory group as a SCIM Group resource (RFC 7643 §4.2), and a SCIM Group body as what the
 * directory group service takes. Members are users (`value` is the user id); other attributes are
 * ignored, as for users.
 */
import { groupVersionOf, type DirectoryGroupInput } from "../../application/directory-group-service.js";
import type { DirectoryGroup } from "../../ports/directory-groups.js";
import { isoTimestamp } from "../timestamps.js";
import { invalidValue } from "./scim-error.js";
import { field, isObject, namesSchema } from "./scim-body.js";
import { GROUP_PATCH_SCHEMA, patched } from "./scim-patch.js";
import { GROUP_SCHEMA } from "./scim-schemas.js";

export function groupEtagOf(group: DirectoryGroup): string {
  return `W/"${groupVersionOf(group)}"`;
}

/** `withMembers` false: the list was asked with `excludedAttributes=members`. */
export function scimGroupOf(group: DirectoryGroup, baseUrl: string, withMembers = true) {
  return {
    schemas: [GROUP_SCHEMA],
    id: group.id,
    ...(group.externalId === null ? {} : { externalId: group.externalId }),
    displayName: group.name,
    ...(withMembers
      ? {
          members: group.members.map((member) => ({
            value: member.id,
            display: member.username,
            type: "User",
            $ref: `${baseUrl}/Users/${encodeURIComponent(member.id)}`,
          })),
        }
      : {}),
    meta: {
      resourceType: "Group",
      created: isoTimestamp(group.createdAt),
      lastModified: isoTimestamp(group.lastModified),
      location: `${baseUrl}/Groups/${encodeURIComponent(group.id)}`,
      ...(withMembers ? { version: groupEtagOf(group) } : {}),
    },
  };
}


/** A SCIM Group body (POST, PUT, or the result of a PATCH) as the service's input. */
export function groupInputOf(body: unknown): DirectoryGroupInput {
  if (!isObject(body)) throw invalidValue("The body must be a SCIM Group object");
  if (!namesSchema(body, GROUP_SCHEMA)) {
    throw invalidValue(`schemas must include "${GROUP_SCHEMA}"`);
  }
  const name = field(body, "displayName");
  if (typeof name !== "string" || name.trim() === "") throw invalidValue("displayName is required");
  const externalId = field(body, "externalId");
  if (externalId !== undefined && externalId !== null && typeof externalId !== "string") throw invalidValue("externalId must be a string");
  const members = field(body, "members") ?? [];
  if (!Array.isArray(members)) throw invalidValue("members must be an array of {value}");
  const memberIds = members.map((member, index) => {
    const value = isObject(member) ? field(member, "value") : undefined;
    if (typeof value !== "string" || value.trim() === "") throw invalidValue(`members[${index}].value must be a user id`);
    return value.trim();
  });
  return { name, externalId: typeof externalId === "string" ? externalId : null, memberIds };
}

/**
 * Entra ID removes members as `{"op": "Remove", "path": "members", "value": [{"value": "<id>"}]}`:
 * the members named by value, whatever else the entries carry. Rewritten as one
 * `members[value eq "<id>"]` removal each, which is what it means.
 */
function withMemberRemovalsByValue(body: unknown): unknown {
  if (!isObject(body) || !Array.isArray(body["Operations"])) return body;
  const operations = (body["Operations"] as unknown[]).flatMap((operation) => {
    if (!isObject(operation) || typeof operation["op"] !== "string" || operation["op"].toLowerCase() !== "remove") return [operation];
    if (typeof operation["path"] !== "string" || operation["path"].trim().toLowerCase() !== "members" || !Array.isArray(operation["value"])) {
      return [operation];
    }
    return (operation["value"] as unknown[]).map((entry, index) => {
      const value = isObject(entry) ? entry["value"] : undefined;
      if (typeof value !== "string") throw invalidValue(`members to remove must name each member by value (entry ${index})`);
      return { op: "remove", path: `members[value eq ${JSON.stringify(value)}]` };
    });
  });
  return { ...body, Operations: operations };
}

/** What the PATCH body makes of the group; throws a SCIM error for a body that cannot apply. */
export function patchedGroup(current: DirectoryGroup, body: unknown, baseUrl: string): DirectoryGroupInput {
  return groupInputOf(patched(scimGroupOf(current, baseUrl), withMemberRemovalsByValue(body), GROUP_PATCH_SCHEMA));
}
