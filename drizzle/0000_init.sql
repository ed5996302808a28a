CREATE TABLE "api_keys" (
	"id" varchar(26) PRIMARY KEY NOT NULL,
	"tenant_id" varchar(26) NOT NULL,
	"created_by_user_id" varchar(255) NOT NULL,
	"name" varchar(255) NOT NULL,
	"key_digest" varchar(64) NOT NULL,
	"prefix" varchar(12) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "authz_revision" (
	"id" integer PRIMARY KEY DEFAULT 1 NOT NULL,
	"revision" bigint DEFAULT 0 NOT NULL,
	"zed_token" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ck_authz_revision_single_row" CHECK ("authz_revision"."id" = 1)
);
--> statement-breakpoint
CREATE TABLE "group_members" (
	"group_id" varchar(26) NOT NULL,
	"user_id" varchar(255) NOT NULL,
	"role" varchar(16) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "pk_group_members" PRIMARY KEY("group_id","user_id"),
	CONSTRAINT "ck_group_members_role" CHECK ("group_members"."role" IN ('admin', 'member'))
);
--> statement-breakpoint
CREATE TABLE "groups" (
	"id" varchar(26) PRIMARY KEY NOT NULL,
	"tenant_id" varchar(26) NOT NULL,
	"name" varchar(255) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"sequence" bigint GENERATED ALWAYS AS IDENTITY (sequence name "outbox_sequence_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"tenant_id" varchar(26) NOT NULL,
	"aggregate_type" varchar(64) NOT NULL,
	"aggregate_id" varchar(255) NOT NULL,
	"event_type" varchar(128) NOT NULL,
	"payload" jsonb NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"retry_count" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"processed_at" timestamp with time zone,
	"failed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "tenant_members" (
	"tenant_id" varchar(26) NOT NULL,
	"user_id" varchar(255) NOT NULL,
	"role" varchar(16) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "pk_tenant_members" PRIMARY KEY("tenant_id","user_id"),
	CONSTRAINT "ck_tenant_members_role" CHECK ("tenant_members"."role" IN ('admin', 'member'))
);
--> statement-breakpoint
CREATE TABLE "tenants" (
	"id" varchar(26) PRIMARY KEY NOT NULL,
	"name" varchar(255) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" varchar(255) PRIMARY KEY NOT NULL,
	"username" varchar(255) NOT NULL,
	"name" varchar(255),
	"email" varchar(255),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "workspace_members" (
	"workspace_id" varchar(26) NOT NULL,
	"member_type" varchar(8) NOT NULL,
	"member_id" varchar(255) NOT NULL,
	"role" varchar(16) NOT NULL,
	"user_id" varchar(255) GENERATED ALWAYS AS (CASE WHEN member_type = 'user' THEN member_id END) STORED,
	"group_id" varchar(26) GENERATED ALWAYS AS (CASE WHEN member_type = 'group' THEN member_id END) STORED,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "pk_workspace_members" PRIMARY KEY("workspace_id","member_type","member_id"),
	CONSTRAINT "ck_workspace_members_type" CHECK ("workspace_members"."member_type" IN ('user', 'group')),
	CONSTRAINT "ck_workspace_members_role" CHECK ("workspace_members"."role" IN ('admin', 'editor', 'member'))
);
--> statement-breakpoint
CREATE TABLE "workspaces" (
	"id" varchar(26) PRIMARY KEY NOT NULL,
	"tenant_id" varchar(26) NOT NULL,
	"name" varchar(512) NOT NULL,
	"parent_workspace_id" varchar(26),
	"is_root" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ck_workspaces_root_has_no_parent" CHECK (("workspaces"."is_root" AND "workspaces"."parent_workspace_id" IS NULL) OR (NOT "workspaces"."is_root" AND "workspaces"."parent_workspace_id" IS NOT NULL))
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_created_by_user_id_users_id_fk" FOREIGN KEY ("created_by_user_id") REFERENCES "public"."users"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "group_members" ADD CONSTRAINT "group_members_group_id_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."groups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "group_members" ADD CONSTRAINT "group_members_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "groups" ADD CONSTRAINT "groups_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tenant_members" ADD CONSTRAINT "tenant_members_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tenant_members" ADD CONSTRAINT "tenant_members_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workspace_members" ADD CONSTRAINT "workspace_members_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workspace_members" ADD CONSTRAINT "fk_workspace_members_user" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workspace_members" ADD CONSTRAINT "fk_workspace_members_group" FOREIGN KEY ("group_id") REFERENCES "public"."groups"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workspaces" ADD CONSTRAINT "workspaces_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workspaces" ADD CONSTRAINT "fk_workspaces_parent" FOREIGN KEY ("parent_workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "uq_api_keys_digest" ON "api_keys" USING btree ("key_digest");--> statement-breakpoint
CREATE UNIQUE INDEX "uq_api_keys_tenant_creator_name" ON "api_keys" USING btree ("tenant_id","created_by_user_id","name");--> statement-breakpoint
CREATE INDEX "ix_group_members_user" ON "group_members" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "uq_groups_tenant_name" ON "groups" USING btree ("tenant_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "uq_outbox_sequence" ON "outbox" USING btree ("sequence");--> statement-breakpoint
CREATE INDEX "ix_outbox_pending" ON "outbox" USING btree ("tenant_id","sequence") WHERE "outbox"."processed_at" IS NULL AND "outbox"."failed_at" IS NULL;--> statement-breakpoint
CREATE INDEX "ix_outbox_failed" ON "outbox" USING btree ("failed_at") WHERE "outbox"."failed_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "ix_tenant_members_user" ON "tenant_members" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "uq_tenants_name" ON "tenants" USING btree ("name");--> statement-breakpoint
CREATE UNIQUE INDEX "uq_users_username" ON "users" USING btree ("username");--> statement-breakpoint
CREATE INDEX "ix_users_email_lower" ON "users" USING btree (lower("email"));--> statement-breakpoint
CREATE INDEX "ix_workspace_members_user" ON "workspace_members" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "ix_workspace_members_group" ON "workspace_members" USING btree ("group_id");--> statement-breakpoint
CREATE UNIQUE INDEX "uq_workspaces_tenant_name" ON "workspaces" USING btree ("tenant_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "uq_workspaces_one_root_per_tenant" ON "workspaces" USING btree ("tenant_id") WHERE "workspaces"."is_root";--> statement-breakpoint
CREATE INDEX "ix_workspaces_parent" ON "workspaces" USING btree ("parent_workspace_id");