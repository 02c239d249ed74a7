-- News of a conversation for every hub process: each message added announces its
-- conversation on `fanline_conversations` (delivered at commit, once per conversation
-- and transaction), so a process's event streams wake when another process wrote the
-- creator's answer or an offer's reply. A stream then reads from its cursor
-- (`messages_after`); a notification lost with a dropped connection loses nothing.
CREATE FUNCTION fanline_conversation_news() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('fanline_conversations', NEW.conversation_id::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER messages_news AFTER INSERT ON messages
    FOR EACH ROW EXECUTE FUNCTION fanline_conversation_news();
