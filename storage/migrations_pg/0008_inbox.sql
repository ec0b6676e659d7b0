-- 0008 for PostgreSQL: the same inbox as storage/migrations/0008_inbox.sql, plus the leader's
-- lease (PostgreSQL only: on SQLite one process runs, under the file lock).
-- Updates fetched from the Bot API are stored before Telegram is told they were received,
-- so a leader killed mid-batch loses none: the next leader handles what is left here first.
CREATE TABLE inbox (
    update_id BIGINT PRIMARY KEY,
    body TEXT COLLATE "C" NOT NULL,          -- the update's JSON as the Bot API sent it
    received_at TEXT COLLATE "C" NOT NULL
);

-- Who leads (bot/ops/leader.py): one row, written by the process holding the advisory lock on
-- its dedicated connection and renewed every FAILOVER_SECONDS/3 by the server's clock. A
-- standby that finds the lock held but the lease expired (the leader's machine vanished and
-- TCP has not noticed yet) ends `backend_pid` and takes over. Operational state: copy-db
-- leaves it out.
CREATE TABLE leader_lease (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    holder TEXT COLLATE "C" NOT NULL,        -- host:pid:random of the leading process
    host TEXT COLLATE "C" NOT NULL,
    pid INTEGER NOT NULL,
    backend_pid INTEGER NOT NULL,            -- the lock connection's server process
    acquired_at TIMESTAMPTZ NOT NULL,
    renewed_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
