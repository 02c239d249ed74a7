-- Canonical answers, as SQLite's migration 0001 has them, for what routing writes
-- (a served answer's reuse count). Their phrasings and vectors come with the knowledge
-- area of the store interface.

CREATE TABLE canonical_answers (
    id                    BIGSERIAL PRIMARY KEY,
    agent_id              BIGINT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    question_pattern      TEXT NOT NULL CHECK (length(btrim(question_pattern)) > 0),
    answer                TEXT NOT NULL CHECK (length(btrim(answer)) > 0),
    layer                 TEXT NOT NULL DEFAULT 'public' CHECK (layer IN ('public', 'friends', 'intimate')),
    times_reused          BIGINT NOT NULL DEFAULT 0 CHECK (times_reused >= 0),
    last_served_at        TIMESTAMPTZ,
    source_escalation_id  BIGINT REFERENCES escalations(id) ON DELETE SET NULL,
    created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at            TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX canonical_by_agent ON canonical_answers (agent_id);

ALTER TABLE decisions ADD CONSTRAINT decisions_canonical_answer
    FOREIGN KEY (canonical_answer_id) REFERENCES canonical_answers(id) ON DELETE SET NULL;
ALTER TABLE escalations ADD CONSTRAINT escalations_canonical_answer
    FOREIGN KEY (canonical_answer_id) REFERENCES canonical_answers(id) ON DELETE SET NULL;
