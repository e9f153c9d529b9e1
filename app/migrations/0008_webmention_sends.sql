-- Webmentions this blog sends: one row per (post, outside page its body links to), written when
-- the post is published (`POST /admin/posts`) and updated by the `webmention-sends` consumer.
-- `status`: 'pending' (queued), 'retry' (a transient failure, queued again with a doubling
-- delay), 'sent' (the endpoint answered 2xx; `endpoint_status` keeps the code), 'no_endpoint'
-- (the page advertises none), 'rejected' (a 4xx, a URL the outbound guard refuses, too many
-- redirects: final), 'failed' (transient failures until the attempts ran out; the weekly cron
-- queues it again, `rounds` counting), 'abandoned' (failed through every allowed round).
-- `reason` is a short machine reason (`accepted`, `status_500`, `refused:ip_literal`, `timeout`…).
CREATE TABLE webmention_sends (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    slug            TEXT NOT NULL,
    target          TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',
    reason          TEXT,
    endpoint        TEXT,
    endpoint_status INTEGER,
    attempts        INTEGER NOT NULL DEFAULT 0,
    rounds          INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (slug, target)
);

CREATE INDEX webmention_sends_status ON webmention_sends (status, updated_at);
