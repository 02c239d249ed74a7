-- Examples the reuse model learns from besides the canonical answers' phrasings
-- (engine/src/reuse/learned.rs): a fan's question judged a right reuse of an answer
-- (`canonical_answer_id` set), and questions that are none of the answers (NULL): the
-- generic off-topic set shipped with the app (`agent_id` NULL, shared by every agent),
-- questions the creator declined, and questions judged a wrong reuse. Indexed as items
-- of kind 2 (ItemKind::Example) and logged in index_log like every indexed change, so
-- every process's model follows them. AUTOINCREMENT: an id is never reused, so a
-- process that saw an example go never mistakes a new one for it.
CREATE TABLE reuse_examples (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id            INTEGER REFERENCES agents(id) ON DELETE CASCADE,
    canonical_answer_id INTEGER REFERENCES canonical_answers(id) ON DELETE CASCADE,
    source              TEXT NOT NULL CHECK (source IN ('generic', 'declined', 'judged_right', 'judged_wrong')),
    decision_id         INTEGER REFERENCES decisions(id) ON DELETE CASCADE,
    escalation_id       INTEGER REFERENCES escalations(id) ON DELETE CASCADE,
    text                TEXT NOT NULL,
    embedding           BLOB NOT NULL,
    created_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CHECK ((source = 'generic') = (agent_id IS NULL)),
    CHECK ((source = 'judged_right') = (canonical_answer_id IS NOT NULL))
) STRICT;
CREATE UNIQUE INDEX reuse_examples_by_decision ON reuse_examples(decision_id) WHERE decision_id IS NOT NULL;
CREATE UNIQUE INDEX reuse_examples_by_escalation ON reuse_examples(escalation_id) WHERE escalation_id IS NOT NULL;
CREATE INDEX reuse_examples_by_answer ON reuse_examples(canonical_answer_id) WHERE canonical_answer_id IS NOT NULL;
