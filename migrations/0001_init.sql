-- Fanline schema, version 1: everything the creator routing system keeps.
-- Timestamps are UTC RFC 3339 text with milliseconds; created_at is set by default and
-- updated_at by the triggers at the end of this file.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE agents (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE CHECK (length(trim(name)) > 0),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

CREATE TABLE agent_config (
    agent_id                         INTEGER PRIMARY KEY REFERENCES agents(id) ON DELETE CASCADE,
    max_escalations_per_day          INTEGER NOT NULL DEFAULT 10 CHECK (max_escalations_per_day >= 0),
    max_escalations_per_week         INTEGER NOT NULL DEFAULT 50 CHECK (max_escalations_per_week >= 0),
    escalation_enabled               INTEGER NOT NULL DEFAULT 1 CHECK (escalation_enabled IN (0, 1)),
    auto_answer_confidence_threshold REAL    NOT NULL DEFAULT 0.75
        CHECK (auto_answer_confidence_threshold BETWEEN 0 AND 1),
    clarification_enabled            INTEGER NOT NULL DEFAULT 1 CHECK (clarification_enabled IN (0, 1)),
    blocked_topics                   TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(blocked_topics)),
    allowed_user_tiers               TEXT    NOT NULL DEFAULT '["free","follower"]'
        CHECK (json_valid(allowed_user_tiers)),
    availability_windows             TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(availability_windows)),
    timezone                         TEXT    NOT NULL DEFAULT 'UTC',
    persona                          TEXT    NOT NULL DEFAULT '',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

CREATE TABLE fans (
    id         INTEGER PRIMARY KEY,
    handle     TEXT NOT NULL UNIQUE CHECK (length(trim(handle)) > 0),
    tier       TEXT NOT NULL DEFAULT 'free' CHECK (tier IN ('free', 'follower', 'paid')),
    layer      TEXT NOT NULL DEFAULT 'public' CHECK (layer IN ('public', 'friends', 'intimate')),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

CREATE TABLE conversations (
    id         INTEGER PRIMARY KEY,
    agent_id   INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    fan_id     INTEGER NOT NULL REFERENCES fans(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
CREATE INDEX conversations_by_fan ON conversations(agent_id, fan_id);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role            TEXT NOT NULL CHECK (role IN ('fan', 'agent', 'creator')),
    body            TEXT NOT NULL,
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
CREATE INDEX messages_by_conversation ON messages(conversation_id, id);

CREATE TABLE decisions (
    id         INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    agent_id   INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    fan_id     INTEGER NOT NULL REFERENCES fans(id) ON DELETE CASCADE,
    path       TEXT NOT NULL CHECK (path IN ('A', 'B', 'C', 'D', 'E', 'F')),
    reason     TEXT NOT NULL DEFAULT '',
    signals    TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(signals)),
    trace      TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(trace)),
    reply      TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
CREATE INDEX decisions_by_agent_time ON decisions(agent_id, created_at);
CREATE INDEX decisions_by_message ON decisions(message_id);

CREATE TABLE documents (
    id           INTEGER PRIMARY KEY,
    agent_id     INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    source_path  TEXT NOT NULL,
    title        TEXT NOT NULL DEFAULT '',
    format       TEXT NOT NULL CHECK (format IN ('markdown', 'text', 'html', 'pdf')),
    content_hash TEXT NOT NULL,
    bytes        INTEGER NOT NULL CHECK (bytes >= 0),
    layer        TEXT NOT NULL DEFAULT 'public' CHECK (layer IN ('public', 'friends', 'intimate')),
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (agent_id, source_path)
) STRICT;

CREATE TABLE chunks (
    id          INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    agent_id    INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    ord         INTEGER NOT NULL CHECK (ord >= 0),
    heading     TEXT NOT NULL DEFAULT '',
    text        TEXT NOT NULL,
    text_hash   TEXT NOT NULL,
    layer       TEXT NOT NULL CHECK (layer IN ('public', 'friends', 'intimate')),
    embedding   BLOB NOT NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (document_id, ord)
) STRICT;
CREATE INDEX chunks_by_agent ON chunks(agent_id);

CREATE TABLE escalations (
    id              INTEGER PRIMARY KEY,
    agent_id        INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    fan_id          INTEGER NOT NULL REFERENCES fans(id) ON DELETE CASCADE,
    message_id      INTEGER REFERENCES messages(id) ON DELETE SET NULL,
    decision_id     INTEGER REFERENCES decisions(id) ON DELETE SET NULL,
    question        TEXT NOT NULL,
    reason          TEXT NOT NULL CHECK (reason IN ('novel', 'strategic', 'complex')),
    status          TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'accepted', 'answered', 'declined', 'expired')),
    priority        INTEGER NOT NULL DEFAULT 0,
    context_summary TEXT NOT NULL DEFAULT '',
    answer          TEXT,
    answer_layer    TEXT CHECK (answer_layer IN ('public', 'friends', 'intimate')),
    canonical_answer_id INTEGER REFERENCES canonical_answers(id) ON DELETE SET NULL,
    offered_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    accepted_at     TEXT,
    answered_at     TEXT,
    declined_at     TEXT,
    expired_at      TEXT,
    expires_at      TEXT,
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CHECK (status <> 'answered' OR (answer IS NOT NULL AND answer_layer IS NOT NULL))
) STRICT;
CREATE INDEX escalations_by_status ON escalations(agent_id, status, priority DESC, offered_at);
CREATE INDEX escalations_by_accepted ON escalations(agent_id, accepted_at);

