-- The creator's verdict on a served canonical answer (path C): right or wrong. With the
-- escalations the creator answered (a new answer, or attached to an existing one), it is
-- the history `fanline calibrate --history` tunes the reuse thresholds on.
CREATE TABLE reuse_feedback (
    decision_id INTEGER PRIMARY KEY REFERENCES decisions(id) ON DELETE CASCADE,
    correct     INTEGER NOT NULL CHECK (correct IN (0, 1)),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
