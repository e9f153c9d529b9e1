-- Webmentions received by `POST /api/webmention` and verified by the `webmentions` queue consumer.
-- `status`: 'pending' (queued), 'retry' (a transient failure, queued again with a delay),
-- 'verified' (the source links to the target), 'rejected' (it does not, or cannot be fetched for
-- good: refused by the URL guard, a redirect, a 4xx, too large), 'failed' (transient failures
-- until the attempts ran out; the weekly cron queues it again).
-- `reason` is a short machine reason (`no_link`, `status_404`, `redirect_302`, `refused:ip_literal`…).
CREATE TABLE webmentions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    source     TEXT NOT NULL,
    target     TEXT NOT NULL,
    slug       TEXT NOT NULL,
    status     TEXT NOT NULL DEFAULT 'pending',
    reason     TEXT,
    attempts   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (source, target)
);

CREATE INDEX webmentions_status ON webmentions (status, updated_at);
CREATE INDEX webmentions_slug ON webmentions (slug, status);