CREATE TABLE canonical_answers (
    id                   INTEGER PRIMARY KEY,
    agent_id             INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    question_pattern     TEXT NOT NULL CHECK (length(trim(question_pattern)) > 0),
    answer               TEXT NOT NULL CHECK (length(trim(answer)) > 0),
    layer                TEXT NOT NULL DEFAULT 'public' CHECK (layer IN ('public', 'friends', 'intimate')),
    times_reused         INTEGER NOT NULL DEFAULT 0 CHECK (times_reused >= 0),
    last_served_at       TEXT,
    source_escalation_id INTEGER REFERENCES escalations(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
CREATE INDEX canonical_by_agent ON canonical_answers(agent_id);

-- The phrasings of a canonical answer's question, each with its embedding and each
-- searchable on its own. The question pattern itself is the row with is_pattern = 1.
CREATE TABLE canonical_variants (
    id                  INTEGER PRIMARY KEY,
    canonical_answer_id INTEGER NOT NULL REFERENCES canonical_answers(id) ON DELETE CASCADE,
    text                TEXT NOT NULL CHECK (length(trim(text)) > 0),
    is_pattern          INTEGER NOT NULL DEFAULT 0 CHECK (is_pattern IN (0, 1)),
    embedding           BLOB NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (canonical_answer_id, text)
) STRICT;
CREATE UNIQUE INDEX canonical_one_pattern ON canonical_variants(canonical_answer_id) WHERE is_pattern = 1;

-- LLM providers. API keys are never stored here: they live in the OS keychain.
CREATE TABLE provider_settings (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE CHECK (length(trim(name)) > 0),
    kind       TEXT NOT NULL CHECK (kind IN ('openai', 'anthropic')),
    base_url   TEXT NOT NULL,
    model      TEXT NOT NULL,
    priority   INTEGER NOT NULL DEFAULT 0,
    enabled    INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    options    TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(options)),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

-- updated_at follows every change (recursive_triggers is off, so these do not loop).
CREATE TRIGGER agents_touch AFTER UPDATE ON agents BEGIN
    UPDATE agents SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = NEW.id;
END;
CREATE TRIGGER agent_config_touch AFTER UPDATE ON agent_config BEGIN
    UPDATE agent_config SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE agent_id = NEW.agent_id;
END;
CREATE TRIGGER fans_touch AFTER UPDATE ON fans BEGIN
    UPDATE fans SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = NEW.id;
END;
CREATE TRIGGER conversations_touch AFTER UPDATE ON conversations BEGIN
    UPDATE conversations SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = NEW.id;
END;
CREATE TRIGGER messages_touch_conversation AFTER INSERT ON messages BEGIN
    UPDATE conversations SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = NEW.conversation_id;
END;
CREATE TRIGGER documents_touch AFTER UPDATE ON documents BEGIN
    UPDATE documents SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = NEW.id;
END;
CREATE TRIGGER escalations_touch AFTER UPDATE ON escalations BEGIN
    UPDATE escalations SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = NEW.id;
END;
CREATE TRIGGER canonical_answers_touch AFTER UPDATE ON canonical_answers BEGIN
    UPDATE canonical_answers SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = NEW.id;
END;
CREATE TRIGGER provider_settings_touch AFTER UPDATE ON provider_settings BEGIN
    UPDATE provider_settings SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = NEW.id;
END;

-- Every agent has exactly one config row, with the product defaults.
CREATE TRIGGER agents_default_config AFTER INSERT ON agents BEGIN
    INSERT INTO agent_config (agent_id) VALUES (NEW.id);
END;

-- The searchable index (tantivy + vector cache) is derived from these tables; this
-- counter moves with every change to them so a stale index is noticed and rebuilt.
INSERT INTO meta (key, value) VALUES ('index_generation', '0');
