-- Post search (D1 FTS5) over published posts, filled by the `reindex` queue consumer (a job for
-- slug `*` — `POST /admin/reindex` with an empty body — rebuilds it) and read by `GET /search`.
-- It starts empty: run a full reindex after deploying. `slug` is stored but not indexed; title
-- and body are, with diacritics folded.
CREATE VIRTUAL TABLE post_search USING fts5(
    slug UNINDEXED,
    title,
    body,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- Inbound email, parsed (`POST /api/email-inbound`). `payload` keeps the raw event; a provider's
-- message id deduplicates redeliveries that come with a new `svix-id`.
ALTER TABLE inbound_emails ADD COLUMN message_id TEXT;
ALTER TABLE inbound_emails ADD COLUMN from_addr TEXT;
ALTER TABLE inbound_emails ADD COLUMN to_addrs TEXT;  -- JSON array of addresses
ALTER TABLE inbound_emails ADD COLUMN subject TEXT;
ALTER TABLE inbound_emails ADD COLUMN text_body TEXT;
CREATE UNIQUE INDEX inbound_emails_message_id ON inbound_emails (message_id) WHERE message_id IS NOT NULL;

-- The weekly digest: every cron run is a row in `digest_runs` (with its counts); a digest
-- edition is the week it belongs to (the Sunday 02:00 UTC at or before the scheduled time),
-- and `digest_sends` holds one row per (edition, subscriber) mailed, so a re-run of the same
-- week mails nobody twice.
ALTER TABLE digest_runs ADD COLUMN edition INTEGER;
ALTER TABLE digest_runs ADD COLUMN posts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE digest_runs ADD COLUMN recipients INTEGER NOT NULL DEFAULT 0;
ALTER TABLE digest_runs ADD COLUMN sent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE digest_runs ADD COLUMN skipped INTEGER NOT NULL DEFAULT 0;
ALTER TABLE digest_runs ADD COLUMN failed INTEGER NOT NULL DEFAULT 0;
CREATE TABLE digest_sends (
    edition INTEGER NOT NULL,
    email   TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    PRIMARY KEY (edition, email)
);
