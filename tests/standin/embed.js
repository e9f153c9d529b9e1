// The AI stand-in's embeddings (see README.md): a hashed bag of words, deterministic and
// "semantic enough": texts that share words are near, unrelated texts are far. No model runs.

// The real models' output sizes.
export const BGE_DIMENSIONS = {
  "@cf/baai/bge-small-en-v1.5": 384,
  "@cf/baai/bge-base-en-v1.5": 768,
  "@cf/baai/bge-large-en-v1.5": 1024,
};

const STOP_WORDS = new Set(
  ("a about after all also an and any are as at be been but by can could do does for from had has have " +
    "how i if in into is it its just more most my no not of on one or our out so some such than that the " +
    "their them then there these they this to too up us was we were what when where which while who why " +
    "will with would you your")
    .split(" "),
);

/** Naive suffix stripping, so that "caching", "cached", "caches" and "cache" meet ("cach"). */
export function stem(word) {
  let w = word;
  // Plurals: "queries" → "query", "posts" → "post" (not "class").
  if (w.length > 4 && w.endsWith("ies")) w = `${w.slice(0, -3)}y`;
  else if (w.length > 3 && w.endsWith("s") && !w.endsWith("ss")) w = w.slice(0, -1);
  // Verb forms: "caching" → "cach", "queried" → "query", "stored" → "stor".
  let stripped = true;
  if (w.length >= 6 && w.endsWith("ing")) w = w.slice(0, -3);
  else if (w.length > 4 && w.endsWith("ied")) w = `${w.slice(0, -3)}y`;
  else if (w.length >= 6 && w.endsWith("ed")) w = w.slice(0, -2);
  else stripped = false;
  // "embedding" → "embedd" → "embed", "running" → "run" (but "falling" → "fall").
  const last = w[w.length - 1];
  if (stripped && w.length > 3 && last === w[w.length - 2] && !"lsz".includes(last) && !/[aeiou]/.test(last)) {
    w = w.slice(0, -1);
  }
  // A final "e": "cache" → "cach", "store" → "stor".
  if (w.length > 3 && w.endsWith("e")) w = w.slice(0, -1);
  return w;
}

/** Lower-cased word tokens (letters and digits), stop words dropped, stemmed. */
export function tokens(text) {
  return (String(text).toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])
    .filter((w) => !STOP_WORDS.has(w))
    .map(stem)
    .filter((w) => w.length > 1);
}

/** 32-bit FNV-1a of the UTF-8 bytes: stable across runs and platforms. */
export function fnv1a(s) {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(s)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * The stand-in embedding of `text` in `d` dimensions: each token hashed to a dimension (FNV-1a
 * modulo `d`) with a sign (the hash's top bit), weighted 1 + ln(count), then L2-normalized. A
 * text without a token is the zero vector.
 */
export function embed(text, d) {
  const counts = new Map();
  for (const t of tokens(text)) counts.set(t, (counts.get(t) ?? 0) + 1);
  const v = new Array(d).fill(0);
  for (const [t, n] of counts) {
    const h = fnv1a(t);
    v[h % d] += (h >>> 31 ? -1 : 1) * (1 + Math.log(n));
  }
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return norm === 0 ? v : v.map((x) => x / norm);
}
