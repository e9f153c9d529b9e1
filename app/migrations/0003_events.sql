-- Runs of the weekly digest cron (`0 2 * * SUN`).
CREATE TABLE digest_runs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    cron         TEXT NOT NULL,
    scheduled_at INTEGER NOT NULL,
    ran_at       INTEGER NOT NULL
);

-- Posts reindexed by the `reindex` queue consumer.
CREATE TABLE reindexed (
    slug        TEXT PRIMARY KEY,
    reason      TEXT NOT NULL,
    indexed_at  INTEGER NOT NULL
);

-- Messages that reached the dead-letter queue `reindex-dlq`, kept as JSON.
CREATE TABLE dead_letters (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    body        TEXT NOT NULL,
    received_at INTEGER NOT NULL
);
