/**
 * Knowledge-base search, shared by `kb/search`, the CLI and the chat orchestrator's `search_knowledge_base`
 * tool: one `kb_search` SQL call (BM25 over identifier-aware words plus vector similarity above a floor) against the project's active
 * embedding model, so a model switch in progress never mixes vectors of different dimensions.
 */
import type { RpcRow, Store } from '../store/types.js';
import type { ConfigHolder } from '../config.js';
import { kbKind, type KbHit } from '../protocol/kb.js';
import type { ParamsOf } from '../protocol/index.js';
import { canonicalRoot, resolveProject } from '../workspace/project.js';
import { activeModel } from './state.js';
import { embedderForModel, identifierTokens, type Embedder, vectorText, configuredModelId, LOCAL_HASH_ID } from './embed.js';

export type { KbHit };

type KbSearchRow = RpcRow<'kb_search'>;

const queryEmbedders = new Map<string, Promise<Embedder | null>>();

async function queryEmbedder(model: string, config: ConfigHolder, signal?: AbortSignal): Promise<Embedder | null> {
  const c = config.get();
  const key = `${model}|${c.embeddings.baseUrl ?? ''}|${c.embeddings.apiKey ? 'k' : ''}`;
  let e = queryEmbedders.get(key);
  if (!e) {
    e = embedderForModel(model, c, signal);
    queryEmbedders.set(key, e);
    // A failed provider is retried on the next search rather than remembered forever.
    void e.then((v) => v === null && queryEmbedders.delete(key));
  }
  return e;
}

/** `./src/` and `src/` name the same folder; stored paths have no leading `./`. */
function normalisePrefix(prefix: string): string {
  return prefix.replace(/^(\.\/)+/, '').replace(/^\/+/, '');
}

/**
 * The cosine similarity below which kb_search ignores a vector match. The offline hash embedder measures
 * shared words and character trigrams, so its low similarities are collisions, not meaning (tuned on the eval,
 * docs/eval.md); a neural model's similarities are lower for the same relevance.
 */
export function similarityFloor(model: string): number {
  return model === LOCAL_HASH_ID ? HASH_FLOOR : MODEL_FLOOR;
}
const HASH_FLOOR = 0.5;
const MODEL_FLOOR = 0.3;

/**
 * The lines of a chunk around its best match of the query words (identifier parts included), at most
 * ~300 characters; the chunk's start when no word occurs.
 */
export function snippetFor(content: string, query: string, maxChars = 300): string {
  const words = [...new Set(identifierTokens(query).filter((w) => w.length >= 3))];
  const lines = content.split('\n');
  let best = -1;
  let bestScore = 0;
  lines.forEach((line, i) => {
    const lower = line.toLowerCase();
    let score = 0;
    for (const w of words) if (lower.includes(w)) score += w.length;
    if (score > bestScore) {
      bestScore = score;
      best = i;
    }
  });
  if (best < 0) return content.slice(0, maxChars);
  let from = best;
  let to = best;
  let size = lines[best]!.length;
  while (size < maxChars && (from > 0 || to < lines.length - 1)) {
    if (to < lines.length - 1) size += lines[++to]!.length + 1;
    if (size < maxChars && from > 0) size += lines[--from]!.length + 1;
  }
  const text = lines.slice(from, to + 1).join('\n');
  if (text.length <= maxChars) return text;
  const at = Math.max(0, text.toLowerCase().indexOf(words.find((w) => lines[best]!.toLowerCase().includes(w)) ?? '') - 80);
  return cutAtWords(text, at, maxChars);
}

/** About `maxChars` of `text` from `at`, widened or narrowed to whole words, with `…` where it was cut. */
function cutAtWords(text: string, at: number, maxChars: number): string {
  let start = at;
  while (start > 0 && !/\s/.test(text[start - 1]!)) start--;
  let end = Math.min(text.length, start + maxChars);
  if (end < text.length) {
    const lastSpace = text.slice(start, end).search(/\s\S*$/);
    if (lastSpace > 0) end = start + lastSpace;
  }
  return `${start > 0 ? '…' : ''}${text.slice(start, end).trim()}${end < text.length ? '…' : ''}`;
}

export async function searchKnowledgeBase(
  store: Store,
  config: ConfigHolder,
  params: ParamsOf<'kb/search'>,
  signal?: AbortSignal,
): Promise<KbHit[]> {
  const limit = Math.min(Math.max(Math.trunc(params.limit ?? 10), 1), 100);
  const project = await resolveProject(store, await canonicalRoot(params.root));
  const model = (await activeModel(store, config.get(), project.id, signal)) ?? configuredModelId(config.get().embeddings);
  let embedding: string | null = null;
  const embedder = await queryEmbedder(model, config, signal);
  if (embedder) {
    try {
      const [v] = await embedder.embed([params.query], signal);
      if (v && v.length === embedder.dims) embedding = vectorText(v);
    } catch (e) {
      if (signal?.aborted) throw e;
      // The provider is down: full-text results are still worth returning.
      embedding = null;
    }
  }
  const rows = await store.rpc(
    'kb_search',
    {
      p_project_id: project.id,
      p_query: params.query,
      p_query_embedding: embedding,
      p_embedding_model: model,
      p_limit: limit,
      p_path_prefix: params.pathPrefix ? normalisePrefix(params.pathPrefix) : null,
      p_path_glob: params.glob ?? null,
      p_language: params.language ?? null,
      p_kind: params.kind ?? null,
      p_min_similarity: similarityFloor(model),
    },
    { signal },
  );
  return rows.map((r) => ({
    path: r.uri,
    startLine: r.start_line,
    endLine: r.end_line,
    score: Number(r.score),
    snippet: snippetFor(r.content, params.query),
    kind: kbKind.parse(r.kind),
    title: r.title,
    language: r.language,
    sourceId: r.source_id,
    chunkId: r.chunk_id,
  }));
}
