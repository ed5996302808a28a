/**
 * The directory's view of a tenant's users, in one statement per read: the user row, the tenant
 * membership (which is what "active" means) and the directory's own record (`scim_users`).
 */
import { sql, type SQL } from "drizzle-orm";
import { queryRows, type Queryable } from "../../platform/database/database.js";
import { violates } from "../../platform/database/database-errors.js";
import { ConflictError } from "../domain/errors.js";
import { usernameTakenMessage } from "../domain/user.js";
import { currentChangeOrigin } from "../../shared-kernel/change-origin.js";
import { directoryProfileAuditEvents } from "./audit-entries.js";
import { recordAuditEvents } from "./audit-recording.js";
import type {
  CreatedRecord,
  DirectoryAccount,
  DirectoryProfile,
  DirectoryRecord,
  DirectoryUser,
  DirectoryUserAttributes,
  DirectoryUserPage,
  DirectoryUsers,
  UserFilter,
} from "../ports/directory-users.js";
import { USER_FILTER_ATTRIBUTES, type FilterableUserAttribute } from "../ports/directory-users.js";
import { filterSql, type FilterColumn } from "./directory-filter-sql.js";
import { dateOf, directoryPage } from "./directory-page.js";

/** When the user became visible to the directory, and when anything it shows last changed. */
const CREATED_SQL = sql.raw(`least(coalesce(s.created_at, m.created_at), coalesce(m.created_at, s.created_at))`);
const LAST_MODIFIED_SQL = sql.raw(`greatest(u.updated_at, coalesce(s.updated_at, u.updated_at), coalesce(m.created_at, u.updated_at))`);

const EXPRESSIONS: Record<Exclude<FilterableUserAttribute, "emails.value">, SQL> = {
  id: sql.raw("u.id"),
  userName: sql.raw("u.username"),
  externalId: sql.raw("s.external_id"),
  displayName: sql.raw("coalesce(s.attributes->>'displayName', u.name)"),
  "name.givenName": sql.raw("s.attributes->>'givenName'"),
  "name.familyName": sql.raw("s.attributes->>'familyName'"),
  active: sql.raw("(m.user_id IS NOT NULL)"),
  "meta.created": CREATED_SQL,
  "meta.lastModified": LAST_MODIFIED_SQL,
};

/** The columns of the view below (`u` users, `m` the tenant membership, `s` the directory's record). */
const USER_COLUMNS = Object.fromEntries(
  Object.entries(USER_FILTER_ATTRIBUTES).map(([attribute, kind]) => {
    if (attribute !== "emails.value") return [attribute, { kind, expression: EXPRESSIONS[attribute as keyof typeof EXPRESSIONS] }];
    // The user row's email, or any of the emails the directory sent.
    const anyValue = (matches: (value: SQL) => SQL) =>
      sql`(${matches(sql.raw("u.email"))} OR EXISTS (SELECT 1 FROM jsonb_to_recordset(coalesce(s.attributes->'emails', '[]'::jsonb)) AS e(value text) WHERE ${matches(sql.raw("e.value"))}))`;
    return [attribute, { kind, anyValue }];
  }),
) as Record<FilterableUserAttribute, FilterColumn>;

const USERNAME_UNIQUE = "uq_users_username_lower";

interface Row {
  readonly id: string;
  readonly username: string;
  readonly name: string | null;
  readonly email: string | null;
  readonly external_id: string | null;
  readonly attributes: DirectoryUserAttributes | null;
  readonly active: boolean;
  readonly created_at: Date | string;
  readonly last_modified: Date | string;
}


function toUser(row: Row): DirectoryUser {
  return {
    id: row.id,
    username: row.username,
    name: row.name,
    email: row.email,
    externalId: row.external_id,
    attributes: row.attributes ?? {},
    active: row.active,
    createdAt: dateOf(row.created_at),
    lastModified: dateOf(row.last_modified),
  };
}

/** The users the tenant's directory sees, with `condition` on top. */
function visibleUsers(tenantId: string, condition: SQL): SQL {
  return sql`SELECT u.id, u.username, u.name, u.email, s.external_id, s.attributes,
                    (m.user_id IS NOT NULL) AS active, ${CREATED_SQL} AS created_at, ${LAST_MODIFIED_SQL} AS last_modified
             FROM users u
             LEFT JOIN tenant_members m ON m.tenant_id = ${tenantId} AND m.user_id = u.id
             LEFT JOIN scim_users s ON s.tenant_id = ${tenantId} AND s.user_id = u.id
             WHERE (m.user_id IS NOT NULL OR (s.user_id IS NOT NULL AND s.deleted_at IS NULL)) AND ${condition}`;
}

export class DrizzleDirectoryUsers implements DirectoryUsers {
  constructor(
    private readonly db: Queryable,
    private readonly onAudited: (count: number) => void = () => undefined,
  ) {}

  async find(tenantId: string, userId: string): Promise<DirectoryUser | null> {
    const rows = await queryRows<Row>(this.db, visibleUsers(tenantId, sql`u.id = ${userId}`));
    return rows[0] === undefined ? null : toUser(rows[0]);
  }

  async list(tenantId: string, filter: UserFilter | null, startIndex: number, count: number): Promise<DirectoryUserPage> {
    const condition = filter === null ? sql.raw("true") : filterSql(filter, USER_COLUMNS);
    const page = await directoryPage<Row>(this.db, () => visibleUsers(tenantId, condition), startIndex, count);
    return { totalResults: page.total, users: page.rows.map(toUser) };
  }

