/**
 * A Model2Vec static embedding model read from a folder on disk (`CAIRN_EMBEDDINGS=model2vec:<folder>`, or the
 * setting `cairn.embeddings.provider: model2vec` with the folder as `cairn.embeddings.model`): `tokenizer.json`
 * plus `model.safetensors` (and optionally `config.json`), as minishlab's potion models ship. Pure JavaScript:
 * the tokenizer is `@huggingface/tokenizers`, the weights are read by ./safetensors.ts; no ONNX, no network.
 *
 * A text's vector is what Model2Vec's StaticModel.encode computes: the text cut to 512 tokens (and, before
 * tokenizing, to 512 × the vocabulary's median token length in characters), tokenized without the special tokens
 * ([CLS], [SEP], …) and with the tokenizer's unknown token dropped, then the mean of the tokens' rows (through the
 * optional `mapping` tensor, times the optional per-token `weights`), L2-normalised (search compares by cosine).
 * The stored model name is `model2vec:<folder name>-<dimension>`, so another model re-indexes into a new generation.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Tokenizer } from '@huggingface/tokenizers';
import { ProviderError } from './provider-error.js';
import { headerLength, parseHeader, parseSafetensors, readFloats, readInts, SafetensorsError, type TensorInfo } from './safetensors.js';

export const MODEL2VEC_PREFIX = 'model2vec:';
/** Tokens per text, as the reference's default `max_length`. */
const MAX_TOKENS = 512;
/** Above this a "model" file is not one we can hold in memory (Node's Buffer limit is near it anyway). */
const MAX_MODEL_BYTES = 2 ** 31 - 1;

function badModel(dir: string, what: string): ProviderError {
  return new ProviderError(`the Model2Vec folder ${dir} cannot be used: ${what}`, 'bad_model');
}

/** The embeddings tensor: `embeddings` as Model2Vec saves it, or `embedding.weight` as sentence-transformers does. */
function embeddingsTensor(dir: string, tensors: Map<string, TensorInfo>): TensorInfo {
  const t = tensors.get('embeddings') ?? tensors.get('embedding.weight');
  if (!t) throw badModel(dir, `model.safetensors has no "embeddings" tensor (it has: ${[...tensors.keys()].join(', ') || 'none'})`);
  if (t.shape.length !== 2 || t.shape[0]! < 1 || t.shape[1]! < 1) throw badModel(dir, `the "embeddings" tensor has shape ${JSON.stringify(t.shape)}, not [tokens, dimension]`);
  if (t.dtype === 'I16' || t.dtype === 'I32' || t.dtype === 'I64') throw badModel(dir, `the "embeddings" tensor is ${t.dtype}; floats or 8-bit integers are supported`);
  return t;
}

const idCache = new Map<string, { key: string; dims: number }>();

/** The dimension of the model in `dir`, from the safetensors header alone (a few kB read, cached by size and mtime). */
function modelDims(dir: string): number {
  const file = join(dir, 'model.safetensors');
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw badModel(dir, code === 'ENOENT' ? 'there is no model.safetensors in it (or no such folder)' : `model.safetensors cannot be read (${code ?? (e as Error).message})`);
  }
  try {
    const st = fstatSync(fd);
    const key = `${st.size}:${st.mtimeMs}`;
    const cached = idCache.get(dir);
    if (cached?.key === key) return cached.dims;
    const first = new Uint8Array(8);
    readSync(fd, first, 0, 8, 0);
    const n = headerLength(first, st.size);
    const header = new Uint8Array(n);
    if (readSync(fd, header, 0, n, 8) !== n) throw new SafetensorsError('header is shorter than its length says');
    const dims = embeddingsTensor(dir, parseHeader(header, st.size)).shape[1]!;
    idCache.set(dir, { key, dims });
    return dims;
  } catch (e) {
    if (e instanceof SafetensorsError) throw badModel(dir, `model.safetensors is not a valid safetensors file: ${e.message}`);
    throw e;
  } finally {
    closeSync(fd);
  }
}

