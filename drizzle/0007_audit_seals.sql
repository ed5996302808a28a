-- Seals move out of the event rows into their own insert-only table, and the unsealed events
-- into a small queue, so that neither writing nor sealing rewrites an event row (see schema.ts).
CREATE TABLE "audit_seals" (
	"sequence" bigint PRIMARY KEY NOT NULL,
	"tenant_id" varchar(26) NOT NULL,
	"chain_position" bigint NOT NULL,
	"hash" varchar(64) NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_unsealed" (
	"tenant_id" varchar(26) NOT NULL,
	"sequence" bigint NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	CONSTRAINT "pk_audit_unsealed" PRIMARY KEY("tenant_id","sequence")
);
--> statement-breakpoint
INSERT INTO "audit_seals" ("sequence", "tenant_id", "chain_position", "hash")
	SELECT "sequence", "tenant_id", "chain_position", "hash" FROM "audit_events" WHERE "hash" IS NOT NULL;
--> statement-breakpoint
INSERT INTO "audit_unsealed" ("tenant_id", "sequence", "occurred_at")
	SELECT "tenant_id", "sequence", "occurred_at" FROM "audit_events" WHERE "hash" IS NULL;
--> statement-breakpoint
DROP INDEX "uq_audit_events_chain";--> statement-breakpoint
DROP INDEX "ix_audit_events_unsealed";--> statement-breakpoint
CREATE UNIQUE INDEX "uq_audit_seals_chain" ON "audit_seals" USING btree ("tenant_id","chain_position");--> statement-breakpoint
ALTER TABLE "audit_events" DROP COLUMN "chain_position";--> statement-breakpoint
ALTER TABLE "audit_events" DROP COLUMN "hash";
