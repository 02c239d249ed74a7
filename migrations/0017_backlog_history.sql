-- The queue's length over time, for the metrics' backlog chart: a sample each time an
-- escalation enters or leaves the queue (accepted by the fan; answered, declined,
-- expired or deleted), written by these triggers in the same transaction.
CREATE TABLE backlog_samples (
    id       INTEGER PRIMARY KEY,
    agent_id INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    queued   INTEGER NOT NULL CHECK (queued >= 0)
) STRICT;
CREATE INDEX backlog_by_agent_time ON backlog_samples(agent_id, at);

CREATE TRIGGER backlog_on_status AFTER UPDATE OF status ON escalations
WHEN NEW.status IS NOT OLD.status AND (NEW.status = 'accepted' OR OLD.status = 'accepted') BEGIN
    INSERT INTO backlog_samples (agent_id, queued)
        SELECT NEW.agent_id, count(*) FROM escalations WHERE agent_id = NEW.agent_id AND status = 'accepted';
END;
CREATE TRIGGER backlog_on_insert AFTER INSERT ON escalations WHEN NEW.status = 'accepted' BEGIN
    INSERT INTO backlog_samples (agent_id, queued)
        SELECT NEW.agent_id, count(*) FROM escalations WHERE agent_id = NEW.agent_id AND status = 'accepted';
END;
CREATE TRIGGER backlog_on_delete AFTER DELETE ON escalations WHEN OLD.status = 'accepted' BEGIN
    INSERT INTO backlog_samples (agent_id, queued)
        SELECT OLD.agent_id, count(*) FROM escalations WHERE agent_id = OLD.agent_id AND status = 'accepted';
END;

-- Where the queue stands as this migration runs.
INSERT INTO backlog_samples (agent_id, queued)
    SELECT a.id, (SELECT count(*) FROM escalations e WHERE e.agent_id = a.id AND e.status = 'accepted') FROM agents a;
