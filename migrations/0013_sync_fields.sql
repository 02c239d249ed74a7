-- Per-field timestamps of synced things that are not rows of their own: an agent's
-- rules and its policy file (entity 'rules', uid the agent's name, one field per rule
-- and 'policy'). Concurrent edits of a field go to the later (docs/sync.md).
CREATE TABLE sync_fields (
    entity TEXT NOT NULL,
    uid    TEXT NOT NULL,
    field  TEXT NOT NULL,
    hlc    TEXT NOT NULL,
    PRIMARY KEY (entity, uid, field)
) STRICT;
