-- Requests counted per key (a fan token, an address) and fixed window, shared by every
-- hub process: one row per key and window, raised with INSERT … ON CONFLICT DO UPDATE.
CREATE TABLE rate_windows (
    key           TEXT NOT NULL,
    window_start  TIMESTAMPTZ NOT NULL,
    n             INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_windows_start ON rate_windows (window_start);
