/**
 * Object ids as the authorization engine stores them: part of the port's contract, because the
 * door (request fields, token claims) must refuse the few ids no encoding can fit. SpiceDB's
 * adapter (platform/spicedb/spicedb-authorization.ts) applies the encoding.
 *
 * SpiceDB accepts ids matching `[a-zA-Z0-9/_|\-=+]+` (or `*`, its wildcard) of at most 1024
 * bytes; OIDC subjects often hold `.`, `:` or `@` (`john.doe@example.com`, Keycloak's
 * `f:<provider>:<user>`). Every id goes through here on its way into SpiceDB and back, in that one
 * adapter, so the translator, the derivation, reconcile and every check agree without knowing.
 *
 * The encoding is reversible and collision-free:
 * - an id made only of SpiceDB's characters other than `|` is stored as it is, so every ULID and
 *   every plain subject (what SpiceDB already holds) keeps its stored form and nothing migrates;
 * - any other id is stored as `|` followed by the base64url of its UTF-8 bytes (no padding).
 * Stored-as-is ids never contain `|` and base64url never produces it, so no two ids share a
 * stored form. A subject that is literally `*` is encoded too: it never becomes the wildcard.
 */

/** SpiceDB's object id alphabet, without `|` (which marks an encoded id). */
const STORED_AS_IS = /^[a-zA-Z0-9/_\-=+]+$/;
const ENCODED_MARK = "|";
/** SpiceDB's limit on an object id, in bytes (for reference; MAX_OBJECT_ID_UTF8_BYTES follows from it). */
export const SPICEDB_MAX_OBJECT_ID_BYTES = 1024;

export function toSpiceDbObjectId(id: string): string {
  if (STORED_AS_IS.test(id)) return id;
  return ENCODED_MARK + Buffer.from(id, "utf8").toString("base64url");
}

export function fromSpiceDbObjectId(stored: string): string {
  if (!stored.startsWith(ENCODED_MARK)) return stored;
  return Buffer.from(stored.slice(ENCODED_MARK.length), "base64url").toString("utf8");
}

/**
 * The most UTF-8 bytes an id may have so that its encoded form fits SpiceDB's 1024 bytes
 * (1 + ceil(4n/3) <= 1024). Ids of up to 255 characters exceed it only when most of their
 * characters take three or four bytes (ideographs, emoji); such ids are refused at the door.
 */
export const MAX_OBJECT_ID_UTF8_BYTES = 767;

/** Whether the authorization engine can hold `id` (once encoded). */
export function isStorableObjectId(id: string): boolean {
  return id.length > 0 && Buffer.byteLength(id, "utf8") <= MAX_OBJECT_ID_UTF8_BYTES;
}
