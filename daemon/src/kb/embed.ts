/**
 * Embedders turn chunk texts into vectors. Every embedder has an `id` (the model name stored in
 * kb_sources.embedding_model) and fixed `dims`; vectors of different ids are never compared.
 *
 * - `cairn-local-hash-v1-384` (default, offline): feature hashing, not a neural model. It captures shared
 *   identifiers and spelling, not meaning; its name says so.
 * - OpenAI-compatible endpoints (OpenAI, Ollama, LM Studio, vLLM) through `@langchain/openai`.
 *
 * - `model2vec:<folder name>-<dims>` (offline): a Model2Vec static model read from a folder (./model2vec.ts).
 *
 * Adding another kind (for example transformers.js with a local model folder): implement `Embedder` with an
 * id such as `transformers:<folder name>@<dims>`, load the pipeline with `env.allowRemoteModels = false` and
 * `env.localModelPath` set to the user's folder (so nothing downloads), return mean-pooled normalised vectors,
 * and add a branch to `createEmbedder` and `embedderForModel` keyed on the provider and id prefix.
 */
import type { OpenAIEmbeddings } from '@langchain/openai';
import type { EmbeddingsConfig, RuntimeConfig } from '../config.js';
import { LOCAL_HASH_DIMS, LOCAL_HASH_ID, localHashEmbed } from '../../../supabase/functions/_shared/kb-query.js';
import { ProviderError } from './provider-error.js';
import { loadModel2Vec, model2vecConfiguredId, MODEL2VEC_PREFIX } from './model2vec.js';

export { ProviderError };

// The offline embedder and the vector text form are shared with the Edge Function cairn-api.
export { LOCAL_HASH_ID, identifierTokens, localHashEmbed, vectorText } from '../../../supabase/functions/_shared/kb-query.js';

export interface Embedder {
  /** Model name stored in the database with every vector. */
  readonly id: string;
  readonly dims: number;
  embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[] | number[][]>;
}

export class LocalHashEmbedder implements Embedder {
  readonly id = LOCAL_HASH_ID;
  readonly dims = LOCAL_HASH_DIMS;
  async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    signal?.throwIfAborted();
    return texts.map((t) => localHashEmbed(t, this.dims));
  }
}

const KNOWN_DIMS: Record<string, number> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
  'nomic-embed-text': 768,
  'mxbai-embed-large': 1024,
  'all-minilm': 384,
};

export interface OpenAIEmbedderOptions {
  model: string;
  baseUrl: string | null;
  /** The key, or a function the client asks before each request (the team gateway's fresh access token). */
  apiKey: string | null | (() => Promise<string>);
  /** Requested dimensions (text-embedding-3 models shorten their vectors); null = the model's own. */
  dimensions: number | null;
  /** Texts per HTTP request. */
  batchSize?: number;
  /** Per-request timeout. */
  timeoutMs?: number;
  /** Retries of a failed request (429, 5xx, timeouts) with exponential backoff; 401/403/404 fail at once. */
  maxRetries?: number;
}

/** `text-embedding-3-small` or `text-embedding-3-small@512` when dimensions are requested. */
export function openAIModelId(model: string, dimensions: number | null): string {
  return dimensions ? `${model}@${dimensions}` : model;
}

export class OpenAIEmbedder implements Embedder {
  readonly id: string;
  private lc: OpenAIEmbeddings;
  private batchSize: number;

  private constructor(
    private readonly opts: OpenAIEmbedderOptions,
    public dims: number,
    Embeddings: typeof OpenAIEmbeddings,
  ) {
    this.id = openAIModelId(opts.model, opts.dimensions);
    this.batchSize = opts.batchSize ?? 128;
    this.lc = new Embeddings({
      model: opts.model,
      // A local server (Ollama, LM Studio) needs no key, but the client insists on one.
      apiKey: opts.apiKey ?? 'no-key',
      configuration: opts.baseUrl ? { baseURL: opts.baseUrl } : {},
      ...(opts.dimensions ? { dimensions: opts.dimensions } : {}),
      batchSize: this.batchSize,
      timeout: opts.timeoutMs ?? 30_000,
      // Three retries (backoff ~1 s, 2 s, 4 s) ride out a rate limit without stalling an index for minutes.
      maxRetries: opts.maxRetries ?? 3,
      maxConcurrency: 2,
      // Newlines carry structure in code; modern embedding models take them as they are.
      stripNewLines: false,
    });
  }

  /** Creates the embedder, asking the endpoint once for the dimension when the model is not known. */
  static async create(opts: OpenAIEmbedderOptions, signal?: AbortSignal): Promise<OpenAIEmbedder> {
    const known = opts.dimensions ?? KNOWN_DIMS[opts.model] ?? null;
    // LangChain's OpenAI client loads with the first remote embedder, not with every daemon.
    const { OpenAIEmbeddings } = await import('@langchain/openai');
    const e = new OpenAIEmbedder(opts, known ?? 0, OpenAIEmbeddings);
    if (known === null) {
      const probe = await e.call(['dimension probe'], signal);
      const first = probe[0];
      if (!first || first.length === 0) throw new ProviderError(`${opts.model} returned an empty embedding`, 'bad_response');
      e.dims = first.length;
    }
    return e;
  }

