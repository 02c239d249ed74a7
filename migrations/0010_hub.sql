-- The hub (`fanline serve`): fans reaching Fanline over HTTP.
--
-- A conversation's messages are also its event log: every message the fan is shown
-- carries what it is (`kind`: a reply, an escalation offered, accepted, answered or
-- declined), the escalation it concerns, and for a reply the fan's message it answers.
-- Message ids only grow, so a fan's cursor (and an event stream's Last-Event-ID) is a
-- message id. Older rows have none of these.
ALTER TABLE messages ADD COLUMN kind TEXT;
ALTER TABLE messages ADD COLUMN escalation_id INTEGER REFERENCES escalations(id) ON DELETE SET NULL;
ALTER TABLE messages ADD COLUMN reply_to INTEGER REFERENCES messages(id) ON DELETE SET NULL;
CREATE INDEX messages_by_reply_to ON messages(reply_to) WHERE reply_to IS NOT NULL;

-- An agent's public site: the key its web page gives the widget, and the origins the
-- widget may be served from (CORS), a JSON list.
CREATE TABLE hub_sites (
    agent_id   INTEGER PRIMARY KEY REFERENCES agents(id) ON DELETE CASCADE,
    site_key   TEXT NOT NULL UNIQUE,
    origins    TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

-- A fan's bearer token (stored as its hash, never itself) and how the fan was vouched
-- for. Revoked or expired tokens are refused.
CREATE TABLE fan_sessions (
    id         INTEGER PRIMARY KEY,
    agent_id   INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    fan_id     INTEGER NOT NULL REFERENCES fans(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    via        TEXT NOT NULL CHECK (via IN ('anonymous', 'user_hash', 'jwt', 'invite')),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    expires_at TEXT NOT NULL,
    revoked_at TEXT
) STRICT;
CREATE INDEX fan_sessions_by_fan ON fan_sessions(fan_id);

-- Invite links the creator handed out (the link itself is signed; its nonce, hashed,
-- is how it is revoked or found).
CREATE TABLE fan_invites (
    id         INTEGER PRIMARY KEY,
    agent_id   INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    handle     TEXT NOT NULL,
    tier       TEXT NOT NULL CHECK (tier IN ('free', 'follower', 'paid')),
    layer      TEXT NOT NULL CHECK (layer IN ('public', 'friends', 'intimate')),
    nonce_hash TEXT NOT NULL UNIQUE,
    expires_at TEXT NOT NULL,
    used_at    TEXT,
    revoked_at TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

-- The creator's devices and tools that use the admin API, with their scopes; tokens
-- are stored hashed.
CREATE TABLE devices (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    last_used_at TEXT,
    revoked_at   TEXT
) STRICT;

-- Short-lived codes a device pairs with (stored hashed), used once.
CREATE TABLE pairing_codes (
    code_hash  TEXT PRIMARY KEY,
    scopes     TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    device_id  INTEGER REFERENCES devices(id) ON DELETE SET NULL
) STRICT;

-- A fan's Idempotency-Key: the message it stored (in the same transaction) and a hash
-- of the request, so a replay finds the original and a different body under the same
-- key is refused.
CREATE TABLE idempotency_keys (
    fan_id       INTEGER NOT NULL REFERENCES fans(id) ON DELETE CASCADE,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    message_id   INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (fan_id, key)
) STRICT;
