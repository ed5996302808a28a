import { and, asc, eq, ilike, inArray, or, sql } from "drizzle-orm";
import { queryRows, type Queryable } from "../../platform/database/database.js";
import { violates } from "../../platform/database/database-errors.js";
import { tenantInvitations, tenantMembers, users } from "../../platform/database/schema.js";
import { ConflictError } from "../domain/errors.js";
import { usernameTakenMessage, type UserProfile } from "../domain/user.js";
import type { NewAuditEvent } from "../../platform/audit/audit-event.js";
import { currentChangeOrigin } from "../../shared-kernel/change-origin.js";
import { userAuditEvents } from "./audit-entries.js";
import { recordAuditEvents } from "./audit-recording.js";
import type { KeptUsernameClash, ProvisionOutcome, Provisioned, UserRepository } from "../ports/user-repository.js";
import { pinReadsToPrimary } from "../../platform/database/replica/read-scope.js";

interface ProvisionRow {
  readonly inserted: boolean | null;
  readonly invited: boolean;
  readonly previous: { username: string; name: string | null; email: string | null } | null;
  readonly member_of: string[];
}

/** Usernames are unique ignoring case (accounts kept from before the rule aside). */
const USERNAME_UNIQUE = "uq_users_username_lower";

const profileColumns = { id: users.id, username: users.username, name: users.name, email: users.email };

/** `%`, `_` and the escape character itself match only themselves (PostgreSQL's LIKE escape is `\`). */
function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
}

export class DrizzleUserRepository implements UserRepository {
  constructor(
    private readonly db: Queryable,
    private readonly options: { readonly onAudited?: (count: number) => void } = {},
  ) {}

  /**
   * One transaction: the upsert, whether an invitation waits, and the audit events of a new or
   * changed user. Unchanged claims write nothing (no row version, no WAL, no lock held).
   */
  async provision(profile: UserProfile, invitationEmail: string | null): Promise<Provisioned> {
    const invited =
      invitationEmail === null
        ? sql`false`
        : sql`EXISTS (SELECT 1 FROM ${tenantInvitations} WHERE ${tenantInvitations.email} = ${invitationEmail})`;
    let audited: readonly NewAuditEvent[] = [];
    try {
      const provisioned = await this.db.transaction(async (tx) => {
        const rows = await queryRows<ProvisionRow>(
          tx,
          // Every part of the statement sees the row as it was before the upsert: `previous` is
          // the profile the change replaced.
          sql`WITH previous AS (
                SELECT ${users.username} AS username, ${users.name} AS name, ${users.email} AS email
                FROM ${users} WHERE ${users.id} = ${profile.id}),
              provisioned AS (
                INSERT INTO ${users} (id, username, name, email)
                VALUES (${profile.id}, ${profile.username}, ${profile.name}, ${profile.email})
                ON CONFLICT (id) DO UPDATE SET
                  username = excluded.username, name = excluded.name, email = excluded.email, updated_at = now(),
                  -- An account kept with a clashing username keeps that exemption only while it keeps the name.
                  username_clash_kept = ${users.usernameClashKept} AND ${users.username} = excluded.username
                WHERE ${users.username} IS DISTINCT FROM excluded.username
                   OR ${users.name} IS DISTINCT FROM excluded.name
                   OR ${users.email} IS DISTINCT FROM excluded.email
                -- xmax is 0 on a freshly inserted row version and non-zero on an updated one.
                RETURNING (xmax = 0) AS inserted)
              SELECT (SELECT inserted FROM provisioned) AS inserted, ${invited} AS invited,
                     (SELECT to_jsonb(previous) FROM previous) AS previous,
                     (SELECT coalesce(jsonb_agg(${tenantMembers.tenantId} ORDER BY ${tenantMembers.tenantId}), '[]'::jsonb)
                      FROM ${tenantMembers} WHERE ${tenantMembers.userId} = ${profile.id}) AS member_of`,
        );
        const row = rows[0];
        const inserted = row?.inserted ?? null;
        if (inserted !== null) {
          const previous = inserted ? null : (row?.previous ?? null);
          audited = userAuditEvents(profile, previous, row?.member_of ?? [], currentChangeOrigin(), new Date());
          await recordAuditEvents(tx, audited);
        }
        const outcome: ProvisionOutcome = inserted === null ? "unchanged" : inserted ? "created" : "updated";
        return { outcome, invited: row?.invited === true };
      });
      if (audited.length > 0) this.options.onAudited?.(audited.length);
      // A first sign-in is often a GET: the rest of it must read the account it just wrote.
      if (provisioned.outcome !== "unchanged") pinReadsToPrimary();
      return provisioned;
    } catch (error) {
      if (violates(error, USERNAME_UNIQUE)) throw new ConflictError(usernameTakenMessage(profile.username));
      throw error;
    }
  }

