-- The hub's tables on PostgreSQL, for several hub processes sharing one database.
-- What must hold across processes is held by the database itself:
--   caps: one counter row per agent and window, raised by a conditional UPDATE;
--   idempotency keys: unique per (agent, fan, key);
--   the change log's cursor: taken from `sync_head` inside the writing transaction, so
--   a reader never passes a change that commits later with a smaller number.

CREATE TABLE agents (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE fans (
    id          BIGSERIAL PRIMARY KEY,
    handle      TEXT NOT NULL UNIQUE,
    tier        TEXT NOT NULL CHECK (tier IN ('free', 'follower', 'paid')),
    layer       TEXT NOT NULL CHECK (layer IN ('public', 'friends', 'intimate')),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE escalations (
    id           BIGSERIAL PRIMARY KEY,
    agent_id     BIGINT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    fan_id       BIGINT NOT NULL REFERENCES fans(id) ON DELETE CASCADE,
    question     TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'accepted', 'answered', 'declined', 'expired')),
    offered_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    accepted_at  TIMESTAMPTZ
);
CREATE INDEX escalations_accepted ON escalations (agent_id, accepted_at) WHERE accepted_at IS NOT NULL;

-- Offers accepted per agent in a window (a creator's day or ISO week, as UTC instants).
-- Never lowered: an escalation accepted in a window counts whatever became of it.
CREATE TABLE cap_usage (
    agent_id      BIGINT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('day', 'week')),
    window_start  TIMESTAMPTZ NOT NULL,
    used          INTEGER NOT NULL DEFAULT 0 CHECK (used >= 0),
    PRIMARY KEY (agent_id, kind, window_start)
);

-- A fan's request, by the Idempotency-Key it came with.
CREATE TABLE idempotency (
    agent_id      BIGINT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    fan_id        BIGINT NOT NULL REFERENCES fans(id) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    response      JSONB,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- When the request running it claimed the key: a claim older than the lease with no
    -- response is a process that died mid-request, and the next retry takes it over.
    claimed_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (agent_id, fan_id, key)
);

-- The change log that hub processes and desktops read in order of `seq`.
CREATE TABLE sync_head (
    id   BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
    seq  BIGINT NOT NULL
);
INSERT INTO sync_head (seq) VALUES (0);

CREATE TABLE changes (
    seq         BIGINT PRIMARY KEY,
    agent_id    BIGINT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    entity      TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    body        JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
