-- Keeping the consent's promise (issue 11): RETENTION_DAYS after closing a request is
-- anonymised (name, phone, text, attachments and location removed; category, house,
-- neighbourhood, dates and outcome kept for statistics), and /forget_me does it at once.
-- (Numbered 0006 on its branch after 0004_calendar and 0005_visits; 0007 once 0006 of
-- another branch is merged.)
ALTER TABLE tickets ADD COLUMN anonymised_at TEXT;
CREATE INDEX tickets_to_anonymise ON tickets(closed_at)
    WHERE anonymised_at IS NULL AND closed_at IS NOT NULL;

-- A mayor's inbox shows what they already routed or closed: events by their actor.
CREATE INDEX events_by_actor ON ticket_events(actor_id, id);
