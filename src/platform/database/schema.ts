/**
 * The whole IAM data model (Drizzle). PostgreSQL is the source of truth for every IAM fact,
 * memberships included; SpiceDB only indexes what these tables say.
 *
 * Foreign keys from aggregates to their tenant are RESTRICT: a tenant can only disappear through
 * the application, which deletes its children itself and so records the events that clean SpiceDB.
 * Member rows belong to their aggregate and go with it (CASCADE); the aggregate's deletion event
 * carries a snapshot of them.
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  varchar,
} from "drizzle-orm/pg-core";

const ulid = (name: string) => varchar(name, { length: 26 });
const userIdColumn = (name: string) => varchar(name, { length: 255 });
const utc = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });
const createdAt = () => utc("created_at").notNull().defaultNow();
const updatedAt = () => utc("updated_at").notNull().defaultNow();

/**
 * Tenant names are unique per creator only: a global rule would tell anyone who tries a name that
 * another customer uses it. Tenants without a creator (the default tenant, tenants created before
 * creators were recorded) are not constrained. The default tenant of single-tenant mode is found
 * by its marker, never by name.
 */
export const tenants = pgTable(
  "tenants",
  {
    id: ulid("id").primaryKey(),
    name: varchar("name", { length: 255 }).notNull(),
    // No foreign key: a record of who created the tenant (users are never deleted), and an insert
    // need not lock the user's row.
    createdByUserId: userIdColumn("created_by_user_id"),
    isDefault: boolean("is_default").notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("uq_tenants_creator_name").on(t.createdByUserId, t.name),
    uniqueIndex("uq_tenants_one_default").on(t.isDefault).where(sql`${t.isDefault}`),
  ],
);

export const users = pgTable(
  "users",
  {
    id: userIdColumn("id").primaryKey(),
    username: varchar("username", { length: 255 }).notNull(),
    name: varchar("name", { length: 255 }),
    email: varchar("email", { length: 255 }),
    /**
     * True for an account whose username differed only in case from an older account's when
     * usernames became case-insensitive (the "tenancy" migration): both were kept, and the newer one is
     * exempt from the rule until its username changes. Start-up lists them in the log.
     */
    usernameClashKept: boolean("username_clash_kept").notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // Usernames are unique ignoring case, like emails; stored as the identity provider gives them.
    uniqueIndex("uq_users_username_lower").on(sql`lower(${t.username})`).where(sql`NOT ${t.usernameClashKept}`),
    // The unique index is partial, so it serves no look-up by username (SCIM's `userName eq`); this one does.
    index("ix_users_username_lookup").on(sql`lower(${t.username})`),
    // Email look-ups (member add by email) are case-insensitive.
    index("ix_users_email_lower").on(sql`lower(${t.email})`),
  ],
);

export const workspaces = pgTable(
  "workspaces",
  {
    id: ulid("id").primaryKey(),
    tenantId: ulid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "restrict" }),
    name: varchar("name", { length: 512 }).notNull(),
    parentWorkspaceId: ulid("parent_workspace_id"),
    isRoot: boolean("is_root").notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    foreignKey({ name: "fk_workspaces_parent", columns: [t.parentWorkspaceId], foreignColumns: [t.id] }).onDelete(
      "restrict",
    ),
    uniqueIndex("uq_workspaces_tenant_name").on(t.tenantId, t.name),
    uniqueIndex("uq_workspaces_one_root_per_tenant").on(t.tenantId).where(sql`${t.isRoot}`),
    index("ix_workspaces_parent").on(t.parentWorkspaceId),
    check(
      "ck_workspaces_root_has_no_parent",
      sql`(${t.isRoot} AND ${t.parentWorkspaceId} IS NULL) OR (NOT ${t.isRoot} AND ${t.parentWorkspaceId} IS NOT NULL)`,
    ),
  ],
);

export const groups = pgTable(
  "groups",
  {
    id: ulid("id").primaryKey(),
    tenantId: ulid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "restrict" }),
    name: varchar("name", { length: 255 }).notNull(),
    /**
     * Created by the tenant's directory (SCIM): its members are the directory's to change, and it
     * may have no admin (tenant admins and the directory manage it).
     */
    directoryManaged: boolean("directory_managed").notNull().default(false),
    /** The directory's own id for the group (SCIM externalId). */
    externalId: varchar("external_id", { length: 255 }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("uq_groups_tenant_name").on(t.tenantId, t.name)],
);

