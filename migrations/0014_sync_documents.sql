-- Documents sync (docs/sync.md): the device that imports a document owns it; the hub
-- needs its chunks to answer from it (path A). A document's whole state (its chunks,
-- and their embeddings stamped with the model's id) travels as one record.
ALTER TABLE documents ADD COLUMN uid TEXT;
UPDATE documents SET uid = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX documents_by_uid ON documents(uid);

CREATE TRIGGER documents_uid AFTER INSERT ON documents WHEN NEW.uid IS NULL BEGIN
    UPDATE documents SET uid = lower(hex(randomblob(16))) WHERE id = NEW.id;
END;
CREATE TRIGGER documents_log_insert AFTER INSERT ON documents WHEN NEW.uid IS NOT NULL BEGIN
    DELETE FROM sync_log WHERE entity = 'document' AND uid = NEW.uid;
    INSERT INTO sync_log (entity, uid) VALUES ('document', NEW.uid);
END;
CREATE TRIGGER documents_log_update AFTER UPDATE OF uid, source_path, title, content_hash, layer ON documents
    WHEN NEW.uid IS NOT NULL BEGIN
    DELETE FROM sync_log WHERE entity = 'document' AND uid = NEW.uid;
    INSERT INTO sync_log (entity, uid) VALUES ('document', NEW.uid);
END;
CREATE TRIGGER documents_log_delete AFTER DELETE ON documents WHEN OLD.uid IS NOT NULL BEGIN
    DELETE FROM sync_log WHERE entity = 'document' AND uid = OLD.uid;
    INSERT INTO sync_log (entity, uid) VALUES ('document', OLD.uid);
END;
-- Imported or re-imported here: the document as it is when pushed goes to the hub.
CREATE TRIGGER documents_outbox_put AFTER UPDATE OF uid, source_path, title, content_hash, layer ON documents
    WHEN NEW.uid IS NOT NULL AND NOT fanline_applying() AND EXISTS (SELECT 1 FROM meta WHERE key = 'sync.hub_url') BEGIN
    INSERT INTO sync_outbox (hlc, entity, uid, op, payload)
    VALUES (fanline_hlc(), 'document', NEW.uid, 'document_put', json_object('content_hash', NEW.content_hash));
END;
CREATE TRIGGER documents_outbox_delete AFTER DELETE ON documents
    WHEN OLD.uid IS NOT NULL AND NOT fanline_applying() AND EXISTS (SELECT 1 FROM meta WHERE key = 'sync.hub_url') BEGIN
    INSERT INTO sync_outbox (hlc, entity, uid, op) VALUES (fanline_hlc(), 'document', OLD.uid, 'document_delete');
END;
