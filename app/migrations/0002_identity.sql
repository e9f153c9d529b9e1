-- Messages from the contact form (Turnstile-protected).
CREATE TABLE contacts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    email      TEXT NOT NULL,
    message    TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- Inbound email events delivered by a Svix-signed webhook; `svix_id` deduplicates retries.
CREATE TABLE inbound_emails (
    svix_id     TEXT PRIMARY KEY,
    received_at INTEGER NOT NULL,
    payload     TEXT NOT NULL
);

-- Feature flags changed by admins are kept in KV; D1 keeps the audit trail.
CREATE TABLE admin_audit (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