export const apiKeys = pgTable(
  "api_keys",
  {
    id: ulid("id").primaryKey(),
    tenantId: ulid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "restrict" }),
    createdByUserId: userIdColumn("created_by_user_id")
      .notNull()
      .references(() => users.id, { onDelete: "restrict" }),
    name: varchar("name", { length: 255 }).notNull(),
    /** SHA-256 of the whole secret, hex. The secret itself is never stored. */
    keyDigest: varchar("key_digest", { length: 64 }).notNull(),
    /** First 12 characters of the secret, for listings only. */
    prefix: varchar("prefix", { length: 12 }).notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    expiresAt: utc("expires_at").notNull(),
    lastUsedAt: utc("last_used_at"),
    revokedAt: utc("revoked_at"),
  },
  (t) => [
    uniqueIndex("uq_api_keys_digest").on(t.keyDigest),
    uniqueIndex("uq_api_keys_tenant_creator_name").on(t.tenantId, t.createdByUserId, t.name),
  ],
);

/**
 * OIDC subjects linked to accounts a directory (SCIM) provisioned before their first sign-in: the
 * account's id is its own (a ULID), and a token with this subject acts as it. Links are never
 * removed, so a process may remember them.
 */
export const userSubjects = pgTable("user_subjects", {
  subject: userIdColumn("subject").primaryKey(),
  userId: userIdColumn("user_id")
    .notNull()
    .unique("uq_user_subjects_user")
    .references(() => users.id, { onDelete: "restrict" }),
  createdAt: createdAt(),
});

/**
 * Credentials of a tenant's directory (SCIM 2.0 provisioning): the SHA-256 of the secret, never the
 * secret. They go with their tenant (CASCADE): they carry no relationship to clean up in SpiceDB.
 */
export const scimTokens = pgTable(
  "scim_tokens",
  {
    id: ulid("id").primaryKey(),
    tenantId: ulid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    name: varchar("name", { length: 255 }).notNull(),
    tokenDigest: varchar("token_digest", { length: 64 }).notNull(),
    /** First 12 characters of the secret, for listings only. */
    prefix: varchar("prefix", { length: 12 }).notNull(),
    createdByUserId: userIdColumn("created_by_user_id").notNull(),
    createdAt: createdAt(),
    revokedAt: utc("revoked_at"),
  },
  (t) => [
    uniqueIndex("uq_scim_tokens_digest").on(t.tokenDigest),
    index("ix_scim_tokens_tenant").on(t.tenantId),
    // The audit log names a directory's changes `scim:<name>`: two live tokens of a name would be one.
    uniqueIndex("uq_scim_tokens_tenant_live_name").on(t.tenantId, t.name).where(sql`${t.revokedAt} IS NULL`),
  ],
);

/**
 * What a tenant's directory said of a user, beside the user row: its `externalId`, the SCIM
 * attributes kept as sent (name parts, display name, emails), and whether the directory deleted
 * the user (`deleted_at`: hidden from SCIM, and kept so that single-tenant mode does not let the
 * user join again). Whether a directory user is active is their tenant membership itself.
 */
export const scimUsers = pgTable(
  "scim_users",
  {
    tenantId: ulid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    userId: userIdColumn("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "restrict" }),
    externalId: varchar("external_id", { length: 255 }),
    attributes: jsonb("attributes").notNull().default({}),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deletedAt: utc("deleted_at"),
  },
  (t) => [
    primaryKey({ name: "pk_scim_users", columns: [t.tenantId, t.userId] }),
    index("ix_scim_users_user").on(t.userId),
    index("ix_scim_users_external_id").on(t.tenantId, t.externalId),
  ],
);

export const tenantMembers = pgTable(
  "tenant_members",
  {
    tenantId: ulid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    userId: userIdColumn("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "restrict" }),
    role: varchar("role", { length: 16 }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ name: "pk_tenant_members", columns: [t.tenantId, t.userId] }),
    index("ix_tenant_members_user").on(t.userId),
    // A change of one member reads that member and the admins (loadForMemberChange), not everyone.
    index("ix_tenant_members_admins").on(t.tenantId).where(sql`${t.role} = 'admin'`),
    check("ck_tenant_members_role", sql`${t.role} IN ('admin', 'member')`),
  ],
);

export const workspaceMembers = pgTable(
  "workspace_members",
  {
    workspaceId: ulid("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    memberType: varchar("member_type", { length: 8 }).notNull(),
    memberId: userIdColumn("member_id").notNull(),
    role: varchar("role", { length: 16 }).notNull(),
    // Typed copies of member_id so that foreign keys can guard both kinds of member: a group
    // with workspace grants cannot be deleted behind the application's back.
    userId: userIdColumn("user_id").generatedAlwaysAs(
      sql`CASE WHEN member_type = 'user' THEN member_id END`,
    ),
    groupId: ulid("group_id").generatedAlwaysAs(sql`CASE WHEN member_type = 'group' THEN member_id END`),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ name: "pk_workspace_members", columns: [t.workspaceId, t.memberType, t.memberId] }),
    foreignKey({ name: "fk_workspace_members_user", columns: [t.userId], foreignColumns: [users.id] }).onDelete(
      "restrict",
    ),
    foreignKey({ name: "fk_workspace_members_group", columns: [t.groupId], foreignColumns: [groups.id] }).onDelete(
      "restrict",
    ),
    index("ix_workspace_members_user").on(t.userId),
    index("ix_workspace_members_group").on(t.groupId),
    check("ck_workspace_members_type", sql`${t.memberType} IN ('user', 'group')`),
    check("ck_workspace_members_role", sql`${t.role} IN ('admin', 'editor', 'member')`),
  ],
);

