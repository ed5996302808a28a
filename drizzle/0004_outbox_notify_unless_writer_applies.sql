-- A writer that applies its own entries right after its commit (read-your-writes) says so for its
-- transaction (kartograph.writer_applies = on), and then wakes no worker: NOTIFY takes a lock that
-- serializes every notifying commit of the cluster. Other inserts (a writer of an older version,
-- a writer without read-your-writes) notify as before. A writer whose apply fails notifies itself.
CREATE OR REPLACE FUNCTION notify_outbox_insert() RETURNS trigger AS $$
BEGIN
  IF coalesce(current_setting('kartograph.writer_applies', true), '') <> 'on' THEN
    PERFORM pg_notify('outbox_events', NEW.tenant_id);
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
