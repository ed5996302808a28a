-- This database's identity, recorded in the SpiceDB it writes to: a second database pointed at the
-- same SpiceDB is refused at start instead of overwriting (and reconciling away) the first's
-- relationships. One row, made here, never changed; a copy of the database (a restore, a replica)
-- keeps it, and with it its SpiceDB.
CREATE TABLE "iam_installation" (
	"id" integer PRIMARY KEY DEFAULT 1 NOT NULL,
	"installation_id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ck_iam_installation_single_row" CHECK ("iam_installation"."id" = 1)
);
--> statement-breakpoint
INSERT INTO "iam_installation" ("id") VALUES (1);
