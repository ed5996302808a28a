CREATE TABLE "audit_chains" (
	"tenant_id" varchar(26) PRIMARY KEY NOT NULL,
	"last_position" bigint DEFAULT 0 NOT NULL,
	"last_hash" varchar(64) NOT NULL,
	"start_position" bigint DEFAULT 1 NOT NULL,
	"start_previous_hash" varchar(64) NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_events" (
	"sequence" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "audit_events_sequence_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"id" varchar(26) NOT NULL,
	"tenant_id" varchar(26) NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"action" varchar(64) NOT NULL,
	"actor_id" varchar(255),
	"target_id" varchar(255),
	"body" jsonb NOT NULL,
	"chain_position" bigint,
	"hash" varchar(64)
);
--> statement-breakpoint
CREATE INDEX "ix_audit_events_tenant" ON "audit_events" USING btree ("tenant_id","sequence");--> statement-breakpoint
CREATE INDEX "ix_audit_events_actor" ON "audit_events" USING btree ("tenant_id","actor_id","sequence");--> statement-breakpoint
CREATE INDEX "ix_audit_events_target" ON "audit_events" USING btree ("tenant_id","target_id","sequence");--> statement-breakpoint
CREATE UNIQUE INDEX "uq_audit_events_chain" ON "audit_events" USING btree ("tenant_id","chain_position") WHERE "audit_events"."chain_position" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "ix_audit_events_unsealed" ON "audit_events" USING btree ("tenant_id","sequence") WHERE "audit_events"."hash" IS NULL;