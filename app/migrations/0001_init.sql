-- Posts shown on the public pages.
CREATE TABLE posts (
    slug       TEXT PRIMARY KEY,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    views      INTEGER NOT NULL DEFAULT 0
);

-- Newsletter subscribers; `status` is 'active' or 'unsubscribed'.
CREATE TABLE subscribers (
    email           TEXT PRIMARY KEY,
    status          TEXT NOT NULL DEFAULT 'active',
    created_at      INTEGER NOT NULL,
    unsubscribed_at INTEGER
);

INSERT INTO posts (slug, title, body, created_at) VALUES
  ('hello-layers', 'Hello, layers', 'Request, then identity, then storage: in that order, checked by the compiler.', 1764288000),
  ('why-claims', 'Why Claims are a type', 'A proof you can only get from a verifier cannot be forgotten in code review.', 1764374400);