  async findAccountIdByUsername(username: string): Promise<string | null> {
    const rows = await queryRows<{ id: string }>(
      this.db,
      sql`SELECT id FROM users WHERE lower(username) = ${username.toLowerCase()} ORDER BY created_at LIMIT 1`,
    );
    return rows[0]?.id ?? null;
  }

  async isWithdrawn(tenantId: string, userId: string): Promise<boolean> {
    const rows = await queryRows<{ withdrawn: boolean }>(
      this.db,
      sql`SELECT EXISTS (SELECT 1 FROM scim_users s WHERE s.tenant_id = ${tenantId} AND s.user_id = ${userId}
            AND NOT EXISTS (SELECT 1 FROM tenant_members m WHERE m.tenant_id = s.tenant_id AND m.user_id = s.user_id)) AS withdrawn`,
    );
    return rows[0]?.withdrawn === true;
  }

  async createAccountWithRecord(tenantId: string, id: string, profile: DirectoryProfile, record: DirectoryRecord): Promise<CreatedRecord | null> {
    // The NOT EXISTS also sees accounts whose clashing username was kept (outside the unique
    // index); ON CONFLICT covers a concurrent creation of the same username.
    const rows = await queryRows<{ attributes: DirectoryUserAttributes; created_at: Date | string }>(
      this.db,
      sql`WITH account AS (
            INSERT INTO users (id, username, name, email)
            SELECT ${id}, ${profile.username}, ${profile.name}, ${profile.email}
            WHERE NOT EXISTS (SELECT 1 FROM users WHERE lower(username) = ${profile.username.toLowerCase()})
            ON CONFLICT DO NOTHING
            RETURNING id
          )
          INSERT INTO scim_users (tenant_id, user_id, external_id, attributes)
          SELECT ${tenantId}, id, ${record.externalId}, ${JSON.stringify(record.attributes)}::jsonb FROM account
          RETURNING attributes, created_at`,
    );
    const row = rows[0];
    return row === undefined ? null : { attributes: row.attributes, createdAt: dateOf(row.created_at) };
  }

  async createAccount(id: string, profile: DirectoryProfile): Promise<void> {
    await this.writingAccount(
      profile.username,
      sql`INSERT INTO users (id, username, name, email) VALUES (${id}, ${profile.username}, ${profile.name}, ${profile.email})`,
    );
  }

  async findAccount(tenantId: string, userId: string): Promise<DirectoryAccount | null> {
    const rows = await queryRows<DirectoryProfile & { member_elsewhere: boolean }>(
      this.db,
      sql`SELECT u.username, u.name, u.email,
                 EXISTS (SELECT 1 FROM tenant_members m WHERE m.user_id = u.id AND m.tenant_id <> ${tenantId}) AS member_elsewhere
          FROM users u WHERE u.id = ${userId}`,
    );
    const row = rows[0];
    return row === undefined ? null : { profile: { username: row.username, name: row.name, email: row.email }, memberElsewhere: row.member_elsewhere };
  }

  async updateAccount(tenantId: string, id: string, profile: DirectoryProfile): Promise<void> {
    // `previous` reads the row as the statement found it, before its own UPDATE.
    const rows = await this.writingAccount(
      profile.username,
      sql`WITH previous AS (SELECT username, name, email FROM users WHERE id = ${id}),
          updated AS (
            UPDATE users SET username = ${profile.username}, name = ${profile.name}, email = ${profile.email}, updated_at = now(),
              username_clash_kept = username_clash_kept AND username = ${profile.username}
            WHERE id = ${id} AND (username, name, email) IS DISTINCT FROM (${profile.username}, ${profile.name}, ${profile.email})
            RETURNING id)
          SELECT previous.username, previous.name, previous.email FROM previous WHERE EXISTS (SELECT 1 FROM updated)`,
    );
    const previous = rows[0] as DirectoryProfile | undefined;
    if (previous === undefined) return;
    const audited = directoryProfileAuditEvents({ id, ...profile }, previous, tenantId, currentChangeOrigin(), new Date());
    await recordAuditEvents(this.db, audited);
    this.onAudited(audited.length);
  }

  async saveRecord(tenantId: string, userId: string, record: DirectoryRecord): Promise<void> {
    await queryRows(
      this.db,
      sql`INSERT INTO scim_users (tenant_id, user_id, external_id, attributes)
          VALUES (${tenantId}, ${userId}, ${record.externalId}, ${JSON.stringify(record.attributes)}::jsonb)
          ON CONFLICT (tenant_id, user_id) DO UPDATE SET external_id = excluded.external_id,
            attributes = excluded.attributes, deleted_at = NULL, updated_at = now()`,
    );
  }

  async markDeleted(tenantId: string, userId: string, at: Date): Promise<void> {
    await queryRows(
      this.db,
      sql`INSERT INTO scim_users (tenant_id, user_id, deleted_at) VALUES (${tenantId}, ${userId}, ${at.toISOString()}::timestamptz)
          ON CONFLICT (tenant_id, user_id) DO UPDATE SET deleted_at = excluded.deleted_at, updated_at = now()`,
    );
  }

  private async writingAccount(username: string, statement: SQL): Promise<unknown[]> {
    try {
      return await queryRows(this.db, statement);
    } catch (error) {
      if (violates(error, USERNAME_UNIQUE)) throw new ConflictError(usernameTakenMessage(username));
      throw error;
    }
  }
}
