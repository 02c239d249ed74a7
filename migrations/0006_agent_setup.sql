-- The first-run flow: the name fans see in replies, and when the creator finished
-- setting the agent up (NULL: the desktop app shows the first-run screens).
ALTER TABLE agents ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN setup_done_at TEXT;
