-- AI summaries of posts (the seed's "AI summary cache: D1 (ai_summaries)"), written by Amazon
-- Bedrock through `POST /admin/posts/:slug/summary` and shown on the post's page. `source_hash`
-- is the hex SHA-256 of the title and body the summary was written from (a post edited since has
-- a different one: the summary is stale until regenerated); `model` is the Bedrock model id.
CREATE TABLE ai_summaries (
    slug        TEXT PRIMARY KEY,
    summary     TEXT NOT NULL,
    model       TEXT NOT NULL,
    source_hash TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