  /** Vectors as the endpoint returned them; callers check each length against `dims` (see checkDims). */
  async embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    return this.call(texts, signal);
  }

  private async call(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    signal?.throwIfAborted();
    let result: number[][];
    try {
      const work = this.lc.embedDocuments(texts);
      result = signal ? await abortable(work, signal) : await work;
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      throw toProviderError(e, this.opts);
    }
    if (!Array.isArray(result) || result.length !== texts.length) {
      throw new ProviderError(`${this.opts.model} returned ${Array.isArray(result) ? result.length : 'no'} embeddings for ${texts.length} texts`, 'bad_response');
    }
    return result;
  }
}

function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

function toProviderError(e: unknown, opts: OpenAIEmbedderOptions): ProviderError {
  if (e instanceof ProviderError) return e;
  const err = e as { status?: number; name?: string; message?: string; code?: string; cause?: { code?: string } };
  const where = opts.baseUrl ?? 'https://api.openai.com/v1';
  const status = typeof err?.status === 'number' ? err.status : undefined;
  if (status === 401 || status === 403) return new ProviderError(`the embeddings endpoint ${where} refused the API key (HTTP ${status})`, 'auth');
  if (status === 404) return new ProviderError(`the embeddings endpoint ${where} has no model "${opts.model}" or no /embeddings route (HTTP 404)`, 'bad_response');
  if (err?.name === 'TimeoutError' || /timed? ?out/i.test(err?.message ?? '')) return new ProviderError(`the embeddings endpoint ${where} timed out`, 'timeout');
  if (status !== undefined) return new ProviderError(`the embeddings endpoint ${where} answered HTTP ${status}`, 'other');
  if (/connect|ECONNREFUSED|ENOTFOUND|fetch failed|Connection error/i.test(`${err?.message ?? ''} ${err?.code ?? ''} ${err?.cause?.code ?? ''}`)) {
    return new ProviderError(`cannot reach the embeddings endpoint ${where}`, 'unreachable');
  }
  return new ProviderError(`embedding failed at ${where}: ${redact(err?.message ?? String(e), opts.apiKey)}`, 'other');
}

function redact(msg: string, key: OpenAIEmbedderOptions['apiKey']): string {
  return typeof key === 'string' && key ? msg.split(key).join('[key]') : msg;
}

/** The embedder the settings ask for. */
export async function createEmbedder(config: EmbeddingsConfig, signal?: AbortSignal): Promise<Embedder> {
  if (config.provider === 'local-hash') return new LocalHashEmbedder();
  if (config.provider === 'model2vec') {
    if (!config.model) throw new ProviderError('embeddings provider "model2vec" needs the model folder (CAIRN_EMBEDDINGS=model2vec:<folder> or the setting cairn.embeddings.model)', 'bad_model');
    return loadModel2Vec(config.model);
  }
  if (!config.model) throw new ProviderError('embeddings provider "openai" needs a model name (CAIRN_EMBEDDINGS_MODEL or the setting)', 'other');
  return OpenAIEmbedder.create(
    { model: config.model, baseUrl: config.baseUrl, apiKey: config.apiKey, dimensions: config.dimensions },
    signal,
  );
}

/** The id the settings would produce, without contacting any provider. */
export function configuredModelId(config: EmbeddingsConfig): string {
  if (config.provider === 'model2vec') return model2vecConfiguredId(config.model);
  if (config.provider === 'local-hash' || !config.model) return LOCAL_HASH_ID;
  return openAIModelId(config.model, config.dimensions);
}

/**
 * An embedder for queries against vectors already stored under `id`, which may be an older model than the
 * configured one (search keeps using it during a model switch). Null when it cannot be built; search then
 * falls back to full-text only.
 */
export async function embedderForModel(id: string, config: RuntimeConfig, signal?: AbortSignal): Promise<Embedder | null> {
  if (id === LOCAL_HASH_ID) return new LocalHashEmbedder();
  if (id.startsWith(MODEL2VEC_PREFIX)) {
    // Only the configured folder's model can embed a query; vectors of another Model2Vec model are searched by words.
    if (config.embeddings.provider !== 'model2vec' || !config.embeddings.model || configuredModelId(config.embeddings) !== id) return null;
    return loadModel2Vec(config.embeddings.model).catch(() => null);
  }
  const m = /^(.*?)(?:@(\d+))?$/.exec(id);
  const model = m?.[1];
  if (!model) return null;
  try {
    return await OpenAIEmbedder.create(
      { model, baseUrl: config.embeddings.baseUrl, apiKey: config.embeddings.apiKey, dimensions: m?.[2] ? Number(m[2]) : null, maxRetries: 1, timeoutMs: 10_000 },
      signal,
    );
  } catch {
    return null;
  }
}

/** The indexes of vectors whose length is not the embedder's dimension (a misconfigured endpoint). */
export function wrongDims(vectors: ArrayLike<number>[], dims: number): number[] {
  const bad: number[] = [];
  vectors.forEach((v, i) => {
    if (!v || v.length !== dims) bad.push(i);
  });
  return bad;
}