export const groupMembers = pgTable(
  "group_members",
  {
    groupId: ulid("group_id")
      .notNull()
      .references(() => groups.id, { onDelete: "cascade" }),
    userId: userIdColumn("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "restrict" }),
    role: varchar("role", { length: 16 }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ name: "pk_group_members", columns: [t.groupId, t.userId] }),
    index("ix_group_members_user").on(t.userId),
    check("ck_group_members_role", sql`${t.role} IN ('admin', 'member')`),
  ],
);

/**
 * Invitations: a tenant admin added someone by email who is not a member. The row binds, with its
 * role, when a token with that verified email first authenticates (then it becomes a tenant_members
 * row and is deleted). `email` is stored lower-cased. No events: an invitation grants nothing until
 * it binds, and binding records the usual TenantMemberAdded.
 */
export const tenantInvitations = pgTable(
  "tenant_invitations",
  {
    tenantId: ulid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    email: varchar("email", { length: 255 }).notNull(),
    role: varchar("role", { length: 16 }).notNull(),
    invitedByUserId: userIdColumn("invited_by_user_id"),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ name: "pk_tenant_invitations", columns: [t.tenantId, t.email] }),
    index("ix_tenant_invitations_email").on(t.email),
    check("ck_tenant_invitations_role", sql`${t.role} IN ('admin', 'member')`),
    check("ck_tenant_invitations_email_lower", sql`${t.email} = lower(${t.email})`),
  ],
);

/**
 * A counter per tenant, moved by every write of the group repository (its groups and their
 * members). Listing every group of a large tenant is costly; the repository serves the list it
 * kept for a version again while the version stands (kept-group-lists.ts). The row lock serialises
 * the increments in commit order, so a version never hides a change that committed before it.
 * No foreign key: a deleted tenant's row is harmless and spares a lock order.
 */
export const groupListVersions = pgTable("group_list_versions", {
  tenantId: ulid("tenant_id").primaryKey(),
  version: bigint("version", { mode: "number" }).notNull().default(0),
});

/**
 * Transactional outbox. `sequence` orders entries (all rows of one transaction share created_at);
 * `tenant_id` scopes ordering: the relationships of one tenant are applied in sequence order by one
 * applier at a time, while tenants proceed in parallel.
 */
export const outbox = pgTable(
  "outbox",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    sequence: bigint("sequence", { mode: "number" }).notNull().generatedAlwaysAsIdentity(),
    tenantId: ulid("tenant_id").notNull(),
    aggregateType: varchar("aggregate_type", { length: 64 }).notNull(),
    aggregateId: varchar("aggregate_id", { length: 255 }).notNull(),
    eventType: varchar("event_type", { length: 128 }).notNull(),
    payload: jsonb("payload").notNull(),
    occurredAt: utc("occurred_at").notNull(),
    createdAt: createdAt(),
    retryCount: integer("retry_count").notNull().default(0),
    lastError: text("last_error"),
    nextAttemptAt: utc("next_attempt_at").notNull().defaultNow(),
    processedAt: utc("processed_at"),
    failedAt: utc("failed_at"),
  },
  (t) => [
    uniqueIndex("uq_outbox_sequence").on(t.sequence),
    index("ix_outbox_pending").on(t.tenantId, t.sequence).where(sql`${t.processedAt} IS NULL AND ${t.failedAt} IS NULL`),
    index("ix_outbox_failed").on(t.failedAt).where(sql`${t.failedAt} IS NOT NULL`),
  ],
);

/**
 * A single row: the authorization revision, bumped in the transaction that marks outbox entries
 * applied to SpiceDB, with the ZedToken of that write. It keys the permission-decision cache and
 * lets reads on any process ask SpiceDB for at least that freshness. `revoked_revision` is the
 * latest revision that deleted relationships: with a union-only schema, an allowed decision stays
 * true across revisions that only added relationships, so the cache keeps it until then.
 */