  async userIdOfSubject(subject: string, username: string): Promise<string> {
    const rows = await queryRows<{ id: string | null; candidate: string | null }>(
      this.db,
      sql`WITH linked AS (SELECT user_id FROM user_subjects WHERE subject = ${subject}),
          candidate AS (
            SELECT u.id FROM users u
            WHERE lower(u.username) = ${username.toLowerCase()} AND u.id <> ${subject}
              -- Only an account a directory created: its record was written in the transaction that
              -- made the account, so both took that transaction's now(). An account someone signed
              -- in to first, which a directory adopted (or renamed) later, is never handed to
              -- another subject.
              AND EXISTS (SELECT 1 FROM scim_users s WHERE s.user_id = u.id AND s.created_at = u.created_at)
              AND NOT EXISTS (SELECT 1 FROM user_subjects l WHERE l.user_id = u.id)
              AND NOT EXISTS (SELECT 1 FROM users own WHERE own.id = ${subject})
              AND NOT EXISTS (SELECT 1 FROM linked)
            ORDER BY u.created_at LIMIT 1),
          inserted AS (
            INSERT INTO user_subjects (subject, user_id) SELECT ${subject}, id FROM candidate
            ON CONFLICT DO NOTHING RETURNING user_id)
          SELECT coalesce((SELECT user_id FROM linked), (SELECT user_id FROM inserted)) AS id,
                 (SELECT id FROM candidate) AS candidate`,
    );
    const row = rows[0];
    if (row?.id != null) return row.id;
    if (row?.candidate == null) return subject;
    // A concurrent first request linked the subject (or linked the account to another subject):
    // its insert has committed by now, and a new statement sees which.
    const linked = await queryRows<{ user_id: string }>(this.db, sql`SELECT user_id FROM user_subjects WHERE subject = ${subject}`);
    return linked[0]?.user_id ?? subject;
  }

  async findById(id: string): Promise<UserProfile | null> {
    const rows = await this.db.select(profileColumns).from(users).where(eq(users.id, id));
    return rows[0] ?? null;
  }

  async findTenantMembersByIds(tenantId: string, ids: readonly string[]): Promise<UserProfile[]> {
    if (ids.length === 0) return [];
    return this.db
      .select(profileColumns)
      .from(users)
      .innerJoin(tenantMembers, and(eq(tenantMembers.userId, users.id), eq(tenantMembers.tenantId, tenantId)))
      // The ids on both sides: each table is then read by its key, whatever the planner believes
      // of their sizes (with statistics older than a bulk provisioning, PGlite hash-joined the
      // tenant's whole member list: 2.8 ms for a group of 20).
      .where(and(inArray(users.id, [...ids]), inArray(tenantMembers.userId, [...ids])))
      .orderBy(asc(users.username));
  }

  async searchTenantMembers(tenantId: string, text: string, limit: number): Promise<UserProfile[]> {
    const pattern = containsPattern(text);
    return this.db
      .select(profileColumns)
      .from(users)
      .innerJoin(tenantMembers, and(eq(tenantMembers.userId, users.id), eq(tenantMembers.tenantId, tenantId)))
      .where(or(ilike(users.username, pattern), ilike(users.name, pattern), ilike(users.email, pattern)))
      .orderBy(asc(users.username))
      .limit(limit);
  }

  async keptUsernameClashes(): Promise<KeptUsernameClash[]> {
    return this.db
      .select({ id: users.id, username: users.username })
      .from(users)
      .where(eq(users.usernameClashKept, true))
      .orderBy(asc(users.username), asc(users.id));
  }
}