/** `model2vec:<folder name>-<dimension>`: the model name vectors of `dir` are stored under. Throws ProviderError('bad_model'). */
export function model2vecId(dir: string): string {
  const abs = resolve(dir);
  return `${MODEL2VEC_PREFIX}${basename(abs)}-${modelDims(abs)}`;
}

/** The id for the settings: as model2vecId, or `model2vec:<folder name>` (matching no stored vectors) when the folder is unusable. */
export function model2vecConfiguredId(dir: string | null): string {
  if (!dir) return MODEL2VEC_PREFIX;
  try {
    return model2vecId(dir);
  } catch {
    return `${MODEL2VEC_PREFIX}${basename(resolve(dir))}`;
  }
}

export class Model2VecEmbedder {
  readonly id: string;
  readonly dims: number;
  private readonly rows: number;
  private readonly maxChars: number;

  constructor(
    dir: string,
    private readonly tokenizer: Tokenizer,
    /** rows × dims, row-major. */
    private readonly vectors: Float32Array,
    shape: [number, number],
    /** Token ids never embedded: the unknown token and the special tokens. */
    private readonly dropped: Set<number>,
    /** Token id → row, when the model's vocabulary was quantized (Model2Vec's `mapping`). */
    private readonly mapping: number[] | null,
    /** Per-token weight (Model2Vec's `weights`). */
    private readonly weights: Float32Array | null,
    medianTokenChars: number,
  ) {
    [this.rows, this.dims] = shape;
    this.id = `${MODEL2VEC_PREFIX}${basename(dir)}-${this.dims}`;
    this.maxChars = MAX_TOKENS * Math.max(1, medianTokenChars);
  }

  /** Token ids of a text as the model embeds them (special and unknown tokens dropped, at most 512). */
  tokenIds(text: string): number[] {
    const ids = this.tokenizer.encode(text.slice(0, this.maxChars), { add_special_tokens: false }).ids;
    const kept: number[] = [];
    for (const id of ids) {
      if (this.dropped.has(id)) continue;
      kept.push(id);
      if (kept.length === MAX_TOKENS) break;
    }
    return kept;
  }

  /** One text's vector: the (weighted) mean of its tokens' rows, normalised; all zeros when no token is known. */
  embedOne(text: string): Float32Array {
    const out = new Float32Array(this.dims);
    const d = this.dims;
    for (const id of this.tokenIds(text)) {
      const row = this.mapping ? this.mapping[id] : id;
      if (row === undefined || row < 0 || row >= this.rows) continue;
      const w = this.weights ? (this.weights[id] ?? 1) : 1;
      const base = row * d;
      for (let j = 0; j < d; j++) out[j]! += w * this.vectors[base + j]!;
    }
    // The mean's scale does not survive normalisation, so the sum is normalised directly.
    let norm = 0;
    for (let j = 0; j < d; j++) norm += out[j]! * out[j]!;
    if (norm > 0) {
      const inv = 1 / Math.sqrt(norm);
      for (let j = 0; j < d; j++) out[j]! *= inv;
    }
    return out;
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i++) {
      if (i % 64 === 0) {
        signal?.throwIfAborted();
        // Long batches yield to the event loop so requests keep being answered while indexing.
        if (i > 0) await new Promise((r) => setImmediate(r));
      }
      out.push(this.embedOne(texts[i]!));
    }
    return out;
  }
}

