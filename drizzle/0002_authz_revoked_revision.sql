ALTER TABLE "authz_revision" ADD COLUMN "revoked_revision" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "authz_revision" ADD COLUMN "declared_revision" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Decisions cached before this migration are not known to survive later revisions: start from now.
UPDATE "authz_revision" SET "revoked_revision" = "revision", "declared_revision" = "revision";
