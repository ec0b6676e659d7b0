-- 0004 for PostgreSQL (as storage/migrations/0004_calendar.sql): the working calendar. Each
-- ticket keeps its own response window; urgency is the resident's or the mayor's call.
ALTER TABLE tickets ADD COLUMN sla_clock TEXT COLLATE "C" NOT NULL DEFAULT 'calendar'
    CHECK (sla_clock IN ('calendar', 'office'));
-- window_hours NULL: RESPONSE_WINDOW_HOURS (tickets filed before this migration).
ALTER TABLE tickets ADD COLUMN window_hours INTEGER;
ALTER TABLE tickets ADD COLUMN urgent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN urgent_reason TEXT COLLATE "C";
-- /queue lists urgent requests first: keep that cheap for open tickets.
CREATE INDEX tickets_open_urgent ON tickets(house_id, neighbourhood_id, urgent)
    WHERE status <> 'closed' AND urgent = 1;

-- A category may carry its own window (social harms: 24 hours of calendar time).
ALTER TABLE categories ADD COLUMN window_hours INTEGER;
ALTER TABLE categories ADD COLUMN window_clock TEXT COLLATE "C"
    CHECK (window_clock IN ('calendar', 'office'));