export const authzRevision = pgTable(
  "authz_revision",
  {
    id: integer("id").primaryKey().default(1),
    revision: bigint("revision", { mode: "number" }).notNull().default(0),
    zedToken: text("zed_token"),
    revokedRevision: bigint("revoked_revision", { mode: "number" }).notNull().default(0),
    /** The revision of the latest bump that said whether it revoked (older versions do not). */
    declaredRevision: bigint("declared_revision", { mode: "number" }).notNull().default(0),
    updatedAt: updatedAt(),
  },
  (t) => [check("ck_authz_revision_single_row", sql`${t.id} = 1`)],
);

/**
 * A single row: this IAM database's identity, made by its first migration. The service records it
 * in the SpiceDB it writes to and refuses a SpiceDB that records another one (installation-claim.ts):
 * two databases writing to one SpiceDB would overwrite each other's relationships, and `reconcile`
 * against either would delete the other's.
 */
export const iamInstallation = pgTable(
  "iam_installation",
  {
    id: integer("id").primaryKey().default(1),
    installationId: uuid("installation_id").notNull().defaultRandom(),
    createdAt: createdAt(),
  },
  (t) => [check("ck_iam_installation_single_row", sql`${t.id} = 1`)],
);

/**
 * The audit log: one row per recorded change, inserted in the transaction of the change, so that
 * no change commits without its record. Rows are never updated: a tenant's chain lives in
 * `audit_seals`, which the worker appends to, and the events still waiting for it are queued in
 * `audit_unsealed`, so neither writing nor sealing rewrites an event row and its indexes. No
 * foreign key to tenants: a deleted tenant's history is kept. Actor and target ids are columns of
 * their own so that the filters use an index.
 */
export const auditEvents = pgTable(
  "audit_events",
  {
    sequence: bigint("sequence", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    id: ulid("id").notNull(),
    tenantId: ulid("tenant_id").notNull(),
    occurredAt: utc("occurred_at").notNull(),
    action: varchar("action", { length: 64 }).notNull(),
    actorId: varchar("actor_id", { length: 255 }),
    targetId: varchar("target_id", { length: 255 }),
    /** actor, target, changes and context, as the API answers them. */
    body: jsonb("body").notNull(),
  },
  (t) => [
    index("ix_audit_events_tenant").on(t.tenantId, t.sequence),
    index("ix_audit_events_actor").on(t.tenantId, t.actorId, t.sequence),
    index("ix_audit_events_target").on(t.tenantId, t.targetId, t.sequence),
  ],
);

/**
 * Each sealed event's place in its tenant's chain and its hash (see audit-chain.ts), one row per
 * event, inserted once by the sealer. An event row without a seal and not in `audit_unsealed` was
 * never written by the service; `audit verify` reports it.
 */
export const auditSeals = pgTable(
  "audit_seals",
  {
    sequence: bigint("sequence", { mode: "number" }).primaryKey(),
    tenantId: ulid("tenant_id").notNull(),
    chainPosition: bigint("chain_position", { mode: "number" }).notNull(),
    hash: varchar("hash", { length: 64 }).notNull(),
  },
  (t) => [uniqueIndex("uq_audit_seals_chain").on(t.tenantId, t.chainPosition)],
);

/**
 * The events committed and not yet sealed, by tenant in insertion order: the sealer's queue,
 * written in the same statement as the events and emptied as they are sealed, so it stays small.
 */
export const auditUnsealed = pgTable(
  "audit_unsealed",
  {
    tenantId: ulid("tenant_id").notNull(),
    sequence: bigint("sequence", { mode: "number" }).notNull(),
    occurredAt: utc("occurred_at").notNull(),
  },
  (t) => [primaryKey({ name: "pk_audit_unsealed", columns: [t.tenantId, t.sequence] })],
);

/**
 * Where each tenant's chain stands: the last sealed position and its hash (the sealer continues
 * from them), and where the chain starts now that retention deleted its old end.
 */
export const auditChains = pgTable("audit_chains", {
  tenantId: ulid("tenant_id").primaryKey(),
  lastPosition: bigint("last_position", { mode: "number" }).notNull().default(0),
  lastHash: varchar("last_hash", { length: 64 }).notNull(),
  startPosition: bigint("start_position", { mode: "number" }).notNull().default(1),
  startPreviousHash: varchar("start_previous_hash", { length: 64 }).notNull(),
});

export const schema = {
  tenants,
  users,
  workspaces,
  groups,
  apiKeys,
  tenantMembers,
  tenantInvitations,
  workspaceMembers,
  groupMembers,
  groupListVersions,
  outbox,
  authzRevision,
  auditEvents,
  auditSeals,
  auditUnsealed,
  auditChains,
};
