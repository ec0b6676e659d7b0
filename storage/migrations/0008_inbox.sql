-- Issue 16: updates fetched from the Bot API are stored before Telegram is told they were
-- received (the next getUpdates offset), so a process killed mid-batch loses none: the next
-- run (or the standby that takes over) handles what is left here first. A row is deleted
-- once its update was handled; `processed_updates` keeps each handled once.
CREATE TABLE inbox (
    update_id   INTEGER PRIMARY KEY,
    body        TEXT NOT NULL,          -- the update's JSON as the Bot API sent it
    received_at TEXT NOT NULL
);
