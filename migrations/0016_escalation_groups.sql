-- The creator's queue groups escalations that ask the same thing (computed when the
-- queue is read, engine/src/reuse/groups.rs). `alone`: the creator took this one out
-- of its group (or split the group); it stays by itself. A preference of this device's
-- queue view: not synced.
ALTER TABLE escalations ADD COLUMN alone INTEGER NOT NULL DEFAULT 0 CHECK (alone IN (0, 1));
