-- 0003 for PostgreSQL (as storage/migrations/0003_state.sql): conversation state we own
-- instead of PTB persistence, written by the services in the same transaction as the step's
-- other rows.

-- The resident's open form, one per person: JSON of a typed model.
CREATE TABLE forms (
    person_id BIGINT PRIMARY KEY,
    data TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL
);

-- A staff or mayor prompt («write the reason…») waiting for a Telegram reply, per chat and
-- prompt message: whoever of `person_id` answers it in that chat acts on the ticket.
CREATE TABLE prompts (
    chat_id BIGINT NOT NULL,
    message_id BIGINT NOT NULL,
    person_id BIGINT NOT NULL,
    action TEXT COLLATE "C" NOT NULL,
    ticket_id BIGINT NOT NULL REFERENCES tickets(id),
    extra TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (chat_id, message_id)
);

-- Ticket cards the bot sent directly (not through the outbox): a Telegram reply to one is a
-- reply to its ticket.
CREATE TABLE card_messages (
    chat_id BIGINT NOT NULL,
    message_id BIGINT NOT NULL,
    ticket_id BIGINT NOT NULL REFERENCES tickets(id),
    created_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (chat_id, message_id)
);
CREATE INDEX card_messages_at ON card_messages(created_at);
CREATE INDEX prompts_at ON prompts(created_at);
