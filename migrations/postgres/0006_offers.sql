-- Offers (the store interface's `Offers`): the escalations table of 0001 completed to
-- what SQLite's migrations 0001, 0002, 0003 and 0016 hold, and messages linked to it.

ALTER TABLE escalations
    ADD COLUMN message_id            BIGINT REFERENCES messages(id) ON DELETE SET NULL,
    ADD COLUMN decision_id           BIGINT REFERENCES decisions(id) ON DELETE SET NULL,
    ADD COLUMN reason                TEXT NOT NULL DEFAULT 'novel' CHECK (reason IN ('novel', 'strategic', 'complex')),
    ADD COLUMN priority              BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN context_summary       TEXT NOT NULL DEFAULT '',
    ADD COLUMN answer                TEXT,
    ADD COLUMN answer_layer          TEXT CHECK (answer_layer IN ('public', 'friends', 'intimate')),
    -- The canonical answer it became (its table comes with the knowledge area).
    ADD COLUMN canonical_answer_id   BIGINT,
    ADD COLUMN answered_at           TIMESTAMPTZ,
    ADD COLUMN declined_at           TIMESTAMPTZ,
    ADD COLUMN expired_at            TIMESTAMPTZ,
    ADD COLUMN expires_at            TIMESTAMPTZ,
    ADD COLUMN deferred_until        TIMESTAMPTZ,
    ADD COLUMN expected_reply_after  TIMESTAMPTZ,
    ADD COLUMN alone                 BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN updated_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    ADD CONSTRAINT escalations_answered_has_answer
        CHECK (status <> 'answered' OR (answer IS NOT NULL AND answer_layer IS NOT NULL));
CREATE INDEX escalations_by_status ON escalations (agent_id, status, priority DESC, offered_at);
CREATE INDEX escalations_by_expiry ON escalations (status, expires_at);
CREATE INDEX escalations_by_decision ON escalations (decision_id);
CREATE INDEX escalations_by_fan ON escalations (agent_id, fan_id);
