-- SCIM 2.0 provisioning: the tokens a tenant's directory authenticates with, what the directory said
-- of each user it provisioned, the OIDC subjects linked to those users, and directory-managed groups
-- (see schema.ts).
CREATE TABLE "scim_tokens" (
	"id" varchar(26) PRIMARY KEY NOT NULL,
	"tenant_id" varchar(26) NOT NULL,
	"name" varchar(255) NOT NULL,
	"token_digest" varchar(64) NOT NULL,
	"prefix" varchar(12) NOT NULL,
	"created_by_user_id" varchar(255) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "scim_users" (
	"tenant_id" varchar(26) NOT NULL,
	"user_id" varchar(255) NOT NULL,
	"external_id" varchar(255),
	"attributes" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	CONSTRAINT "pk_scim_users" PRIMARY KEY("tenant_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "user_subjects" (
	"subject" varchar(255) PRIMARY KEY NOT NULL,
	"user_id" varchar(255) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "uq_user_subjects_user" UNIQUE("user_id")
);
--> statement-breakpoint
ALTER TABLE "groups" ADD COLUMN "directory_managed" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "groups" ADD COLUMN "external_id" varchar(255);--> statement-breakpoint
ALTER TABLE "scim_tokens" ADD CONSTRAINT "scim_tokens_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scim_users" ADD CONSTRAINT "scim_users_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scim_users" ADD CONSTRAINT "scim_users_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_subjects" ADD CONSTRAINT "user_subjects_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "uq_scim_tokens_digest" ON "scim_tokens" USING btree ("token_digest");--> statement-breakpoint
CREATE INDEX "ix_scim_tokens_tenant" ON "scim_tokens" USING btree ("tenant_id");--> statement-breakpoint
CREATE INDEX "ix_scim_users_user" ON "scim_users" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "ix_scim_users_external_id" ON "scim_users" USING btree ("tenant_id","external_id");--> statement-breakpoint
CREATE INDEX "ix_tenant_members_admins" ON "tenant_members" USING btree ("tenant_id") WHERE "tenant_members"."role" = 'admin';--> statement-breakpoint
CREATE INDEX "ix_users_username_lookup" ON "users" USING btree (lower("username"));