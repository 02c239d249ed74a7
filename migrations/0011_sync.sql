-- Sync between the hub and the creator's devices (docs/sync.md).
--
-- Synced rows get a uid that is the same on every node (the integer ids stay local).
-- A canonical answer born from an escalation's answer takes the uid 'answer-' || the
-- escalation's uid, so two devices answering the same escalation write the same
-- canonical answer, and the hub keeps the first.
ALTER TABLE fans ADD COLUMN uid TEXT;
ALTER TABLE escalations ADD COLUMN uid TEXT;
ALTER TABLE canonical_answers ADD COLUMN uid TEXT;
-- When each field was last set (a hybrid logical clock reading; '' before any edit):
-- concurrent edits of one field go to the later.
ALTER TABLE canonical_answers ADD COLUMN answer_hlc TEXT NOT NULL DEFAULT '';
ALTER TABLE canonical_answers ADD COLUMN layer_hlc TEXT NOT NULL DEFAULT '';
UPDATE fans SET uid = lower(hex(randomblob(16)));
UPDATE escalations SET uid = lower(hex(randomblob(16)));
UPDATE canonical_answers SET uid = coalesce(
    (SELECT 'answer-' || e.uid FROM escalations e WHERE e.id = canonical_answers.source_escalation_id),
    lower(hex(randomblob(16))));
CREATE UNIQUE INDEX fans_by_uid ON fans(uid);
CREATE UNIQUE INDEX escalations_by_uid ON escalations(uid);
CREATE UNIQUE INDEX canonical_by_uid ON canonical_answers(uid);

-- This node's id in its clock readings.
INSERT INTO meta (key, value) VALUES ('sync.node', lower(hex(randomblob(8))));

-- The log a device pulls from: one row per synced thing, moved to the end (a new seq,
-- assigned in the transaction that changed it) whenever it changes (delete, then
-- insert: a trigger's OR REPLACE would give way to an upsert's own conflict clause). A device that has
-- pulled through seq n has everything as of n; what changed after is after n.
CREATE TABLE sync_log (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    entity TEXT NOT NULL,
    uid    TEXT NOT NULL,
    UNIQUE (entity, uid)
) STRICT;

-- A paired device's changes, written in the transaction that made them, numbered
-- without holes, kept until the hub has them.
CREATE TABLE sync_outbox (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    change_uid     TEXT NOT NULL UNIQUE DEFAULT (lower(hex(randomblob(16)))),
    hlc            TEXT NOT NULL,
    entity         TEXT NOT NULL,
    uid            TEXT NOT NULL,
    op             TEXT NOT NULL,
    payload        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(payload)),
    base_hlc       TEXT NOT NULL DEFAULT '',
    schema_version INTEGER NOT NULL DEFAULT 1,
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

-- The hub: how far each device's changes have been applied.
CREATE TABLE sync_devices (
    device_id      INTEGER PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    pushed_through INTEGER NOT NULL DEFAULT 0,
    last_push_at   TEXT
) STRICT;

