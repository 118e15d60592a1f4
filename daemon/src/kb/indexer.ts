/**
 * Incremental, resumable indexing of a workspace folder into kb_sources/kb_chunks through the SQL API.
 *
 * - Unchanged size and mtime: nothing is read. Changed stat but same content hash: nothing is written
 *   except the new stat (kb_touch_sources). Changed content: re-chunked; chunks whose text hash already has
 *   a stored vector for this model reuse it (kb_embeddings_by_hash), only the rest are embedded.
 * - Several files are written per kb_upsert_sources call, one transaction each call, and each file's source
 *   row and chunks are replaced together: a killed run leaves whole files only, and the next run skips them.
 * - A run with a new embedding model writes a new generation beside the old one; search stays on the old
 *   one until a complete run of the new model, which then becomes active and the old generation is dropped.
 */
import { performance } from 'node:perf_hooks';
import { createHash } from 'node:crypto';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import type { RpcRow, Store, TableRow } from '../store/types.js';
import type { RuntimeConfig } from '../config.js';
import { kbKind, type KbIndexSummary } from '../protocol/kb.js';
import { canonicalRoot, resolveProject, type ProjectRef } from '../workspace/project.js';
import { crawl, readTextFile, statInside, languageOf, isBinaryByName, noteSkip, type CrawledFile, type SkipCounts } from './crawl.js';
import { policyOptions, type PathPolicy } from '../workspace/policy.js';
import { chunkFile, type Chunk } from './chunk.js';
import { withParsers } from './chunk-syntax.js';
import { scanText, redactText } from '../secrets/index.js';
import { projectConfig } from '../workspace/gateway-config.js';
import { createEmbedder, ProviderError, vectorText, wrongDims, type Embedder } from './embed.js';
import { activateModel, readActiveModel } from './state.js';

export type StoredSource = RpcRow<'kb_list_sources'>;

export interface PreparedSource {
  kind: 'file' | 'document' | 'url' | 'faq';
  uri: string;
  title: string | null;
  language: string | null;
  contentHash: string;
  size: number;
  mtimeMs: number;
  chunks: Chunk[];
  /** Secrets replaced by `[redacted: <rule>]` in the text before it was chunked. */
  redactions?: number;
  /** Rules that matched and the first redacted line (files only, for the index summary). */
  redactedRules?: string[];
  firstRedactedLine?: number;
}

export interface IndexProgress {
  total: number;
  done: number;
  indexed: number;
  unchanged: number;
  skipped: number;
  chunks: number;
  filesPerSecond: number;
  etaSeconds: number | null;
}

export interface IndexDeps {
  store: Store;
  config: RuntimeConfig;
  /** `$CAIRN_HOME`, where the active model per project is recorded. */
  home: string;
  /** Overrides the configured embedder (tests count its calls). */
  embedder?: Embedder;
  /** false only in bench/secrets.bench.ts, which measures what detection costs; secrets are always redacted otherwise. */
  detectSecrets?: boolean;
}

export interface IndexOptions {
  force?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: IndexProgress) => void;
  /** Chunks per write transaction. */
  batchChunks?: number;
}

export interface IndexResult extends KbIndexSummary {
  cancelled: boolean;
  /** Workspace paths written or removed (for kb/changed). */
  changedUris: string[];
}

const MAX_ERRORS = 20;
const MAX_REDACTED_FILES = 200;
const READ_CONCURRENCY = 16;
/** Vectors a SourceWriter keeps by chunk hash between its writes (about 4 KB each). */
const MAX_CACHED_VECTORS = 4_096;

/** One index run per project at a time in this process; the watcher queues behind kb/index. */
const projectLocks = new Map<string, Promise<unknown>>();
const running = new Set<string>();

export function isIndexing(projectId: string): boolean {
  return running.has(projectId);
}

async function withProjectLock<T>(projectId: string, fn: () => Promise<T>): Promise<T> {
  const prev = projectLocks.get(projectId) ?? Promise.resolve();
  const next = prev.catch(() => undefined).then(async () => {
    running.add(projectId);
    try {
      return await fn();
    } finally {
      running.delete(projectId);
    }
  });
  projectLocks.set(projectId, next);
  try {
    return await next;
  } finally {
    if (projectLocks.get(projectId) === next) projectLocks.delete(projectId);
  }
}

