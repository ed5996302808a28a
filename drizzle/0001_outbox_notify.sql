-- Wake outbox workers as soon as a transaction that recorded events commits. The payload is the
-- tenant id, so PostgreSQL folds the notifications of one transaction into one per tenant.
CREATE OR REPLACE FUNCTION notify_outbox_insert() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('outbox_events', NEW.tenant_id);
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER outbox_after_insert AFTER INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION notify_outbox_insert();
--> statement-breakpoint
INSERT INTO authz_revision (id, revision) VALUES (1, 0);