-- Work of two devices that met: the losing value is kept here for the creator.
CREATE TABLE sync_conflicts (
    id         INTEGER PRIMARY KEY,
    uid        TEXT NOT NULL UNIQUE DEFAULT (lower(hex(randomblob(16)))),
    kind       TEXT NOT NULL,
    entity     TEXT NOT NULL,
    entity_uid TEXT NOT NULL,
    field      TEXT NOT NULL DEFAULT '',
    kept       TEXT NOT NULL DEFAULT '',
    winner     TEXT NOT NULL DEFAULT '',
    device     TEXT NOT NULL DEFAULT '',
    hlc        TEXT NOT NULL DEFAULT '',
    question   TEXT NOT NULL DEFAULT '',
    resolution TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

-- Records from a newer hub this build cannot apply yet, replayed after an upgrade.
CREATE TABLE sync_pending (
    seq    INTEGER PRIMARY KEY,
    record TEXT NOT NULL CHECK (json_valid(record))
) STRICT;

-- uids for new rows (a row applied from the hub comes with its own).
CREATE TRIGGER fans_uid AFTER INSERT ON fans WHEN NEW.uid IS NULL BEGIN
    UPDATE fans SET uid = lower(hex(randomblob(16))) WHERE id = NEW.id;
END;
CREATE TRIGGER escalations_uid AFTER INSERT ON escalations WHEN NEW.uid IS NULL BEGIN
    UPDATE escalations SET uid = lower(hex(randomblob(16))) WHERE id = NEW.id;
END;
CREATE TRIGGER canonical_uid AFTER INSERT ON canonical_answers WHEN NEW.uid IS NULL BEGIN
    UPDATE canonical_answers SET uid = coalesce(
        (SELECT 'answer-' || e.uid FROM escalations e WHERE e.id = NEW.source_escalation_id),
        lower(hex(randomblob(16)))) WHERE id = NEW.id;
END;

-- The log (on every node; a hub serves it).
CREATE TRIGGER escalations_log_insert AFTER INSERT ON escalations WHEN NEW.uid IS NOT NULL BEGIN
    DELETE FROM sync_log WHERE entity = 'escalation' AND uid = NEW.uid;
    INSERT INTO sync_log (entity, uid) VALUES ('escalation', NEW.uid);
END;
CREATE TRIGGER escalations_log_update AFTER UPDATE OF uid, status, answer, answer_layer, canonical_answer_id,
    priority, expires_at, deferred_until, accepted_at, context_summary ON escalations WHEN NEW.uid IS NOT NULL BEGIN
    DELETE FROM sync_log WHERE entity = 'escalation' AND uid = NEW.uid;
    INSERT INTO sync_log (entity, uid) VALUES ('escalation', NEW.uid);
END;
CREATE TRIGGER canonical_log_insert AFTER INSERT ON canonical_answers WHEN NEW.uid IS NOT NULL BEGIN
    DELETE FROM sync_log WHERE entity = 'canonical' AND uid = NEW.uid;
    INSERT INTO sync_log (entity, uid) VALUES ('canonical', NEW.uid);
END;
CREATE TRIGGER canonical_log_update AFTER UPDATE OF uid, question_pattern, answer, layer, answer_hlc, layer_hlc
    ON canonical_answers WHEN NEW.uid IS NOT NULL BEGIN
    DELETE FROM sync_log WHERE entity = 'canonical' AND uid = NEW.uid;
    INSERT INTO sync_log (entity, uid) VALUES ('canonical', NEW.uid);
END;
CREATE TRIGGER canonical_log_delete AFTER DELETE ON canonical_answers WHEN OLD.uid IS NOT NULL BEGIN
    DELETE FROM sync_log WHERE entity = 'canonical' AND uid = OLD.uid;
    INSERT INTO sync_log (entity, uid) VALUES ('canonical', OLD.uid);
END;
CREATE TRIGGER variants_log_insert AFTER INSERT ON canonical_variants BEGIN
    DELETE FROM sync_log WHERE entity = 'canonical'
      AND uid = (SELECT uid FROM canonical_answers WHERE id = NEW.canonical_answer_id);
    INSERT INTO sync_log (entity, uid)
    SELECT 'canonical', uid FROM canonical_answers WHERE id = NEW.canonical_answer_id AND uid IS NOT NULL;
END;
CREATE TRIGGER variants_log_delete AFTER DELETE ON canonical_variants BEGIN
    DELETE FROM sync_log WHERE entity = 'canonical'
      AND uid = (SELECT uid FROM canonical_answers WHERE id = OLD.canonical_answer_id);
    INSERT INTO sync_log (entity, uid)
    SELECT 'canonical', uid FROM canonical_answers WHERE id = OLD.canonical_answer_id AND uid IS NOT NULL;
END;
CREATE TRIGGER conflicts_log_insert AFTER INSERT ON sync_conflicts BEGIN
    DELETE FROM sync_log WHERE entity = 'conflict' AND uid = NEW.uid;
    INSERT INTO sync_log (entity, uid) VALUES ('conflict', NEW.uid);
END;
CREATE TRIGGER conflicts_log_update AFTER UPDATE OF resolution ON sync_conflicts BEGIN
    DELETE FROM sync_log WHERE entity = 'conflict' AND uid = NEW.uid;
    INSERT INTO sync_log (entity, uid) VALUES ('conflict', NEW.uid);
END;

-- Edits made here (not applied from a peer: fanline_applying()) are stamped with this
-- node's clock (fanline_hlc()), and on a paired device (meta 'sync.hub_url') written
-- to the outbox in the same transaction.
CREATE TRIGGER canonical_answer_edit AFTER UPDATE OF answer ON canonical_answers
    WHEN NEW.answer IS NOT OLD.answer AND NOT fanline_applying() BEGIN
    UPDATE canonical_answers SET answer_hlc = fanline_hlc() WHERE id = NEW.id;
    INSERT INTO sync_outbox (hlc, entity, uid, op, payload, base_hlc)
    SELECT answer_hlc, 'canonical', uid, 'set', json_object('field', 'answer', 'value', answer), OLD.answer_hlc
    FROM canonical_answers WHERE id = NEW.id AND EXISTS (SELECT 1 FROM meta WHERE key = 'sync.hub_url');
END;
CREATE TRIGGER canonical_layer_edit AFTER UPDATE OF layer ON canonical_answers
    WHEN NEW.layer IS NOT OLD.layer AND NOT fanline_applying() BEGIN
    UPDATE canonical_answers SET layer_hlc = fanline_hlc() WHERE id = NEW.id;
    INSERT INTO sync_outbox (hlc, entity, uid, op, payload, base_hlc)
    SELECT layer_hlc, 'canonical', uid, 'set', json_object('field', 'layer', 'value', layer), OLD.layer_hlc
    FROM canonical_answers WHERE id = NEW.id AND EXISTS (SELECT 1 FROM meta WHERE key = 'sync.hub_url');
END;
-- A canonical answer written on this device (one born from an escalation's answer
-- travels with the answer).
CREATE TRIGGER canonical_outbox_add AFTER UPDATE OF uid ON canonical_answers
    WHEN OLD.uid IS NULL AND NEW.source_escalation_id IS NULL AND NOT fanline_applying()
     AND EXISTS (SELECT 1 FROM meta WHERE key = 'sync.hub_url') BEGIN
    INSERT INTO sync_outbox (hlc, entity, uid, op, payload)
    VALUES (fanline_hlc(), 'canonical', NEW.uid, 'add', json_object(
        'agent', (SELECT name FROM agents WHERE id = NEW.agent_id), 'question', NEW.question_pattern,
        'answer', NEW.answer, 'layer', NEW.layer));
    UPDATE canonical_answers SET answer_hlc = (SELECT hlc FROM sync_outbox ORDER BY seq DESC LIMIT 1),
        layer_hlc = (SELECT hlc FROM sync_outbox ORDER BY seq DESC LIMIT 1) WHERE id = NEW.id;
END;
CREATE TRIGGER canonical_outbox_delete AFTER DELETE ON canonical_answers
    WHEN OLD.uid IS NOT NULL AND NOT fanline_applying() AND EXISTS (SELECT 1 FROM meta WHERE key = 'sync.hub_url') BEGIN
    INSERT INTO sync_outbox (hlc, entity, uid, op) VALUES (fanline_hlc(), 'canonical', OLD.uid, 'delete');
END;
-- A phrasing added (not the question pattern, and not a fan's question that travels
-- with the escalation's answer).
CREATE TRIGGER variants_outbox_add AFTER INSERT ON canonical_variants
    WHEN NEW.is_pattern = 0 AND NOT fanline_applying() AND EXISTS (SELECT 1 FROM meta WHERE key = 'sync.hub_url')
     AND NOT EXISTS (SELECT 1 FROM escalations e WHERE trim(e.question) = NEW.text
                     AND (e.status IN ('pending', 'accepted') OR e.canonical_answer_id = NEW.canonical_answer_id)) BEGIN
    INSERT INTO sync_outbox (hlc, entity, uid, op, payload)
    SELECT fanline_hlc(), 'canonical', uid, 'variant_add', json_object('text', NEW.text)
    FROM canonical_answers WHERE id = NEW.canonical_answer_id AND uid IS NOT NULL;
END;
-- The escalation lifecycle: commands with the status the device saw; the hub arbitrates.
CREATE TRIGGER escalations_outbox_answer AFTER UPDATE OF status ON escalations
    WHEN NEW.status = 'answered' AND OLD.status <> 'answered' AND NOT fanline_applying()
     AND EXISTS (SELECT 1 FROM meta WHERE key = 'sync.hub_url') BEGIN
    INSERT INTO sync_outbox (hlc, entity, uid, op, payload)
    VALUES (fanline_hlc(), 'escalation', NEW.uid, 'answer', json_object(
        'expected_status', OLD.status, 'text', NEW.answer, 'layer', NEW.answer_layer,
        'canonical_uid', (SELECT uid FROM canonical_answers WHERE id = NEW.canonical_answer_id),
        'attached', json(CASE WHEN (SELECT source_escalation_id FROM canonical_answers
                                    WHERE id = NEW.canonical_answer_id) IS NEW.id THEN 'false' ELSE 'true' END)));
END;
CREATE TRIGGER escalations_outbox_decline AFTER UPDATE OF status ON escalations
    WHEN NEW.status = 'declined' AND OLD.status <> 'declined' AND NOT fanline_applying()
     AND EXISTS (SELECT 1 FROM meta WHERE key = 'sync.hub_url') BEGIN
    INSERT INTO sync_outbox (hlc, entity, uid, op, payload)
    VALUES (fanline_hlc(), 'escalation', NEW.uid, 'decline', json_object('expected_status', OLD.status));
END;
CREATE TRIGGER escalations_outbox_defer AFTER UPDATE OF deferred_until ON escalations
    WHEN NEW.deferred_until IS NOT NULL AND NEW.deferred_until IS NOT OLD.deferred_until AND NOT fanline_applying()
     AND EXISTS (SELECT 1 FROM meta WHERE key = 'sync.hub_url') BEGIN
    INSERT INTO sync_outbox (hlc, entity, uid, op, payload)
    VALUES (fanline_hlc(), 'escalation', NEW.uid, 'defer', json_object('until', NEW.deferred_until));
END;
