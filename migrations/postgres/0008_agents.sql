-- Agents (the store interface's `Agents`, as SQLite's migrations 0001, 0003, 0006 and
-- 0008 have them): the name fans see, the first-run mark, each agent's rules and the
-- last valid policy text. The rules' defaults are written by the store from the
-- engine's, not taken from these columns.

ALTER TABLE agents ADD CONSTRAINT agents_name_not_blank CHECK (length(btrim(name)) > 0);
ALTER TABLE agents
    ADD COLUMN display_name   TEXT NOT NULL DEFAULT '',
    ADD COLUMN setup_done_at  TIMESTAMPTZ,
    ADD COLUMN updated_at     TIMESTAMPTZ NOT NULL DEFAULT now();

CREATE TABLE agent_config (
    agent_id                          BIGINT PRIMARY KEY REFERENCES agents(id) ON DELETE CASCADE,
    max_escalations_per_day           BIGINT NOT NULL CHECK (max_escalations_per_day >= 0),
    max_escalations_per_week          BIGINT NOT NULL CHECK (max_escalations_per_week >= 0),
    escalation_enabled                BOOLEAN NOT NULL,
    auto_answer_confidence_threshold  DOUBLE PRECISION NOT NULL
        CHECK (auto_answer_confidence_threshold BETWEEN 0 AND 1),
    clarification_enabled             BOOLEAN NOT NULL,
    blocked_topics                    JSONB NOT NULL,
    allowed_user_tiers                JSONB NOT NULL,
    availability_windows              JSONB NOT NULL,
    outside_hours                     TEXT NOT NULL CHECK (outside_hours IN ('queue', 'refuse')),
    timezone                          TEXT NOT NULL,
    persona                           TEXT NOT NULL,
    created_at                        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at                        TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE last_valid_policy (
    agent_id  BIGINT PRIMARY KEY REFERENCES agents(id) ON DELETE CASCADE,
    text      TEXT NOT NULL,
    saved_at  TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);
