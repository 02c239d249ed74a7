-- Responses of language models that may be reused: keyed by a hash of the provider,
-- model, prompt and parameters; kept until they expire. Personalised prompts are never
-- cached.
CREATE TABLE llm_cache (
    key        TEXT PRIMARY KEY,
    provider   TEXT NOT NULL,
    response   TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
CREATE INDEX llm_cache_by_expiry ON llm_cache(expires_at);
