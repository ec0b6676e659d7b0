-- 0006 for PostgreSQL (as storage/migrations/0006_privacy.sql): RETENTION_DAYS after closing
-- a request is anonymised, and /forget_me does it at once.
ALTER TABLE tickets ADD COLUMN anonymised_at TEXT COLLATE "C";
CREATE INDEX tickets_to_anonymise ON tickets(closed_at)
    WHERE anonymised_at IS NULL AND closed_at IS NOT NULL;

-- A mayor's inbox shows what they already routed or closed: events by their actor.
CREATE INDEX events_by_actor ON ticket_events(actor_id, id);