/** Writes prepared sources: reuses stored vectors by chunk hash, embeds the rest, upserts in one call. */
export class SourceWriter {
  /** Vector text by chunk hash, for this run (a file often repeats a chunk of another). */
  private readonly vectors = new Map<string, string>();
  embedded = 0;
  reused = 0;
  chunksWritten = 0;
  readonly failures: { uri: string; message: string; kind: 'embed' | 'write' }[] = [];

  constructor(
    private readonly store: Store,
    private readonly projectId: string,
    private readonly embedder: Embedder,
  ) {}

  /** Returns the URIs written. Throws ProviderError only when the provider is unusable (key, URL). */
  async write(sources: PreparedSource[], signal?: AbortSignal): Promise<string[]> {
    if (sources.length === 0) return [];
    // A vector's text is ~4 KB (384 numbers): 200,000 of them were ~800 MB of a monorepo's first index. A chunk
    // repeated across files (a licence header) is usually repeated soon; the database remembers the rest
    // (kb_embeddings_by_hash).
    if (this.vectors.size > MAX_CACHED_VECTORS) this.vectors.clear();
    const missing = new Set<string>();
    for (const s of sources) for (const c of s.chunks) if (!this.vectors.has(c.contentHash)) missing.add(c.contentHash);
    if (missing.size > 0) {
      const rows = await this.store.rpc(
        'kb_embeddings_by_hash',
        { p_project_id: this.projectId, p_embedding_model: this.embedder.id, p_hashes: [...missing] },
        { signal },
      );
      for (const r of rows) {
        if (missing.delete(r.content_hash)) {
          this.vectors.set(r.content_hash, r.embedding);
          this.reused += countChunks(sources, r.content_hash);
        }
      }
    }
    const failedHashes = new Set<string>();
    let embedError: string | null = null;
    if (missing.size > 0) {
      const texts = new Map<string, string>();
      for (const s of sources) for (const c of s.chunks) if (missing.has(c.contentHash)) texts.set(c.contentHash, c.content);
      const hashes = [...texts.keys()];
      try {
        const out = await this.embedder.embed([...texts.values()], signal);
        const bad = new Set(wrongDims(out, this.embedder.dims));
        hashes.forEach((h, i) => {
          if (bad.has(i)) failedHashes.add(h);
          else this.vectors.set(h, vectorText(out[i]!));
        });
        this.embedded += hashes.length - bad.size;
        if (bad.size > 0) {
          const got = out.find((_, i) => bad.has(i))?.length ?? 0;
          embedError = `${this.embedder.id} returned ${got} dimensions, expected ${this.embedder.dims}`;
        }
      } catch (e) {
        if (signal?.aborted) throw e;
        if (e instanceof ProviderError && (e.reason === 'auth' || e.reason === 'unreachable')) throw e;
        embedError = e instanceof Error ? e.message : String(e);
        for (const h of hashes) failedHashes.add(h);
      }
    }
    const ok: PreparedSource[] = [];
    for (const s of sources) {
      if (s.chunks.some((c) => failedHashes.has(c.contentHash))) this.failures.push({ uri: s.uri, message: embedError ?? 'embedding failed', kind: 'embed' });
      else ok.push(s);
    }
    if (ok.length === 0) return [];
    const payload = ok.map((s) => this.payloadOf(s));
    try {
      await this.store.rpc('kb_upsert_sources', { p_project_id: this.projectId, p_sources: payload }, { signal });
      this.chunksWritten += ok.reduce((n, s) => n + s.chunks.length, 0);
      return ok.map((s) => s.uri);
    } catch (e) {
      if (signal?.aborted) throw e;
      if (ok.length === 1) {
        this.failures.push({ uri: ok[0]!.uri, message: (e as Error).message, kind: 'write' });
        return [];
      }
    }
    // One file spoilt the batch: write them one by one so the others still land.
    const written: string[] = [];
    for (let i = 0; i < ok.length; i++) {
      try {
        await this.store.rpc('kb_upsert_sources', { p_project_id: this.projectId, p_sources: [payload[i]] }, { signal });
        this.chunksWritten += ok[i]!.chunks.length;
        written.push(ok[i]!.uri);
      } catch (e) {
        if (signal?.aborted) throw e;
        this.failures.push({ uri: ok[i]!.uri, message: (e as Error).message, kind: 'write' });
      }
    }
    return written;
  }

