-- The log of changes to indexed content: every transaction that moves the index
-- generation records which items (chunks, canonical phrasings) it touched, so a
-- process's search index follows the store by reading what changed instead of
-- reloading everything. `index_log_from`: the oldest generation the log reaches back
-- to (an index older than that reloads whole).
CREATE TABLE index_log (
    seq        INTEGER PRIMARY KEY,
    generation INTEGER NOT NULL,
    kind       INTEGER NOT NULL, -- 0 a chunk, 1 a canonical phrasing (ItemKind::code)
    item       INTEGER NOT NULL
);
CREATE INDEX index_log_generation ON index_log (generation);
INSERT INTO meta (key, value)
    SELECT 'index_log_from', value FROM meta WHERE key = 'index_generation';