async function readJson(dir: string, name: string, required: boolean): Promise<Record<string, unknown> | null> {
  let text: string;
  try {
    text = await readFile(join(dir, name), 'utf8');
  } catch (e) {
    if (!required && (e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    const code = (e as NodeJS.ErrnoException).code;
    throw badModel(dir, code === 'ENOENT' ? `there is no ${name} in it` : `${name} cannot be read (${code ?? (e as Error).message})`);
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // Reported below.
  }
  throw badModel(dir, `${name} is not a JSON object`);
}

/** Reads the model in `dir` (an absolute or relative folder). Throws ProviderError('bad_model') naming what is wrong. */
export async function readModel2Vec(dir: string): Promise<Model2VecEmbedder> {
  const abs = resolve(dir);
  const st = await stat(abs).catch(() => null);
  if (!st) throw badModel(abs, 'no such folder');
  if (!st.isDirectory()) throw badModel(abs, 'it is not a folder');
  const tokenizerJson = await readJson(abs, 'tokenizer.json', true);
  const tokenizerConfig = (await readJson(abs, 'tokenizer_config.json', false)) ?? {};
  // config.json is optional: Model2Vec keeps metadata there (normalize, …); vectors are normalised anyway for cosine search.
  await readJson(abs, 'config.json', false);

  const modelFile = join(abs, 'model.safetensors');
  const fileStat = await stat(modelFile).catch(() => null);
  if (!fileStat) throw badModel(abs, 'there is no model.safetensors in it');
  if (fileStat.size > MAX_MODEL_BYTES) throw badModel(abs, `model.safetensors is ${fileStat.size} bytes, more than the 2 GiB this reader holds`);
  const file = new Uint8Array(await readFile(modelFile));
  let tensors: Map<string, TensorInfo>;
  try {
    tensors = parseSafetensors(file);
  } catch (e) {
    if (e instanceof SafetensorsError) throw badModel(abs, `model.safetensors is not a valid safetensors file: ${e.message}`);
    throw e;
  }
  const emb = embeddingsTensor(abs, tensors);
  const shape: [number, number] = [emb.shape[0]!, emb.shape[1]!];
  const vectors = readFloats(file, emb);
  const mappingInfo = tensors.get('mapping');
  const weightsInfo = tensors.get('weights');
  let mapping: number[] | null = null;
  let weights: Float32Array | null = null;
  try {
    mapping = mappingInfo ? readInts(file, mappingInfo) : null;
    weights = weightsInfo ? readFloats(file, weightsInfo) : null;
  } catch (e) {
    if (e instanceof SafetensorsError) throw badModel(abs, `model.safetensors "mapping" or "weights": ${e.message}`);
    throw e;
  }

  let tokenizer: Tokenizer;
  try {
    const { Tokenizer } = await import('@huggingface/tokenizers');
    tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
  } catch (e) {
    throw badModel(abs, `tokenizer.json is not a tokenizer this reader understands (${(e as Error).message})`);
  }
  const dropped = new Set<number>();
  for (const [id, t] of tokenizer.get_added_tokens_decoder()) if (t.special) dropped.add(id);
  const unk = tokenizer.model?.unk_token_id;
  if (typeof unk === 'number') dropped.add(unk);

  const lengths: number[] = [];
  for (const token of tokenizer.get_vocab(true).keys()) lengths.push(token.length);
  lengths.sort((a, b) => a - b);
  const median = lengths.length ? lengths[Math.floor(lengths.length / 2)]! : 1;
  return new Model2VecEmbedder(abs, tokenizer, vectors, shape, dropped, mapping, weights, median);
}

const loaded = new Map<string, { key: string; model: Promise<Model2VecEmbedder> }>();

/** The model in `dir`, read once and kept while its files are unchanged (size and mtime); a failed read is not kept. */
export async function loadModel2Vec(dir: string): Promise<Model2VecEmbedder> {
  const abs = resolve(dir);
  const stamp = async (name: string) => {
    const s = await stat(join(abs, name)).catch(() => null);
    return s ? `${s.size}:${s.mtimeMs}` : '-';
  };
  const key = `${await stamp('model.safetensors')}|${await stamp('tokenizer.json')}`;
  const hit = loaded.get(abs);
  if (hit && hit.key === key) return hit.model;
  const model = readModel2Vec(abs);
  loaded.set(abs, { key, model });
  model.catch(() => {
    if (loaded.get(abs)?.model === model) loaded.delete(abs);
  });
  return model;
}
