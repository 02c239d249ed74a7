-- The creator can put a queued escalation aside until a later time; it leaves the top
-- of the queue until then.
ALTER TABLE escalations ADD COLUMN deferred_until TEXT;
CREATE INDEX escalations_by_expiry ON escalations(status, expires_at);
