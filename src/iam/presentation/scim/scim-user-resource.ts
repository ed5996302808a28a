/**
 * A directory user as a SCIM User resource (RFC 7643 §4.1), and a SCIM User body as what the
 * directory user service takes. Only the attributes this service keeps are read; the others (an
 * enterprise extension, phone numbers, ...) are ignored, as RFC 7644 §3.3 lets a provider do.
 */
import { versionOf, type DirectoryUserInput } from "../../application/directory-user-service.js";
import type { DirectoryUser, DirectoryUserAttributes } from "../../ports/directory-users.js";
import { isoTimestamp } from "../timestamps.js";
import { invalidValue } from "./scim-error.js";
import { field, isObject, namesSchema } from "./scim-body.js";
import { USER_SCHEMA } from "./scim-schemas.js";
import { USER_PATCH_SCHEMA, patched } from "./scim-patch.js";

export type ScimUser = ReturnType<typeof scimUserOf>;

export function etagOf(user: DirectoryUser): string {
  return `W/"${versionOf(user)}"`;
}

/** The version an If-Match header names, or null without one (`*` matches any version). */
export function expectedVersionOf(ifMatch: string | undefined): string | null {
  if (ifMatch === undefined || ifMatch.trim() === "*") return null;
  return /^(?:W\/)?"([^"]*)"$/.exec(ifMatch.trim())?.[1] ?? ifMatch.trim();
}

export function scimUserOf(user: DirectoryUser, baseUrl: string) {
  const kept = user.attributes;
  const name: Record<string, string> = {};
  if (kept.givenName !== undefined) name["givenName"] = kept.givenName;
  if (kept.familyName !== undefined) name["familyName"] = kept.familyName;
  // The user row is the truth: a sign-in may have changed the name or email since the directory wrote them.
  const keptPrimary = (kept.emails?.find((email) => email.primary === true) ?? kept.emails?.[0])?.value ?? null;
  const emails = keptPrimary === user.email ? (kept.emails ?? []) : user.email === null ? [] : [{ value: user.email, primary: true }];
  if (user.name !== null) name["formatted"] = kept.formatted ?? user.name;
  return {
    schemas: [USER_SCHEMA],
    id: user.id,
    ...(user.externalId === null ? {} : { externalId: user.externalId }),
    userName: user.username,
    ...(Object.keys(name).length === 0 ? {} : { name }),
    ...(user.name === null && kept.displayName === undefined ? {} : { displayName: kept.displayName ?? user.name }),
    ...(emails.length === 0 ? {} : { emails }),
    active: user.active,
    meta: {
      resourceType: "User",
      created: isoTimestamp(user.createdAt),
      lastModified: isoTimestamp(user.lastModified),
      location: `${baseUrl}/Users/${encodeURIComponent(user.id)}`,
      version: etagOf(user),
    },
  };
}


function optionalString(body: Record<string, unknown>, name: string, label = name): string | undefined {
  const value = field(body, name);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw invalidValue(`${label} must be a string`);
  return value;
}

/** Entra ID sends booleans as "True" and "False" in PATCH values. */
function booleanOf(value: unknown, label: string): boolean {
  if (typeof value === "boolean") return value;
  if (typeof value === "string" && /^(true|false)$/i.test(value)) return value.toLowerCase() === "true";
  throw invalidValue(`${label} must be true or false`);
}

function emailsOf(value: unknown): DirectoryUserAttributes["emails"] {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw invalidValue("emails must be an array of {value, type, primary}");
  return value.map((entry, index) => {
    if (!isObject(entry)) throw invalidValue(`emails[${index}] must be an object`);
    const address = optionalString(entry, "value", `emails[${index}].value`);
    if (address === undefined || address.trim() === "") throw invalidValue(`emails[${index}].value must not be empty`);
    const type = optionalString(entry, "type", `emails[${index}].type`);
    const primary = field(entry, "primary");
    return {
      value: address.trim(),
      ...(type === undefined ? {} : { type }),
      ...(primary === undefined || primary === null ? {} : { primary: booleanOf(primary, `emails[${index}].primary`) }),
    };
  });
}

/** A SCIM User body (POST, PUT, or the result of a PATCH) as the service's input. */
export function userInputOf(body: unknown): DirectoryUserInput {
  if (!isObject(body)) throw invalidValue("The body must be a SCIM User object");
  if (!namesSchema(body, USER_SCHEMA)) {
    throw invalidValue(`schemas must include "${USER_SCHEMA}"`);
  }
  const username = optionalString(body, "userName");
  if (username === undefined || username.trim() === "") throw invalidValue("userName is required");
  const name = field(body, "name");
  if (name !== undefined && name !== null && !isObject(name)) throw invalidValue("name must be an object");
  const nameParts = isObject(name) ? name : {};
  const active = field(body, "active");
  const attributes: DirectoryUserAttributes = {
    ...definedOnly({
      givenName: optionalString(nameParts, "givenName", "name.givenName"),
      familyName: optionalString(nameParts, "familyName", "name.familyName"),
      formatted: optionalString(nameParts, "formatted", "name.formatted"),
      displayName: optionalString(body, "displayName"),
      emails: emailsOf(field(body, "emails")),
    }),
  };
  return {
    username: username.trim(),
    externalId: optionalString(body, "externalId") ?? null,
    active: active === undefined || active === null ? true : booleanOf(active, "active"),
    attributes,
  };
}

function definedOnly<T extends Record<string, unknown>>(record: T): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** What the PATCH body makes of the user; throws a SCIM error for a body that cannot apply. */
export function patchedUser(current: DirectoryUser, body: unknown, baseUrl: string): DirectoryUserInput {
  return userInputOf(patched(scimUserOf(current, baseUrl), body, USER_PATCH_SCHEMA));
}
