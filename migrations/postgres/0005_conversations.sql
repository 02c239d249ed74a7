-- Conversations (the store interface's `Conversations`, as SQLite's migrations 0001,
-- 0003 and 0010 have them): fans' messages, the replies and events that follow them,
-- the decisions made on them, and fans' idempotency keys.
--
-- A conversation's messages are its event log and a fan's cursor is a message id, so
-- ids must be taken in commit order within a conversation: every transaction that adds
-- a message first locks its conversation's row (a BIGSERIAL alone would let a message
-- numbered 7 commit after a reader had passed 8).

CREATE TABLE messages (
    id               BIGSERIAL PRIMARY KEY,
    conversation_id  BIGINT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role             TEXT NOT NULL CHECK (role IN ('fan', 'agent', 'creator')),
    body             TEXT NOT NULL,
    kind             TEXT,
    escalation_id    BIGINT REFERENCES escalations(id) ON DELETE SET NULL,
    reply_to         BIGINT REFERENCES messages(id) ON DELETE SET NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX messages_by_conversation ON messages (conversation_id, id);
CREATE INDEX messages_by_reply_to ON messages (reply_to) WHERE reply_to IS NOT NULL;

CREATE TABLE decisions (
    id                   BIGSERIAL PRIMARY KEY,
    message_id           BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    agent_id             BIGINT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    fan_id               BIGINT NOT NULL REFERENCES fans(id) ON DELETE CASCADE,
    path                 TEXT NOT NULL CHECK (path IN ('A', 'B', 'C', 'D', 'E', 'F')),
    reason               TEXT NOT NULL DEFAULT '',
    signals              JSONB NOT NULL DEFAULT '{}',
    trace                JSONB NOT NULL DEFAULT '[]',
    reply                TEXT NOT NULL DEFAULT '',
    -- Path C: the canonical answer served (its table comes with the knowledge area).
    canonical_answer_id  BIGINT,
    created_at           TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX decisions_by_agent ON decisions (agent_id, id);
CREATE INDEX decisions_by_message ON decisions (message_id);
CREATE INDEX decisions_by_fan ON decisions (fan_id, id);

-- A fan's Idempotency-Key and the message it stored, in the same transaction.
CREATE TABLE idempotency_keys (
    fan_id        BIGINT NOT NULL REFERENCES fans(id) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    message_id    BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (fan_id, key)
);
