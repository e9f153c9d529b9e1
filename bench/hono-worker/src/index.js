// Benchmark Worker (c): the routes of bench/layers-worker written with Hono.
//
//   GET /hello             anyone                    text "hello\n"
//   GET /access/hello      Cloudflare Access JWT     text "hello <email>\n"
//   GET /access-uncached/hello                       the same (this Worker never remembers tokens)
//   GET /access/posts/:id  Cloudflare Access JWT     D1 SELECT id, title FROM posts WHERE id = ?1; JSON, 404 if missing
//
// The token is checked with Hono's own JWKS verifier (`verifyWithJwks` from `hono/jwt`: header
// typ/crit check, `kid` lookup, alg allow-list RS256, WebCrypto signature check, iss and aud).
// Not the `hono/jwk` middleware: it only reads `<headerName>: Bearer <token>`, and Access sends
// the bare token in `cf-access-jwt-assertion`. Not `jwks_uri` either: `verifyWithJwks` fetches
// that URL on every call, so the keys are fetched here once per isolate and passed as `keys`
// (cached 10 min; an unknown kid refetches at most every 30 s), as layers and the hand-written
// Worker cache them. Time claims get the same 60 s leeway as the Rust Workers (exp required).

import { Hono } from 'hono'
import { verifyWithJwks } from 'hono/jwt'

const LEEWAY_SECS = 60
const CACHE_TTL_SECS = 600
const REFETCH_INTERVAL_SECS = 30

const app = new Hono()

// ---- per-isolate state: settings from the vars, the JWKS ---------------------------------------

let settings = null
const cache = { keys: null, fetchedAt: 0, lastAttempt: 0, lastFailure: 0, inflight: null }

const unavailable = (message) => Object.assign(new Error(message), { status: 503 })
const invalid = (message) => Object.assign(new Error(message), { status: 403 })

function getSettings(env) {
  if (settings) return settings
  const team = String(env.ACCESS_TEAM_DOMAIN ?? '').trim().replace(/^https:\/\//i, '').replace(/\/$/, '').toLowerCase()
  if (!team || !team.includes('.') || /[/:@]/.test(team)) throw unavailable('ACCESS_TEAM_DOMAIN is not a host name')
  const audiences = String(env.ACCESS_AUD ?? '').split(/[\s,]+/).filter(Boolean)
  if (audiences.length === 0) throw unavailable('ACCESS_AUD is not set')
  const certsUrl = String(env.ACCESS_CERTS_URL ?? '').trim() || `https://${team}/cdn-cgi/access/certs`
  if (!/^(https:\/\/|http:\/\/(127\.0\.0\.1|localhost):)/.test(certsUrl)) {
    throw unavailable('ACCESS_CERTS_URL must be https (or http on loopback)')
  }
  settings = { issuer: `https://${team}`, audiences, certsUrl }
  return settings
}

async function fetchKeys(url) {
  const resp = await fetch(url)
  if (resp.status !== 200) throw new Error(`the JWKS URL answered ${resp.status}`)
  const doc = await resp.json()
  const keys = (Array.isArray(doc?.keys) ? doc.keys : [])
    .slice(0, 32)
    .filter((k) => k && typeof k.kid === 'string' && k.kid && k.kty === 'RSA' && (k.use ?? 'sig') === 'sig' && (k.alg ?? 'RS256') === 'RS256')
  if (keys.length === 0) throw new Error('the JWKS holds no usable RS256 key')
  return keys
}

// The cached keys when they hold `kid`; otherwise one (rate-limited, shared) fetch.
async function keysFor(url, kid, now) {
  const fresh = cache.keys && now - cache.fetchedAt < CACHE_TTL_SECS ? cache.keys : null
  if (fresh && fresh.some((k) => k.kid === kid)) return fresh
  if (cache.inflight) return cache.inflight
  if (fresh && now - cache.lastAttempt < REFETCH_INTERVAL_SECS) throw invalid('unknown kid')
  if (!fresh && now - cache.lastFailure < REFETCH_INTERVAL_SECS) throw unavailable('JWKS fetch failed recently')
  cache.lastAttempt = now
  cache.inflight = fetchKeys(url).then(
    (keys) => {
      Object.assign(cache, { keys, fetchedAt: now, lastFailure: 0, inflight: null })
      return keys
    },
    (e) => {
      Object.assign(cache, { lastFailure: now, inflight: null })
      throw unavailable(`JWKS: ${e.message}`)
    },
  )
  return cache.inflight
}

function kidOf(token) {
  try {
    const header = JSON.parse(atob(token.split('.')[0].replace(/-/g, '+').replace(/_/g, '/')))
    return typeof header.kid === 'string' ? header.kid : null
  } catch {
    return null
  }
}

// ---- the Access middleware ---------------------------------------------------------------------

async function access(c, next) {
  const token = c.req.header('cf-access-jwt-assertion')?.trim()
  if (!token) return c.text('unauthorized\n', 401)
  let payload
  try {
    const s = getSettings(c.env)
    if (token.length > 8 * 1024) throw invalid('token too long')
    const kid = kidOf(token)
    if (!kid) throw invalid('no kid')
    const now = Math.floor(Date.now() / 1000)
    const keys = await keysFor(s.certsUrl, kid, now)
    payload = await verifyWithJwks(token, {
      keys,
      allowedAlgorithms: ['RS256'],
      // Time claims are checked below, with leeway.
      verification: { iss: s.issuer, aud: s.audiences, exp: false, nbf: false, iat: false },
    })
    if (typeof payload.exp !== 'number' || now > payload.exp + LEEWAY_SECS) throw invalid('expired or no exp')
    if (payload.nbf !== undefined && !(typeof payload.nbf === 'number' && now >= payload.nbf - LEEWAY_SECS)) {
      throw invalid('not valid yet')
    }
    if (payload.iat !== undefined && !(typeof payload.iat === 'number' && payload.iat <= now + LEEWAY_SECS)) {
      throw invalid('issued in the future')
    }
    if (typeof payload.email !== 'string' || !payload.email || typeof payload.sub !== 'string' || !payload.sub) {
      throw invalid('no email or sub')
    }
  } catch (e) {
    if (e.status === 503) {
      console.error(`access unavailable: ${e.message}`)
      return c.text('service unavailable\n', 503)
    }
    console.log(`access denied: ${e.status ? e.message : e.name}`)
    return c.text('forbidden\n', 403)
  }
  c.set('jwtPayload', payload)
  await next()
}

// ---- routes ------------------------------------------------------------------------------------

app.get('/hello', (c) => c.text('hello\n'))

app.use('/access/*', access)
app.use('/access-uncached/*', access)

const helloEmail = (c) => c.text(`hello ${c.get('jwtPayload').email}\n`)
app.get('/access/hello', helloEmail)
app.get('/access-uncached/hello', helloEmail)

app.get('/access/posts/:id', async (c) => {
  const raw = c.req.param('id')
  const id = Number(raw)
  if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(id)) return c.text('`id` must be an integer\n', 400)
  const row = await c.env.DB.prepare('SELECT id, title FROM posts WHERE id = ?1').bind(id).first()
  if (!row) return c.text('not found\n', 404)
  return c.json(row)
})

app.notFound((c) => c.text('not found\n', 404))

export default app
