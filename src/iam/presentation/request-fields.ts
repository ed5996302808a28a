/**
 * The fields requests carry, declared once for every route: their schemas, with the limits the
 * storage holds (validation and OpenAPI from one source; an over-long value is a 422 naming the
 * field and the limit), and the parsing routes apply after the schema: ULIDs in any case, user
 * ids trimmed, emails normalised, names by the domain's name rule.
 */
import { Type } from "typebox";
import { HttpError, validationError } from "../../platform/http/http-error.js";
import { normaliseUlid } from "../../shared-kernel/ids.js";
import { MAX_IDS_PER_LOOKUP } from "../application/user-service.js";
import { InvalidNameError, NAME_MAX_LENGTH, nameOf, type NamedKind } from "../domain/names.js";
import { GROUP_ROLES, MEMBER_TYPES, TENANT_ROLES, WORKSPACE_ROLES } from "../domain/roles.js";
import { MAX_USER_FIELD_LENGTH } from "../domain/user.js";
import { MAX_OBJECT_ID_UTF8_BYTES, isStorableObjectId } from "../../shared-kernel/authorization/object-ids.js";

export const ULID_LENGTH = 26;
/** User ids, emails and search terms: the users table holds 255 characters of each. */
export const USER_ID_MAX_LENGTH = MAX_USER_FIELD_LENGTH;
export const EMAIL_MAX_LENGTH = MAX_USER_FIELD_LENGTH;
/** A search term longer than the fields it is matched against can match nothing. */
export const SEARCH_MAX_LENGTH = MAX_USER_FIELD_LENGTH;
/** The most ids a look-up takes, each at its longest, with their commas. */
export const IDS_MAX_LENGTH = MAX_IDS_PER_LOOKUP * (USER_ID_MAX_LENGTH + 1);

export const INVALID_USER_ID = "Invalid user ID format";

// Schemas -------------------------------------------------------------------------------------

/** A ULID in a path: any case. Malformed ones get each route's own 400. */
export function ulidParameter(what: string) {
  return Type.String({ maxLength: ULID_LENGTH, description: `${what} ULID (26 characters, any case)` });
}

export function ulidField(description: string) {
  return Type.String({ minLength: ULID_LENGTH, maxLength: ULID_LENGTH, description: `${description} (26 characters, any case)` });
}

/** A user id in a path or query: the identity provider's subject, trimmed; blank is a 400. */
export const UserIdParameter = Type.String({
  maxLength: USER_ID_MAX_LENGTH,
  description: `User id (the identity provider's subject), at most ${USER_ID_MAX_LENGTH} characters`,
});

export const UserIdField = Type.String({
  minLength: 1,
  maxLength: USER_ID_MAX_LENGTH,
  description: `User id (the identity provider's subject), at most ${USER_ID_MAX_LENGTH} characters`,
});

/** A workspace member: a user id, or a group's ULID. */
export const MemberIdParameter = Type.String({
  maxLength: USER_ID_MAX_LENGTH,
  description: `User id, or group ULID; at most ${USER_ID_MAX_LENGTH} characters`,
});

export const MemberIdField = Type.String({
  minLength: 1,
  maxLength: USER_ID_MAX_LENGTH,
  description: `User id, or group ULID; at most ${USER_ID_MAX_LENGTH} characters`,
});

export const EmailField = Type.String({
  maxLength: EMAIL_MAX_LENGTH,
  description: "Matched case-insensitively among the tenant's members; blank counts as absent",
});

export function nameField(kind: NamedKind) {
  return Type.String({
    minLength: 1,
    maxLength: NAME_MAX_LENGTH[kind],
    description: `1-${NAME_MAX_LENGTH[kind]} characters after trimming; no control, bidi or invisible characters`,
  });
}

export const IdsQuery = Type.String({
  maxLength: IDS_MAX_LENGTH,
  description: `Comma-separated user ids, at most ${MAX_IDS_PER_LOOKUP}, each at most ${USER_ID_MAX_LENGTH} characters`,
});

export const SearchQuery = Type.String({
  maxLength: SEARCH_MAX_LENGTH,
  description: "Case-insensitive substring of the username, name or email",
});

export const TenantRoleField = Type.Enum([...TENANT_ROLES]);
export const WorkspaceRoleField = Type.Enum([...WORKSPACE_ROLES]);
export const GroupRoleField = Type.Enum([...GROUP_ROLES]);
export const MemberTypeField = Type.Enum([...MEMBER_TYPES]);

// Parsing after the schema ---------------------------------------------------------------------

/** A ULID from a path or body, in any case, upper-cased; otherwise 400 with `message`. */
export function ulidOr400(value: string, message: string): string {
  const id = normaliseUlid(value);
  if (id === null) throw new HttpError(400, message);
  return id;
}

/**
 * The one parser of user ids: every user id a request names (body, path or query, also a
 * workspace's `member_id`) passes here, with one rule set: the schema has bounded its length; it is
 * trimmed; blank, or more than SpiceDB can store, is a 400. Only the message differs by route,
 * as the contract words it.
 */
export function userIdOr400(raw: string, message = INVALID_USER_ID): string {
  const id = raw.trim();
  if (id === "") throw new HttpError(400, message);
  if (!isStorableObjectId(id)) {
    throw new HttpError(400, `${message}: a user ID may hold at most ${MAX_OBJECT_ID_UTF8_BYTES} bytes of UTF-8`);
  }
  return id;
}

/** A workspace member's id (a user id, or a group's ULID, which the service resolves): the user-id rule. */
export function memberIdOr400(raw: string): string {
  return userIdOr400(raw, "member_id cannot be empty");
}

/** A blank email counts as absent; otherwise it is trimmed and lower-cased. */
export function emailOf(email: string | null | undefined): string | null {
  const trimmed = email?.trim().toLowerCase() ?? "";
  return trimmed === "" ? null : trimmed;
}

/** The name as stored (the domain's rule); a name that breaks it is a 422 on the body field. */
export function nameOr422(kind: NamedKind, raw: string, field = "name"): string {
  try {
    return nameOf(kind, raw);
  } catch (error) {
    if (!(error instanceof InvalidNameError)) throw error;
    const loc = ["body", field];
    if (error.problem.kind === "too_long") {
      const max = error.problem.max;
      throw validationError([
        { type: "string_too_long", loc, msg: `String should have at most ${max} characters`, input: raw, ctx: { max_length: max } },
      ]);
    }
    throw validationError([{ type: "value_error", loc, msg: `Value error, ${error.message}`, input: raw, ctx: { error: {} } }]);
  }
}
