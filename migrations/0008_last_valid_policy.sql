-- The last valid policy of each agent, as text: when its file is broken in place, this
-- is the policy in force in every process (the desktop app, the CLI, the hub), not just
-- in the one that happened to read the file while it was valid.
CREATE TABLE last_valid_policy (
    agent_id INTEGER PRIMARY KEY REFERENCES agents(id) ON DELETE CASCADE,
    text     TEXT NOT NULL,
    saved_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
