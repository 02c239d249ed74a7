-- Reuse counts that sync without losing a serve (docs/sync.md): each node counts the
-- serves it made (a G-counter); a canonical answer's times_reused is the sum of its
-- tallies, and merging takes the larger tally of each node.
CREATE TABLE reuse_tallies (
    canonical_uid TEXT NOT NULL,
    node          TEXT NOT NULL,
    n             INTEGER NOT NULL CHECK (n >= 0),
    PRIMARY KEY (canonical_uid, node)
) STRICT;
INSERT INTO reuse_tallies (canonical_uid, node, n)
SELECT uid, (SELECT value FROM meta WHERE key = 'sync.node'), times_reused
FROM canonical_answers WHERE times_reused > 0 AND uid IS NOT NULL;

-- A serve made here (or counts moved by a merge made here): this node's tally grows,
-- devices are told (the log row moves), and a paired device sends its new tally.
CREATE TRIGGER canonical_reuse_tally AFTER UPDATE OF times_reused ON canonical_answers
    WHEN NEW.times_reused > OLD.times_reused AND NEW.uid IS NOT NULL AND NOT fanline_applying() BEGIN
    INSERT INTO reuse_tallies (canonical_uid, node, n)
    VALUES (NEW.uid, (SELECT value FROM meta WHERE key = 'sync.node'), NEW.times_reused - OLD.times_reused)
    ON CONFLICT (canonical_uid, node) DO UPDATE SET n = n + excluded.n;
    DELETE FROM sync_log WHERE entity = 'canonical' AND uid = NEW.uid;
    INSERT INTO sync_log (entity, uid) VALUES ('canonical', NEW.uid);
    INSERT INTO sync_outbox (hlc, entity, uid, op, payload)
    SELECT fanline_hlc(), 'canonical', NEW.uid, 'tally', json_object('node', t.node, 'n', t.n)
    FROM reuse_tallies t
    WHERE t.canonical_uid = NEW.uid AND t.node = (SELECT value FROM meta WHERE key = 'sync.node')
      AND EXISTS (SELECT 1 FROM meta WHERE key = 'sync.hub_url');
END;
CREATE TRIGGER canonical_reuse_forget AFTER DELETE ON canonical_answers WHEN OLD.uid IS NOT NULL BEGIN
    DELETE FROM reuse_tallies WHERE canonical_uid = OLD.uid;
END;
