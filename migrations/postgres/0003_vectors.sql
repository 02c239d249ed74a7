-- Vectors of canonical phrasings and chunks in PostgreSQL (pgvector), for agents too
-- large for each hub process's in-memory index. The column takes any dimension; the
-- HNSW index is made per dimension by `PgStore::ensure_vector_index`, over
-- `embedding::vector(N)` for the rows of that dimension.
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE item_vectors (
    kind       TEXT NOT NULL CHECK (kind IN ('chunk', 'canonical')),
    id         BIGINT NOT NULL,
    agent_id   BIGINT NOT NULL,
    -- 0 public, 1 friends, 2 intimate: a fan at layer L sees rows with layer <= L.
    layer      SMALLINT NOT NULL CHECK (layer BETWEEN 0 AND 2),
    embedding  vector NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX item_vectors_agent ON item_vectors (agent_id, kind, layer);
