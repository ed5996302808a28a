-- A tenant's live SCIM tokens have names of their own: the audit log names a directory's changes
-- `scim:<name>`, and an admin revoking "okta" must know which one it is. Live tokens that already
-- share a name keep the oldest's; the others get their id appended (within the 255 characters).
UPDATE "scim_tokens" t SET "name" = left(t."name", 226) || ' (' || t."id" || ')'
WHERE t."revoked_at" IS NULL
  AND EXISTS (SELECT 1 FROM "scim_tokens" o
              WHERE o."tenant_id" = t."tenant_id" AND o."name" = t."name" AND o."revoked_at" IS NULL AND o."id" < t."id");
--> statement-breakpoint
CREATE UNIQUE INDEX "uq_scim_tokens_tenant_live_name" ON "scim_tokens" USING btree ("tenant_id","name") WHERE "scim_tokens"."revoked_at" IS NULL;
