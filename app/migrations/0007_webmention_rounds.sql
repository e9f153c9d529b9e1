-- Bounded weekly retries of webmentions. `rounds` counts how many times the weekly cron
-- (`retry_pending`) queued a mention again; it is never reset (a re-sent mention keeps it). Past
-- the cap (`webmention::MAX_ROUNDS`) a mention still unverified becomes 'abandoned' and is never
-- fetched again by the cron (only a new `POST /api/webmention` for it, which the per-address
-- abuse guard limits, queues it once more).
-- New status: 'abandoned' (transient failures through every allowed round).
ALTER TABLE webmentions ADD COLUMN rounds INTEGER NOT NULL DEFAULT 0;
