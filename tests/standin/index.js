// Loopback stand-ins with the JS interface of the Workers AI binding (`run`) and of a Vectorize
// v2 index (`query`, `insert`, `upsert`, `getByIds`, `deleteByIds`, `describe`). See
// wrangler.toml. Deterministic answers, no network, and nothing about inputs is logged.
import { WorkerEntrypoint } from "cloudflare:workers";

const MAX_TOP_K = 100;
const MAX_TOP_K_WITH_DATA = 20;

// `${namespace}\u0000${id}` → { id, values: Float32Array, metadata, namespace }. Vectorize ids
// are unique per index, so the namespace is stored but the key is the id alone.
const vectors = new Map();
let mutations = 0;

function dimensions(env) {
  return Number(env.DIMENSIONS || "0");
}

function plainValues(values, env) {
  let v;
  if (Array.isArray(values)) v = values;
  else if (ArrayBuffer.isView(values)) v = Array.from(values);
  else throw new TypeError("VECTOR_INVALID: values must be an array, a Float32Array or a Float64Array");
  const d = dimensions(env);
  if (v.length !== d) throw new Error(`VECTOR_INVALID: expected ${d} dimensions, got ${v.length}`);
  if (!v.every((x) => typeof x === "number" && Number.isFinite(x))) throw new Error("VECTOR_INVALID: non-finite value");
  return v;
}

function cosine(a, b) {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

function matchesFilter(metadata, filter) {
  if (!filter) return true;
  for (const [key, cond] of Object.entries(filter)) {
    const v = metadata?.[key];
    if (cond !== null && typeof cond === "object" && !Array.isArray(cond)) {
      for (const [op, want] of Object.entries(cond)) {
        if (op === "$eq" && v !== want) return false;
        if (op === "$ne" && v === want) return false;
        if (op === "$in" && !(Array.isArray(want) && want.includes(v))) return false;
        if (op === "$nin" && Array.isArray(want) && want.includes(v)) return false;
      }
    } else if (v !== cond) {
      return false;
    }
  }
  return true;
}

function metadataLevel(returnMetadata) {
  if (returnMetadata === true) return "all";
  if (returnMetadata === false || returnMetadata === undefined) return "none";
  if (["none", "indexed", "all"].includes(returnMetadata)) return returnMetadata;
  throw new TypeError("returnMetadata must be \"none\", \"indexed\" or \"all\"");
}

function write(env, records, overwrite) {
  if (!Array.isArray(records) || records.length === 0) throw new TypeError("VECTOR_INVALID: no vectors");
  const checked = records.map((r) => {
    if (typeof r?.id !== "string" || r.id.length === 0 || new TextEncoder().encode(r.id).length > 64) {
      throw new Error("VECTOR_INVALID: id must be 1 to 64 bytes");
    }
    return { id: r.id, values: Float32Array.from(plainValues(r.values, env)), metadata: r.metadata ?? undefined, namespace: r.namespace ?? undefined };
  });
  for (const r of checked) {
    if (overwrite || !vectors.has(r.id)) vectors.set(r.id, r);
  }
  mutations += 1;
  return { mutationId: `standin-${mutations}` };
}

/** `env.AI`: `run(model, inputs)` answers by model family, without running anything. */
export class AiStandin extends WorkerEntrypoint {
  async run(model, inputs) {
    if (typeof model !== "string" || model.length === 0) throw new TypeError("AiError: a model name is required");
    if (inputs === null || typeof inputs !== "object") throw new TypeError("AiError: inputs must be an object");
    if (model === "@cf/facebook/bart-large-cnn") {
      if (typeof inputs.input_text !== "string") throw new TypeError("AiError: input_text must be a string");
      const words = inputs.input_text.split(/\s+/).filter(Boolean).length;
      return { summary: `stand-in summary of ${words} words by ${model}` };
    }
    if (model.startsWith("@cf/baai/bge-")) {
      const texts = Array.isArray(inputs.text) ? inputs.text : [inputs.text];
      const d = dimensions(this.env);
      const data = texts.map((t) => {
        const v = new Array(d).fill(0);
        for (const [i, c] of [...String(t)].entries()) v[i % d] += c.codePointAt(0) % 31;
        return v;
      });
      return { shape: [data.length, d], data };
    }
    if (Array.isArray(inputs.messages) || typeof inputs.prompt === "string") {
      return { response: `stand-in answer by ${model}` };
    }
    throw new Error(`AiError: the stand-in does not know model ${model}`);
  }
}

/** `env.VECTORIZE`: an in-memory index with cosine similarity. */
export class VectorizeStandin extends WorkerEntrypoint {
  async query(vector, options = {}) {
    const q = plainValues(vector, this.env);
    const topK = options.topK ?? 5;
    const level = metadataLevel(options.returnMetadata);
    const withData = options.returnValues === true || level !== "none";
    const max = withData ? MAX_TOP_K_WITH_DATA : MAX_TOP_K;
    if (!Number.isInteger(topK) || topK < 1 || topK > max) throw new RangeError(`VECTOR_QUERY_ERROR: topK must be 1 to ${max}`);
    const indexed = String(this.env.METADATA_INDEXES || "").split(",").filter(Boolean);
    const matches = [...vectors.values()]
      .filter((v) => options.namespace === undefined || v.namespace === options.namespace)
      .filter((v) => matchesFilter(v.metadata, options.filter))
      .map((v) => ({ v, score: cosine(q, v.values) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, topK)
      .map(({ v, score }) => {
        const m = { id: v.id, score };
        if (v.namespace !== undefined) m.namespace = v.namespace;
        if (options.returnValues === true) m.values = Array.from(v.values);
        if (level === "all" && v.metadata) m.metadata = v.metadata;
        if (level === "indexed" && v.metadata) {
          m.metadata = Object.fromEntries(Object.entries(v.metadata).filter(([k]) => indexed.includes(k)));
        }
        return m;
      });
    return { count: matches.length, matches };
  }

  async insert(records) {
    return write(this.env, records, false);
  }

  async upsert(records) {
    return write(this.env, records, true);
  }

  async getByIds(ids) {
    if (!Array.isArray(ids)) throw new TypeError("ids must be an array");
    // Values go back as Float32Array, one of the shapes the real binding may use.
    return ids.filter((id) => vectors.has(id)).map((id) => {
      const v = vectors.get(id);
      return { id: v.id, values: v.values, metadata: v.metadata, namespace: v.namespace };
    });
  }

  async deleteByIds(ids) {
    if (!Array.isArray(ids)) throw new TypeError("ids must be an array");
    for (const id of ids) vectors.delete(id);
    mutations += 1;
    return { mutationId: `standin-${mutations}` };
  }

  async describe() {
    return {
      dimensions: dimensions(this.env),
      vectorCount: vectors.size,
      processedUpToMutation: `standin-${mutations}`,
      processedUpToDatetime: new Date().toISOString(),
    };
  }
}

export default {
  async fetch() {
    return new Response("layers loopback stand-in for Workers AI and Vectorize (tests only)\n");
  },
};
