-- 0001: the whole first schema. Never edit a landed migration; add 0002_... instead.
-- Timestamps are UTC ISO-8601 strings ("2026-11-25T21:36:40+00:00") so they sort as text.

CREATE TABLE provinces (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name_fa TEXT NOT NULL,
    name_en TEXT NOT NULL
);

CREATE TABLE cities (
    id INTEGER PRIMARY KEY,
    province_id INTEGER NOT NULL REFERENCES provinces(id),
    code TEXT NOT NULL UNIQUE,
    name_fa TEXT NOT NULL,
    name_en TEXT NOT NULL
);
CREATE INDEX cities_by_province ON cities(province_id, name_fa);

CREATE TABLE neighbourhoods (
    id INTEGER PRIMARY KEY,
    city_id INTEGER NOT NULL REFERENCES cities(id),
    code TEXT NOT NULL UNIQUE,
    name_fa TEXT NOT NULL,
    name_en TEXT NOT NULL,
    search_key TEXT NOT NULL,          -- normalised name for matching
    lat REAL,
    lon REAL,
    sample INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX neighbourhoods_by_city ON neighbourhoods(city_id, name_fa);

CREATE TABLE houses (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name_fa TEXT NOT NULL,
    name_en TEXT NOT NULL,
    description_fa TEXT NOT NULL DEFAULT '',
    description_en TEXT NOT NULL DEFAULT ''
);

CREATE TABLE categories (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name_fa TEXT NOT NULL,
    name_en TEXT NOT NULL,
    default_house_id INTEGER NOT NULL REFERENCES houses(id),
    sort INTEGER NOT NULL DEFAULT 0
);

-- Per-neighbourhood exceptions to a category's default house.
CREATE TABLE routing_overrides (
    neighbourhood_id INTEGER NOT NULL REFERENCES neighbourhoods(id),
    category_id INTEGER NOT NULL REFERENCES categories(id),
    house_id INTEGER NOT NULL REFERENCES houses(id),
    PRIMARY KEY (neighbourhood_id, category_id)
);

-- Everyone who ever wrote to the bot. id is the Telegram user id.
CREATE TABLE people (
    id INTEGER PRIMARY KEY,
    first_name TEXT NOT NULL DEFAULT '',
    username TEXT,
    locale TEXT,                       -- chosen with /language; NULL = follow Telegram
    neighbourhood_id INTEGER REFERENCES neighbourhoods(id),
    phone TEXT,                        -- only when the person chose to share it
    consent_at TEXT,
    unreachable_at TEXT,               -- set when Telegram says the bot is blocked
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Roles: admin | mayor | staff | supervisor. Scope: a house (staff/supervisor) and an area.
CREATE TABLE roles (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people(id),
    role TEXT NOT NULL CHECK (role IN ('admin', 'mayor', 'staff', 'supervisor')),
    house_id INTEGER REFERENCES houses(id),
    scope_kind TEXT NOT NULL CHECK (scope_kind IN ('all', 'province', 'city', 'neighbourhood')),
    scope_id INTEGER,                  -- id in the table named by scope_kind; NULL for 'all'
    created_at TEXT NOT NULL,
    created_by INTEGER,
    revoked_at TEXT
);
CREATE INDEX roles_by_person ON roles(person_id) WHERE revoked_at IS NULL;
CREATE INDEX roles_by_scope ON roles(role, house_id, scope_kind, scope_id) WHERE revoked_at IS NULL;

CREATE TABLE invites (
    code TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    house_id INTEGER REFERENCES houses(id),
    scope_kind TEXT NOT NULL,
    scope_ids TEXT NOT NULL DEFAULT '[]',   -- JSON list of ids
    created_by INTEGER,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_by INTEGER,
    used_at TEXT
);

-- A group chat bound to a house and an area shares that queue.
CREATE TABLE group_bindings (
    chat_id INTEGER NOT NULL,
    house_id INTEGER NOT NULL REFERENCES houses(id),
    scope_kind TEXT NOT NULL,
    scope_id INTEGER,
    bound_by INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (chat_id, house_id, scope_kind, scope_id)
);

CREATE TABLE tickets (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,                   -- tracking code residents read aloud
    resident_id INTEGER NOT NULL REFERENCES people(id),
    neighbourhood_id INTEGER NOT NULL REFERENCES neighbourhoods(id),
    kind TEXT NOT NULL CHECK (kind IN ('need', 'complaint', 'suggestion')),
    category_id INTEGER NOT NULL REFERENCES categories(id),
    house_id INTEGER NOT NULL REFERENCES houses(id),
    text TEXT NOT NULL,
    phone TEXT,
    lat REAL,
    lon REAL,
    status TEXT NOT NULL,
    close_reason TEXT,
    duplicate_of INTEGER REFERENCES tickets(id),
    assignee_id INTEGER REFERENCES people(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    window_started_at TEXT NOT NULL,             -- start of the current 72-hour window
    window_no INTEGER NOT NULL DEFAULT 1,        -- 1 + number of reopenings
    due_at TEXT NOT NULL,
    paused_at TEXT,                              -- set while waiting on the resident
    first_response_at TEXT,                      -- first public staff answer in this window
    sla_next_at TEXT,                            -- when the SLA sweep must look next; NULL = never
    closed_at TEXT,
    rating INTEGER CHECK (rating BETWEEN 1 AND 5),
    rating_comment TEXT,
    reopen_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tickets_queue ON tickets(house_id, neighbourhood_id, status, created_at);
CREATE INDEX tickets_by_resident ON tickets(resident_id, created_at);
CREATE INDEX tickets_by_assignee ON tickets(assignee_id, status);
CREATE INDEX tickets_sla ON tickets(sla_next_at) WHERE sla_next_at IS NOT NULL;
CREATE INDEX tickets_open_due ON tickets(due_at) WHERE status <> 'closed';
CREATE INDEX tickets_by_neighbourhood ON tickets(neighbourhood_id, status, created_at);

CREATE TABLE ticket_attachments (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    event_id INTEGER REFERENCES ticket_events(id),
    kind TEXT NOT NULL,                -- photo | voice | document | video | audio
    file_id TEXT NOT NULL,
    file_unique_id TEXT,
    caption TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX attachments_by_ticket ON ticket_attachments(ticket_id);

-- Every change to a ticket. public=1 rows make up the history the resident sees.
CREATE TABLE ticket_events (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    at TEXT NOT NULL,
    actor_id INTEGER,
    actor_role TEXT NOT NULL,          -- resident | mayor | staff | supervisor | admin | system
    action TEXT NOT NULL,
    public INTEGER NOT NULL DEFAULT 1,
    body TEXT,
    details TEXT NOT NULL DEFAULT '{}' -- JSON
);
CREATE INDEX events_by_ticket ON ticket_events(ticket_id, id);

CREATE TABLE canned_replies (
    id INTEGER PRIMARY KEY,
    house_id INTEGER REFERENCES houses(id),
    title TEXT NOT NULL,
    body TEXT NOT NULL
);

-- Durable notifications: written in the transaction of the change that causes them.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    idem_key TEXT NOT NULL UNIQUE,
    chat_id INTEGER NOT NULL,
    ticket_id INTEGER REFERENCES tickets(id),
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,             -- JSON: text, parse_mode, reply_markup
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    sent_message_id INTEGER,
    last_error TEXT
);
CREATE INDEX outbox_pending ON outbox(not_before, id) WHERE status IN ('pending', 'sending');
CREATE INDEX outbox_by_message ON outbox(chat_id, sent_message_id) WHERE sent_message_id IS NOT NULL;

-- SLA actions already taken, so each happens once per ticket and window.
CREATE TABLE sla_actions (
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    window_no INTEGER NOT NULL,
    action TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (ticket_id, window_no, action)
);

-- Telegram may deliver an update twice (restart before confirming the offset).
CREATE TABLE processed_updates (
    update_id INTEGER PRIMARY KEY,
    at TEXT NOT NULL
);

-- PTB persistence (conversations, user/chat/bot data, callback data) as JSON.
CREATE TABLE conversations (
    name TEXT NOT NULL,
    key TEXT NOT NULL,                 -- JSON list of the conversation key
    state TEXT NOT NULL,               -- JSON
    updated_at TEXT NOT NULL,
    PRIMARY KEY (name, key)
);
CREATE TABLE persisted_data (
    kind TEXT NOT NULL,                -- user | chat | bot | callback
    id INTEGER NOT NULL,
    data TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);

-- Messages per person per minute, for polite flood control.
CREATE TABLE kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
