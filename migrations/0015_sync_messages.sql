-- Conversations, messages and decisions sync, append-only (docs/sync.md): each node
-- sends what arrived there; a message or decision never changes once written.
ALTER TABLE conversations ADD COLUMN uid TEXT;
ALTER TABLE messages ADD COLUMN uid TEXT;
ALTER TABLE decisions ADD COLUMN uid TEXT;
UPDATE conversations SET uid = lower(hex(randomblob(16)));
UPDATE messages SET uid = lower(hex(randomblob(16)));
UPDATE decisions SET uid = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX conversations_by_uid ON conversations(uid);
CREATE UNIQUE INDEX messages_by_uid ON messages(uid);
CREATE UNIQUE INDEX decisions_by_uid ON decisions(uid);

CREATE TRIGGER conversations_uid AFTER INSERT ON conversations WHEN NEW.uid IS NULL BEGIN
    UPDATE conversations SET uid = lower(hex(randomblob(16))) WHERE id = NEW.id;
END;
-- The creator's answer or decline as told to the fan takes a uid every node derives
-- the same way (its kind and the escalation's uid): a device's own copy and the hub's
-- are one message.
CREATE TRIGGER messages_uid AFTER INSERT ON messages WHEN NEW.uid IS NULL BEGIN
    UPDATE messages SET uid = coalesce(
        (SELECT NEW.kind || ':' || e.uid FROM escalations e
         WHERE e.id = NEW.escalation_id AND NEW.kind IN ('escalation.answered', 'escalation.declined')
           AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.uid = NEW.kind || ':' || e.uid)),
        lower(hex(randomblob(16)))) WHERE id = NEW.id;
END;
CREATE TRIGGER decisions_uid AFTER INSERT ON decisions WHEN NEW.uid IS NULL BEGIN
    UPDATE decisions SET uid = lower(hex(randomblob(16))) WHERE id = NEW.id;
END;

CREATE TRIGGER messages_log_insert AFTER INSERT ON messages WHEN NEW.uid IS NOT NULL BEGIN
    DELETE FROM sync_log WHERE entity = 'message' AND uid = NEW.uid;
    INSERT INTO sync_log (entity, uid) VALUES ('message', NEW.uid);
END;
CREATE TRIGGER messages_log_uid AFTER UPDATE OF uid ON messages WHEN NEW.uid IS NOT NULL BEGIN
    DELETE FROM sync_log WHERE entity = 'message' AND uid = NEW.uid;
    INSERT INTO sync_log (entity, uid) VALUES ('message', NEW.uid);
END;
CREATE TRIGGER decisions_log_insert AFTER INSERT ON decisions WHEN NEW.uid IS NOT NULL BEGIN
    DELETE FROM sync_log WHERE entity = 'decision' AND uid = NEW.uid;
    INSERT INTO sync_log (entity, uid) VALUES ('decision', NEW.uid);
END;
CREATE TRIGGER decisions_log_uid AFTER UPDATE OF uid ON decisions WHEN NEW.uid IS NOT NULL BEGIN
    DELETE FROM sync_log WHERE entity = 'decision' AND uid = NEW.uid;
    INSERT INTO sync_log (entity, uid) VALUES ('decision', NEW.uid);
END;
-- Written here on a paired device: sent as it is when pushed.
CREATE TRIGGER messages_outbox AFTER UPDATE OF uid ON messages
    WHEN OLD.uid IS NULL AND NOT fanline_applying() AND EXISTS (SELECT 1 FROM meta WHERE key = 'sync.hub_url') BEGIN
    INSERT INTO sync_outbox (hlc, entity, uid, op) VALUES (fanline_hlc(), 'message', NEW.uid, 'message_add');
END;
CREATE TRIGGER decisions_outbox AFTER UPDATE OF uid ON decisions
    WHEN OLD.uid IS NULL AND NOT fanline_applying() AND EXISTS (SELECT 1 FROM meta WHERE key = 'sync.hub_url') BEGIN
    INSERT INTO sync_outbox (hlc, entity, uid, op) VALUES (fanline_hlc(), 'decision', NEW.uid, 'decision_add');
END;