  private payloadOf(s: PreparedSource) {
    return {
      source: {
        kind: s.kind,
        uri: s.uri,
        title: s.title,
        language: s.language,
        content_hash: s.contentHash,
        size_bytes: s.size,
        mtime_ms: s.mtimeMs,
        embedding_model: this.embedder.id,
        embedding_dims: this.embedder.dims,
      },
      chunks: s.chunks.map((c) => ({
        ordinal: c.ordinal,
        start_line: c.startLine,
        end_line: c.endLine,
        content: c.content,
        content_hash: c.contentHash,
        token_count: c.tokenCount,
        symbols: c.symbols ?? [],
        scope: c.scope ?? null,
        embedding: this.vectors.get(c.contentHash)!,
      })),
    };
  }
}

function countChunks(sources: PreparedSource[], hash: string): number {
  let n = 0;
  for (const s of sources) for (const c of s.chunks) if (c.contentHash === hash) n++;
  return n;
}

function bytesHash(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Postgres text cannot hold NUL. */
export function cleanText(text: string): string {
  return text.includes('\u0000') ? text.replace(/\u0000/g, '') : text;
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

export async function listStoredFiles(store: Store, projectId: string, model: string, signal?: AbortSignal): Promise<Map<string, StoredSource>> {
  const rows = await store.rpc('kb_list_sources', { p_project_id: projectId, p_embedding_model: model, p_kind: 'file' }, { signal });
  return new Map(rows.map((r) => [r.uri, r]));
}

async function deleteUris(store: Store, projectId: string, model: string, uris: string[], kind = 'file', signal?: AbortSignal): Promise<number> {
  let n = 0;
  for (let i = 0; i < uris.length; i += 1000) {
    n += Number(await store.rpc('kb_delete_sources', { p_project_id: projectId, p_embedding_model: model, p_uris: uris.slice(i, i + 1000), p_kind: kind }, { signal }));
  }
  return n;
}

type Examined =
  | { outcome: 'prepared'; source: PreparedSource; invalidUtf8: boolean }
  | { outcome: 'same-content'; file: CrawledFile }
  | { outcome: 'skip'; reason: 'binary' | 'tooLarge' | 'unreadable'; message?: string };

async function examine(file: CrawledFile, stored: StoredSource | undefined, force: boolean, maxBytes: number, detect = true): Promise<Examined> {
  const r = await readTextFile(file.abs, maxBytes);
  if (r.kind === 'binary' || r.kind === 'tooLarge') return { outcome: 'skip', reason: r.kind };
  if (r.kind === 'unreadable') return { outcome: 'skip', reason: 'unreadable', message: r.message };
  const hash = bytesHash(r.bytes);
  if (!force && stored && stored.content_hash === hash) return { outcome: 'same-content', file };
  const language = languageOf(file.path);
  const base = file.path.slice(file.path.lastIndexOf('/') + 1);
  // Detected secrets are replaced in the whole file before it is chunked (one scan per file, not per chunk);
  // the replacement keeps the secret's line breaks, so every chunk's line range stays exact.
  const text = cleanText(r.text);
  // A file on the secret allowlist (a false positive the user allowed) is indexed as it is.
  const findings = detect && !file.secretsAllowed ? scanText(text, { path: file.path }) : [];
  return {
    outcome: 'prepared',
    invalidUtf8: r.invalidUtf8,
    source: {
      kind: 'file',
      uri: file.path,
      title: base,
      language,
      contentHash: hash,
      size: r.bytes.length,
      mtimeMs: file.mtimeMs,
      chunks: await chunkFile(file.path, findings.length ? redactText(text, findings) : text, language),
      redactions: findings.length,
      redactedRules: [...new Set(findings.map((f) => f.rule))],
      firstRedactedLine: findings[0]?.line,
    },
  };
}

async function touch(store: Store, projectId: string, model: string, files: CrawledFile[], signal?: AbortSignal): Promise<void> {
  if (files.length === 0) return;
  await store.rpc(
    'kb_touch_sources',
    { p_project_id: projectId, p_embedding_model: model, p_items: files.map((f) => ({ uri: f.path, size_bytes: f.size, mtime_ms: f.mtimeMs })) },
    { signal },
  );
}

/** Indexes every file of a workspace folder with the configured embedder. */
export async function indexWorkspace(deps: IndexDeps, rootIn: string, opts: IndexOptions = {}): Promise<IndexResult> {
  const root = await canonicalRoot(rootIn);
  const project = await resolveProject(deps.store, root);
  return withProjectLock(project.id, () => withParsers(() => runIndex(deps, project, root, opts)));
}

async function runIndex(depsIn: IndexDeps, project: ProjectRef, root: string, opts: IndexOptions): Promise<IndexResult> {
  const t0 = performance.now();
  const signal = opts.signal;
  // A team project whose gateway names an embedding model is embedded through the gateway (workspace/gateway-config.ts).
  const deps = { ...depsIn, config: await projectConfig(depsIn.store, depsIn.config, project.id, signal) };
  const { store, config } = deps;
  const embedder = deps.embedder ?? (await createEmbedder(config.embeddings, signal));
  const stored = await listStoredFiles(store, project.id, embedder.id, signal);
  const crawled = await crawl(root, { ...policyOptions(config, deps.home), maxFileBytes: config.maxFileBytes, signal });
  const skipped: SkipCounts = crawled.skipped;
  const skippedFiles = crawled.skippedFiles;
  const errors: { path: string; message: string }[] = [];
  const changedUris: string[] = [];
  const note = (path: string, message: string) => {
    if (errors.length < MAX_ERRORS) errors.push({ path, message });
  };

  // Deleted (or newly ignored) files vanish first: cheap, and search stops showing them at once.
  const present = new Set(crawled.files.map((f) => f.path));
  const gone = [...stored.keys()].filter((u) => !present.has(u));
  let deleted = await deleteUris(store, project.id, embedder.id, gone, 'file', signal);
  changedUris.push(...gone);

  const todo = crawled.files.filter((f) => {
    const s = stored.get(f.path);
    return opts.force || !s || Number(s.size_bytes) !== f.size || Number(s.mtime_ms) !== f.mtimeMs;
  });
  let unchanged = crawled.files.length - todo.length;
  let indexed = 0;
  let done = unchanged;
  const total = crawled.files.length;
  const writer = new SourceWriter(store, project.id, embedder);
  const batchChunks = opts.batchChunks ?? 512;
  let cancelled = false;
  let lastReport = 0;
  const tLoop = performance.now();
  const report = (force = false) => {
    const now = performance.now();
    if (!opts.onProgress || (!force && now - lastReport < 200)) return;
    lastReport = now;
    const secs = (now - tLoop) / 1000;
    const processed = done - unchanged;
    const rate = secs > 0 ? processed / secs : 0;
    const skippedTotal = skipped.binary + skipped.tooLarge + skipped.unreadable + skipped.embedFailed + skipped.writeFailed;
    opts.onProgress({
      total,
      done,
      indexed,
      unchanged,
      skipped: skippedTotal,
      chunks: writer.chunksWritten,
      filesPerSecond: Math.round(rate * 10) / 10,
      etaSeconds: rate > 0 ? Math.round((total - done) / rate) : null,
    });
  };
  report(true);

  const becameUnindexable: string[] = [];
  let redactions = 0;
  const redactedFiles: IndexResult['redactedFiles'] = [];
  let pending: PreparedSource[] = [];
  let pendingChunks = 0;
  const flush = async () => {
    const batch = pending;
    pending = [];
    pendingChunks = 0;
    const written = await writer.write(batch, signal);
    indexed += written.length;
    changedUris.push(...written);
  };

  try {
    const group = 64;
    for (let i = 0; i < todo.length; i += group) {
      signal?.throwIfAborted();
      const files = todo.slice(i, i + group);
      const results = await mapLimit(files, READ_CONCURRENCY, (f) => examine(f, stored.get(f.path), !!opts.force, config.maxFileBytes, deps.detectSecrets !== false));
      const sameContent: CrawledFile[] = [];
      for (let k = 0; k < results.length; k++) {
        const r = results[k]!;
        const f = files[k]!;
        if (r.outcome === 'skip') {
          noteSkip(skipped, skippedFiles, f.path, r.reason);
          if (r.message) note(f.path, r.message);
          if (stored.has(f.path)) becameUnindexable.push(f.path);
        } else if (r.outcome === 'same-content') {
          sameContent.push(r.file);
        } else {
          if (r.invalidUtf8) skipped.invalidUtf8++;
          if (r.source.redactions) {
            redactions += r.source.redactions;
            if (redactedFiles.length < MAX_REDACTED_FILES) {
              redactedFiles.push({ path: f.path, redactions: r.source.redactions, rules: r.source.redactedRules ?? [], line: r.source.firstRedactedLine ?? 1 });
            }
          }
          pending.push(r.source);
          pendingChunks += r.source.chunks.length;
          if (pendingChunks >= batchChunks) {
            await flush();
            report();
          }
        }
      }
      unchanged += sameContent.length;
      await touch(store, project.id, embedder.id, sameContent, signal);
      done += files.length;
      report();
    }
    await flush();
  } catch (e) {
    if (!signal?.aborted) throw e;
    cancelled = true;
  }
  if (!cancelled && becameUnindexable.length) {
    deleted += await deleteUris(store, project.id, embedder.id, becameUnindexable, 'file');
    changedUris.push(...becameUnindexable);
  }

  for (const f of writer.failures) {
    noteSkip(skipped, skippedFiles, f.uri, f.kind === 'embed' ? 'embedFailed' : 'writeFailed');
    note(f.uri, f.message);
  }
  const complete = !cancelled && writer.failures.length === 0;
  if (complete) await finalizeGeneration(deps, project.id, embedder);
  const activeModel = (await readActiveModel(store, project.id)) ?? embedder.id;
  report(true);
  return {
    root: crawled.root,
    projectId: project.id,
    model: embedder.id,
    files: crawled.files.length,
    indexed,
    unchanged,
    deleted,
    skipped,
    skippedFiles,
    redactions,
    redactedFiles,
    chunks: writer.chunksWritten,
    embedded: writer.embedded,
    reused: writer.reused,
    seconds: Math.round((performance.now() - t0)) / 1000,
    complete,
    activeModel,
    errors,
    cancelled,
    changedUris,
  };
}

/** The models with a generation in the project. */
async function currentModels(store: Store, projectId: string): Promise<Set<string>> {
  return new Set((await store.rpc('kb_status', { p_project_id: projectId })).map((r) => r.embedding_model));
}

/** A chunk as `kb_source_chunks` returns it inside its json `chunks` column: a row of `kb_chunks`, in part. */
type StoredChunk = Pick<TableRow<'kb_chunks'>, 'ordinal' | 'start_line' | 'end_line' | 'content' | 'content_hash' | 'token_count'> &
  Partial<Pick<TableRow<'kb_chunks'>, 'symbols' | 'scope'>>;

/**
 * After a complete run of `embedder`: it becomes the project's active model; documents, URLs and FAQ entries
 * of older generations are re-embedded into it (their text lives only in the database); then the older
 * generations are dropped, so exactly one generation remains.
 */
export async function finalizeGeneration(deps: IndexDeps, projectId: string, embedder: Embedder): Promise<void> {
  const models = await currentModels(deps.store, projectId);
  const others = [...models].filter((m) => m !== embedder.id);
  if (others.length > 0) {
    const writer = new SourceWriter(deps.store, projectId, embedder);
    const have = new Set((await deps.store.rpc('kb_list_sources', { p_project_id: projectId, p_embedding_model: embedder.id })).filter((s) => s.kind !== 'file').map((s) => `${s.kind}\u0000${s.uri}`));
    for (const old of others) {
      const rows = await deps.store.rpc('kb_source_chunks', { p_project_id: projectId, p_embedding_model: old, p_kinds: ['document', 'url', 'faq'] });
      const toCopy = rows.filter((r) => !have.has(`${r.kind}\u0000${r.uri}`));
      for (let i = 0; i < toCopy.length; i += 32) {
        await writer.write(
          toCopy.slice(i, i + 32).map((r) => ({
            kind: kbKind.parse(r.kind),
            uri: r.uri,
            title: r.title,
            language: r.language,
            contentHash: r.content_hash,
            size: Number(r.size_bytes),
            mtimeMs: Number(r.mtime_ms),
            chunks: (r.chunks as StoredChunk[]).map((c) => ({ ordinal: c.ordinal, startLine: c.start_line, endLine: c.end_line, content: c.content, contentHash: c.content_hash, tokenCount: c.token_count, symbols: c.symbols ?? [], scope: c.scope ?? null })),
          })),
        );
      }
      // Keep the old generation if any copy failed: search must not lose those sources.
      if (writer.failures.length > 0) return;
    }
  }
  await activateModel(deps.store, projectId, embedder.id);
  for (const old of others) {
    const all = await deps.store.rpc('kb_list_sources', { p_project_id: projectId, p_embedding_model: old });
    const byKind = new Map<string, string[]>();
    for (const s of all) byKind.set(s.kind, [...(byKind.get(s.kind) ?? []), s.uri]);
    for (const [kind, uris] of byKind) await deleteUris(deps.store, projectId, old, uris, kind);
  }
}

/**
 * Re-indexes some workspace paths (from the watcher): changed files are rewritten, vanished or newly
 * ignored ones removed. Does not switch models; `indexWorkspace` does.
 */
export async function indexPaths(
  depsIn: IndexDeps,
  root: string,
  rels: string[],
  policy: PathPolicy,
  signal?: AbortSignal,
): Promise<{ indexed: string[]; deleted: string[]; failures: { uri: string; message: string }[]; needsFull: boolean }> {
  const project = await resolveProject(depsIn.store, await canonicalRoot(root));
  return withProjectLock(project.id, () => withParsers(async () => {
    const deps = { ...depsIn, config: await projectConfig(depsIn.store, depsIn.config, project.id, signal) };
    const embedder = deps.embedder ?? (await createEmbedder(deps.config.embeddings, signal));
    const stored = await listStoredFiles(deps.store, project.id, embedder.id, signal);
    const toDelete: string[] = [];
    const files: CrawledFile[] = [];
    let needsFull = false;
    for (const rel of [...new Set(rels)].sort()) {
      const st = await lstat(join(policy.root, rel)).catch(() => null);
      if (st?.isDirectory()) {
        // A folder moved or copied in: its files are found by a crawl, not by this event.
        needsFull = true;
        continue;
      }
      if (!st) {
        // A deleted or renamed folder reports only its own name.
        for (const uri of stored.keys()) if (uri.startsWith(`${rel}/`)) toDelete.push(uri);
      }
      // The policy judges the path and, for a symlink, its target: a link to `.env` is as hidden as `.env`.
      const visible = st !== null && (await policy.resolve(rel).then(() => true, () => false));
      const f = !visible || isBinaryByName(rel) ? null : await statInside(policy.root, rel);
      if (f && (await policy.secretAllowed(rel))) f.secretsAllowed = true;
      if (!f || f.size > deps.config.maxFileBytes) {
        if (stored.has(rel)) toDelete.push(rel);
        continue;
      }
      const s = stored.get(rel);
      if (s && Number(s.size_bytes) === f.size && Number(s.mtime_ms) === f.mtimeMs) continue;
      files.push(f);
    }
    const writer = new SourceWriter(deps.store, project.id, embedder);
    const prepared: PreparedSource[] = [];
    const same: CrawledFile[] = [];
    for (const f of files) {
      const r = await examine(f, stored.get(f.path), false, deps.config.maxFileBytes, deps.detectSecrets !== false);
      if (r.outcome === 'prepared') prepared.push(r.source);
      else if (r.outcome === 'same-content') same.push(r.file);
      else if (stored.has(f.path)) toDelete.push(f.path);
    }
    await touch(deps.store, project.id, embedder.id, same, signal);
    const indexed = await writer.write(prepared, signal);
    await deleteUris(deps.store, project.id, embedder.id, toDelete, 'file', signal);
    return { indexed, deleted: toDelete, failures: writer.failures, needsFull };
  }));
}
