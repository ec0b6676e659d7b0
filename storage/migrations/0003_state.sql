-- Conversation state we own instead of PTB persistence: written by the services in the same
-- transaction as the step's other rows, so a crash between a step and a timer flush loses
-- nothing.

-- The resident's open form (filing, follow-up, rating comment, reopen reason), one per person:
-- JSON of a typed model (`step` and the values gathered so far).
CREATE TABLE forms (
    person_id INTEGER PRIMARY KEY,
    data TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- A staff or mayor prompt («write the reason…») waiting for a Telegram reply, per chat and
-- prompt message: whoever of `person_id` answers it in that chat acts on the ticket.
CREATE TABLE prompts (
    chat_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    person_id INTEGER NOT NULL,
    action TEXT NOT NULL,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    extra TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    PRIMARY KEY (chat_id, message_id)
);

-- Ticket cards the bot sent directly (not through the outbox): a Telegram reply to one is a
-- reply to its ticket.
CREATE TABLE card_messages (
    chat_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (chat_id, message_id)
);
CREATE INDEX card_messages_at ON card_messages(created_at);
CREATE INDEX prompts_at ON prompts(created_at);
