CREATE TABLE "tenant_invitations" (
	"tenant_id" varchar(26) NOT NULL,
	"email" varchar(255) NOT NULL,
	"role" varchar(16) NOT NULL,
	"invited_by_user_id" varchar(255),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "pk_tenant_invitations" PRIMARY KEY("tenant_id","email"),
	CONSTRAINT "ck_tenant_invitations_role" CHECK ("tenant_invitations"."role" IN ('admin', 'member')),
	CONSTRAINT "ck_tenant_invitations_email_lower" CHECK ("tenant_invitations"."email" = lower("tenant_invitations"."email"))
);
--> statement-breakpoint
DROP INDEX "uq_tenants_name";--> statement-breakpoint
DROP INDEX "uq_users_username";--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "created_by_user_id" varchar(255);--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "is_default" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "username_clash_kept" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "tenant_invitations" ADD CONSTRAINT "tenant_invitations_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "ix_tenant_invitations_email" ON "tenant_invitations" USING btree ("email");--> statement-breakpoint
CREATE UNIQUE INDEX "uq_tenants_creator_name" ON "tenants" USING btree ("created_by_user_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "uq_tenants_one_default" ON "tenants" USING btree ("is_default") WHERE "tenants"."is_default";--> statement-breakpoint
-- Hand-written: usernames become case-insensitive. Accounts whose usernames differ only in case
-- are all kept; the oldest of each such set follows the new rule, the others are marked (and
-- listed in the log at every start) so that the index can be built.
UPDATE "users" SET "username_clash_kept" = true
WHERE "id" IN (
  SELECT "id" FROM (
    SELECT "id", row_number() OVER (PARTITION BY lower("username") ORDER BY "created_at", "id") AS "rank" FROM "users"
  ) AS "ranked"
  WHERE "rank" > 1
);--> statement-breakpoint
CREATE UNIQUE INDEX "uq_users_username_lower" ON "users" USING btree (lower("username")) WHERE NOT "users"."username_clash_kept";