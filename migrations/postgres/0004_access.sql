-- Who may reach the hub (the store interface's `HubAccess`, as SQLite's migrations
-- 0001 and 0010 have it): fans' conversations with an agent, an agent's public site,
-- fans' sessions and invite links, the creator's devices and pairing codes. Tokens and
-- codes are stored as their hashes, never as themselves.

ALTER TABLE fans ADD CONSTRAINT fans_handle_not_blank CHECK (length(btrim(handle)) > 0);
ALTER TABLE fans ADD COLUMN updated_at TIMESTAMPTZ NOT NULL DEFAULT now();

-- One conversation per agent and fan: the unique key lets processes that create it at
-- once agree on one row (INSERT … ON CONFLICT DO NOTHING, then read).
CREATE TABLE conversations (
    id          BIGSERIAL PRIMARY KEY,
    agent_id    BIGINT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    fan_id      BIGINT NOT NULL REFERENCES fans(id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (agent_id, fan_id)
);

CREATE TABLE hub_sites (
    agent_id    BIGINT PRIMARY KEY REFERENCES agents(id) ON DELETE CASCADE,
    site_key    TEXT NOT NULL UNIQUE,
    origins     JSONB NOT NULL DEFAULT '[]',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE fan_sessions (
    id          BIGSERIAL PRIMARY KEY,
    agent_id    BIGINT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    fan_id      BIGINT NOT NULL REFERENCES fans(id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL UNIQUE,
    via         TEXT NOT NULL CHECK (via IN ('anonymous', 'user_hash', 'jwt', 'invite')),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ
);
CREATE INDEX fan_sessions_by_fan ON fan_sessions (fan_id);

CREATE TABLE fan_invites (
    id          BIGSERIAL PRIMARY KEY,
    agent_id    BIGINT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    handle      TEXT NOT NULL,
    tier        TEXT NOT NULL CHECK (tier IN ('free', 'follower', 'paid')),
    layer       TEXT NOT NULL CHECK (layer IN ('public', 'friends', 'intimate')),
    nonce_hash  TEXT NOT NULL UNIQUE,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ,
    revoked_at  TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX fan_invites_by_handle ON fan_invites (agent_id, handle);

CREATE TABLE devices (
    id            BIGSERIAL PRIMARY KEY,
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    scopes        JSONB NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at  TIMESTAMPTZ,
    revoked_at    TIMESTAMPTZ
);

CREATE TABLE pairing_codes (
    code_hash   TEXT PRIMARY KEY,
    scopes      JSONB NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    device_id   BIGINT REFERENCES devices(id) ON DELETE SET NULL
);
