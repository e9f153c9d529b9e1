-- The blog's public side: what the pages show of a post, and the newsletter's double opt-in.

-- A post is public once `published_at` (Unix seconds) is set and not in the future; NULL is a draft.
ALTER TABLE posts ADD COLUMN summary TEXT NOT NULL DEFAULT '';
ALTER TABLE posts ADD COLUMN author TEXT NOT NULL DEFAULT 'The layers team';
ALTER TABLE posts ADD COLUMN published_at INTEGER;
CREATE INDEX posts_published ON posts (published_at);

-- Subscribers: `status` is now 'pending' (waiting for the confirmation link), 'active' or
-- 'unsubscribed'. `confirm_sent_at` throttles confirmation mails; `confirmed_at` is when the link
-- was followed.
ALTER TABLE subscribers ADD COLUMN confirm_sent_at INTEGER;
ALTER TABLE subscribers ADD COLUMN confirmed_at INTEGER;

UPDATE posts SET published_at = created_at,
  summary = 'What layers is: a Rust framework for Cloudflare Workers where the compiler checks the order request, identity, storage.',
  body = 'Request, then identity, then storage: in that order, checked by the compiler.' || char(10) || char(10) ||
         'Every route says who may call it. A handler that wants a database handle has to show a proof that the caller was verified, and the only way to get that proof is to let the framework run the verifier first.' || char(10) || char(10) ||
         'This blog is the reference app: the pages you are reading, the newsletter form and the contact form are all routes written with layers.'
  WHERE slug = 'hello-layers';
UPDATE posts SET published_at = created_at,
  summary = 'Claims<''r, V> can only be made by the framework after V verified the request. That is the whole trick.',
  body = 'A proof you can only get from a verifier cannot be forgotten in code review.' || char(10) || char(10) ||
         'Claims carry an invariant lifetime tied to the request, so they cannot be stored in a global and replayed later, and their constructor is private to the framework.' || char(10) || char(10) ||
         'Storage handles are opened with the claims in hand. No claims, no database.'
  WHERE slug = 'why-claims';

INSERT INTO posts (slug, title, summary, body, author, created_at, published_at) VALUES
  ('escaping-html-in-templates',
   'Escaping <script> & friends: what a template must escape',
   'Five characters — & < > " and '' — and the one place escaping is not enough: URLs.',
   'A post title like <img src=x onerror=alert(1)> must reach the reader as text, never as markup.' || char(10) || char(10) ||
   'Escape &, <, >, " and '' in element content and quoted attributes. For href and src, escaping is not enough: check the scheme, or build the URL yourself.' || char(10) || char(10) ||
   'Every page of this blog goes through one layout function that escapes what it interpolates.',
   'Ada', 1765270800, 1765270800),
  ('double-opt-in-with-signed-links',
   'Double opt-in with signed links, no token table',
   'The confirmation link is an HMAC over the address and an expiry. Nothing to store, nothing to leak.',
   'Subscribing puts the address in the pending state and mails a link. The link carries the address, an expiry and an HMAC-SHA256 tag bound to the purpose confirm, so an unsubscribe link can never confirm and the other way round.' || char(10) || char(10) ||
   'The response to the form is the same whatever the address: nobody learns who is subscribed. The link travels only by mail, never in the response or the logs.',
   'Grace', 1771318800, 1771318800),
  ('og-images-at-the-edge',
   'Drawing Open Graph images at the edge',
   'A 1200x630 PNG per post, encoded by hand in the Worker and kept in the Cache API.',
   'The image is an indexed-colour PNG: a background colour from the slug, the title in a 5x7 bitmap font, and a deflate stream whose matches copy the pixel to the left or the row above.' || char(10) || char(10) ||
   'The first request renders it; the next ones are served from the cache, and the x-cache header says which.',
   'Ada', 1777971600, 1777971600),
  ('rate-limits-with-durable-objects',
   'Rate limits with Durable Objects',
   'One object per client and window: a fixed-window counter that every Worker instance agrees on.',
   'The forms on this blog first solve a Turnstile challenge, then count against the sender''s address in a Durable Object. Past the limit the answer is 429 with retry-after.' || char(10) || char(10) ||
   'IPv6 clients are counted per /64, since one machine usually holds a whole prefix.',
   'Grace', 1790067600, 1790067600),
  ('draft-search-that-works',
   'Search that works (draft)',
   'Not published yet.',
   'This draft has no publication date, so it is not listed and its page is a 404.',
   'Ada', 1790067600, NULL);
