/**
 * How a knowledge-base query is prepared and its hits are cut, shared by the daemon (daemon/src/kb/embed.ts,
 * search.ts) and the Edge Function cairn-api, so a script with an API key gets the very results its owner
 * gets in the editor. It lives here because `supabase functions deploy` bundles only files under
 * supabase/functions; it imports nothing and uses no runtime API, so Node and Deno both load it.
 */

/** The offline embedder's model name, stored in kb_sources.embedding_model with its vectors. */
export const LOCAL_HASH_ID = 'cairn-local-hash-v1-384';
export const LOCAL_HASH_DIMS = 384;

/** FNV-1a, 32-bit: cheap, stable across runs and platforms, good enough spread for feature hashing. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const WORD = /[\p{L}\p{N}_$]+/gu;
const CAMEL = /[\p{Lu}]?[\p{Ll}\p{N}]+|[\p{Lu}]+(?![\p{Ll}])|[\p{N}]+/gu;

/** `parseHTTPResponse_v2` → `parsehttpresponse_v2`, `parse`, `http`, `response`, `v2`. */
export function identifierTokens(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(WORD)) {
    const word = m[0];
    const lower = word.toLowerCase();
    if (lower.length > 1) out.push(lower);
    for (const part of word.split(/[_$]+/)) {
      if (!part) continue;
      const subs = part.match(CAMEL);
      if (!subs || (subs.length === 1 && part.length === word.length)) continue;
      for (const s of subs) if (s.length > 1) out.push(s.toLowerCase());
    }
  }
  return out;
}

/**
 * Signed feature hashing of identifier tokens (weight 1) and their character trigrams (weight 0.25, so
 * partial and misspelt identifiers still overlap), square-root damped per feature so one repeated token
 * cannot dominate, then L2-normalised. Deterministic: the same text gives the same vector everywhere.
 */
export function localHashEmbed(text: string, dims = LOCAL_HASH_DIMS): Float32Array {
  const v = new Float32Array(dims);
  const counts = new Map<string, number>();
  for (const tok of identifierTokens(text)) {
    counts.set(tok, (counts.get(tok) ?? 0) + 1);
  }
  for (const [tok, n] of counts) {
    const w = Math.sqrt(n);
    const h = fnv1a(tok);
    v[h % dims]! += h & 0x80000000 ? -w : w;
    const padded = `^${tok}$`;
    for (let i = 0; i + 3 <= padded.length; i++) {
      const g = fnv1a(padded.slice(i, i + 3));
      v[g % dims]! += (g & 0x80000000 ? -w : w) * 0.25;
    }
  }
  let norm = 0;
  for (let i = 0; i < dims; i++) norm += v[i]! * v[i]!;
  if (norm > 0) {
    const inv = 1 / Math.sqrt(norm);
    for (let i = 0; i < dims; i++) v[i]! *= inv;
  }
  return v;
}

/** pgvector's text form. Six decimals keep cosine ranking intact and halve the text versus full precision. */
export function vectorText(v: ArrayLike<number>): string {
  let s = '[';
  for (let i = 0; i < v.length; i++) {
    if (i) s += ',';
    const x = v[i]!;
    s += x === 0 ? '0' : x.toFixed(6);
  }
  return s + ']';
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

/** `./src/` and `src/` name the same folder; stored paths have no leading `./`. */
export function normalisePrefix(prefix: string): string {
  return prefix.replace(/^(\.\/)+/, '').replace(/^\/+/, '');
}

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

/** A kb_search row as the SQL API returns it (the columns a hit needs). */
export interface KbSearchRow {
  chunk_id: string;
  source_id: string;
  kind: 'file' | 'document' | 'url' | 'faq';
  uri: string;
  title: string | null;
  language: string | null;
  start_line: number;
  end_line: number;
  content: string;
  score: number;
  symbols?: string[] | null;
  scope?: string | null;
}

/** A search hit as `kb/search` and cairn-api's `/search` return it. */
export interface SearchHit {
  path: string;
  startLine: number;
  endLine: number;
  score: number;
  snippet: string;
  kind: KbSearchRow['kind'];
  title: string | null;
  language: string | null;
  sourceId: string;
  chunkId: string;
  /** The definitions the passage sits in (`class A > method b`), null when none. */
  scope: string | null;
  /** Qualified names of the definitions it holds or sits in. */
  symbols: string[];
}

export function searchHit(r: KbSearchRow, query: string): SearchHit {
  return {
    path: r.uri,
    startLine: r.start_line,
    endLine: r.end_line,
    score: Number(r.score),
    snippet: snippetFor(r.content, query),
    kind: r.kind,
    title: r.title,
    language: r.language,
    sourceId: r.source_id,
    chunkId: r.chunk_id,
    scope: r.scope ?? null,
    symbols: r.symbols ?? [],
  };
}

/** What a search asks for (kb/search's params, cairn-api's /search body). */
export interface SearchQuery {
  query: string;
  limit: number;
  pathPrefix?: string | undefined;
  glob?: string | undefined;
  language?: string | undefined;
  kind?: string | undefined;
}

/** The named arguments of kb_search for a query against `model`'s vectors (embedding null: words only). */
export function kbSearchArgs(projectId: string, model: string, embedding: string | null, q: SearchQuery): Record<string, string | number | null> {
  return {
    p_project_id: projectId,
    p_query: q.query,
    p_query_embedding: embedding,
    p_embedding_model: model,
    p_limit: q.limit,
    p_path_prefix: q.pathPrefix ? normalisePrefix(q.pathPrefix) : null,
    p_path_glob: q.glob ?? null,
    p_language: q.language ?? null,
    p_kind: q.kind ?? null,
    p_min_similarity: similarityFloor(model),
  };
}

/** kb/search's limit: 10 by default, 1 to 100. */
export function searchLimit(limit: number | undefined): number {
  return Math.min(Math.max(Math.trunc(limit ?? 10), 1), 100);
}
