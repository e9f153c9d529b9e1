// Loopback stand-ins with the JS interface of the Workers AI binding (`run`) and of Vectorize
// v2 indexes (`query`, `insert`, `upsert`, `getByIds`, `deleteByIds`, `describe`). See
// wrangler.toml and README.md. Deterministic answers, no network, and nothing about inputs is
// logged.
import { WorkerEntrypoint } from "cloudflare:workers";
import { BGE_DIMENSIONS, embed } from "./embed.js";

const MAX_TOP_K = 100;
const MAX_TOP_K_WITH_DATA = 20;
// Most texts one embedding call takes (Workers AI's bge models).
const MAX_EMBEDDING_TEXTS = 100;
// A text holding this marker makes the embedding call fail: how the e2e tests reach the app's
// handling of a Workers AI failure.
const FAIL_MARKER = "standin-fail-embedding";

// ---------------------------------------------------------------------------------------------
// Vectorize: one in-memory index per entrypoint
// ---------------------------------------------------------------------------------------------

/** One index: its vectors (by id; ids are unique per index, the namespace is only stored), its
 * mutation counter, and the var that holds its dimensions. */
class IndexState {
  constructor(dimensionsVar) {
    this.dimensionsVar = dimensionsVar;
    this.vectors = new Map();
    this.mutations = 0;
  }

  dimensions(env) {
    return Number(env[this.dimensionsVar] || "0");
  }

  plainValues(values, env) {
    let v;
    if (Array.isArray(values)) v = values;
    else if (ArrayBuffer.isView(values)) v = Array.from(values);
    else throw new TypeError("VECTOR_INVALID: values must be an array, a Float32Array or a Float64Array");
    const d = this.dimensions(env);
    if (v.length !== d) throw new Error(`VECTOR_INVALID: expected ${d} dimensions, got ${v.length}`);
    if (!v.every((x) => typeof x === "number" && Number.isFinite(x))) throw new Error("VECTOR_INVALID: non-finite value");
    return v;
  }

  write(env, records, overwrite) {
    if (!Array.isArray(records) || records.length === 0) throw new TypeError("VECTOR_INVALID: no vectors");
    const checked = records.map((r) => {
      if (typeof r?.id !== "string" || r.id.length === 0 || new TextEncoder().encode(r.id).length > 64) {
        throw new Error("VECTOR_INVALID: id must be 1 to 64 bytes");
      }
      return {
        id: r.id,
        values: Float32Array.from(this.plainValues(r.values, env)),
        metadata: r.metadata ?? undefined,
        namespace: r.namespace ?? undefined,
      };
    });
    for (const r of checked) {
      if (overwrite || !this.vectors.has(r.id)) this.vectors.set(r.id, r);
    }
    return this.mutated();
  }

  mutated() {
    this.mutations += 1;
    return { mutationId: `standin-${this.mutations}` };
  }
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

/** An entrypoint class serving `index` (each entrypoint is its own index, like two bindings to
 * two real indexes). */
function indexStandin(index) {
  return class extends WorkerEntrypoint {
    async query(vector, options = {}) {
      const q = index.plainValues(vector, this.env);
      const topK = options.topK ?? 5;
      const level = metadataLevel(options.returnMetadata);
      const withData = options.returnValues === true || level !== "none";
      const max = withData ? MAX_TOP_K_WITH_DATA : MAX_TOP_K;
      if (!Number.isInteger(topK) || topK < 1 || topK > max) throw new RangeError(`VECTOR_QUERY_ERROR: topK must be 1 to ${max}`);
      const indexed = String(this.env.METADATA_INDEXES || "").split(",").filter(Boolean);
      const matches = [...index.vectors.values()]
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
      return index.write(this.env, records, false);
    }

    async upsert(records) {
      return index.write(this.env, records, true);
    }

    async getByIds(ids) {
      if (!Array.isArray(ids)) throw new TypeError("ids must be an array");
      // Values go back as Float32Array, one of the shapes the real binding may use.
      return ids.filter((id) => index.vectors.has(id)).map((id) => {
        const v = index.vectors.get(id);
        return { id: v.id, values: v.values, metadata: v.metadata, namespace: v.namespace };
      });
    }

    async deleteByIds(ids) {
      if (!Array.isArray(ids)) throw new TypeError("ids must be an array");
      for (const id of ids) index.vectors.delete(id);
      return index.mutated();
    }

    async describe() {
      return {
        dimensions: index.dimensions(this.env),
        vectorCount: index.vectors.size,
        processedUpToMutation: `standin-${index.mutations}`,
        processedUpToDatetime: new Date().toISOString(),
      };
    }
  };
}

// ---------------------------------------------------------------------------------------------
// The entrypoints
// ---------------------------------------------------------------------------------------------

/** `env.AI`: `run(model, inputs)` answers by model family; embeddings are computed from the
 * text (see `embed`), everything else is canned. */
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
      const d = BGE_DIMENSIONS[model];
      if (d === undefined) throw new Error(`AiError: the stand-in does not know model ${model}`);
      const texts = Array.isArray(inputs.text) ? inputs.text : [inputs.text];
      if (texts.length === 0 || texts.length > MAX_EMBEDDING_TEXTS) {
        throw new RangeError(`AiError: text must hold 1 to ${MAX_EMBEDDING_TEXTS} strings`);
      }
      if (!texts.every((t) => typeof t === "string" && t.length > 0)) throw new TypeError("AiError: text must be non-empty strings");
      if (texts.some((t) => t.includes(FAIL_MARKER))) throw new Error("AiError: the stand-in was asked to fail");
      const data = texts.map((t) => embed(t, d));
      return { shape: [data.length, d], data, pooling: "mean" };
    }
    if (Array.isArray(inputs.messages) || typeof inputs.prompt === "string") {
      return { response: `stand-in answer by ${model}` };
    }
    throw new Error(`AiError: the stand-in does not know model ${model}`);
  }
}

/** `env.VECTORIZE`: the demo index (`DIMENSIONS`, 4), behind the `/api/vectors` routes. */
export const VectorizeStandin = indexStandin(new IndexState("DIMENSIONS"));

/** `env.POSTS_INDEX`: the post embeddings (`POSTS_DIMENSIONS`, 384: bge-small's). */
export const PostsIndexStandin = indexStandin(new IndexState("POSTS_DIMENSIONS"));

export default {
  async fetch() {
    return new Response("layers loopback stand-in for Workers AI and Vectorize (tests only)\n");
  },
};
