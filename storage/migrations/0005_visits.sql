-- Field visits (issue 17): a mayor or house staff member files requests for residents who are
-- not on Telegram, at a meeting. (0005 on the w-visits branch; 0008 once 0005-0007 land.)

-- A visit; the open one (ended_at NULL, one per filer) also holds the filer's form: `step` and
-- the request being written (`draft`, JSON of bot.domain.visits.VisitDraft), so a restart
-- resumes at the step the filer was in.
CREATE TABLE visits (
    id INTEGER PRIMARY KEY,
    filer_id INTEGER NOT NULL REFERENCES people(id),
    chat_id INTEGER NOT NULL,
    neighbourhood_id INTEGER REFERENCES neighbourhoods(id),   -- NULL while it is chosen
    title TEXT NOT NULL DEFAULT '',
    held_at TEXT,
    lat REAL,
    lon REAL,
    step TEXT NOT NULL,
    draft TEXT,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX visits_open ON visits(filer_id) WHERE ended_at IS NULL;
CREATE INDEX visits_by_neighbourhood ON visits(neighbourhood_id, started_at);

-- A request filed at a visit for a named person. Until it is claimed the ticket's resident is
-- the filer (every message for the resident reaches the filer, marked «برای ساکن»).
CREATE TABLE visit_requests (
    ticket_id INTEGER PRIMARY KEY REFERENCES tickets(id),
    visit_id INTEGER NOT NULL REFERENCES visits(id),
    filer_id INTEGER NOT NULL REFERENCES people(id),
    name TEXT NOT NULL,
    phone TEXT,                          -- 09XXXXXXXXX or NULL
    claimed_by INTEGER REFERENCES people(id),
    claimed_at TEXT,
    failed_tries INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,                   -- three wrong tries lock claiming for a day
    handover_token TEXT UNIQUE,          -- /handover: a one-time link for phone-less requests
    handover_until TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX visit_requests_by_visit ON visit_requests(visit_id, ticket_id);

-- /start c_CODE asked for the last four digits of the phone: the next four digits the person
-- sends answer it.
CREATE TABLE claim_prompts (
    person_id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    created_at TEXT NOT NULL
);
