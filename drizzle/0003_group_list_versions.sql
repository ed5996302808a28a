CREATE TABLE "group_list_versions" (
	"tenant_id" varchar(26) PRIMARY KEY NOT NULL,
	"version" bigint DEFAULT 0 NOT NULL
);
