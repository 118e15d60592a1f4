/**
 * The `kb/*` handlers. `kb/index` starts a watcher on the folder by default (params.watch), so an indexed
 * workspace stays current while the daemon runs; watchers stop on dispose.
 */
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { RpcError } from '../protocol/errors.js';
import type { DaemonDeps, HandlerContext, Subsystem } from '../rpc/registry.js';
import { resolveProject, type ProjectRef } from '../workspace/project.js';
import { crawl } from './crawl.js';
import { policyOptions } from '../workspace/policy.js';
import { configuredModelId, ProviderError } from './embed.js';
import { projectConfig } from '../workspace/gateway-config.js';
import { addSource, KbInputError, prepareDocument, prepareFaq, prepareUrl } from './documents.js';
import { indexWorkspace, isIndexing, listStoredFiles, type IndexDeps, type PreparedSource } from './indexer.js';
import { searchKnowledgeBase } from './search.js';
import { activeModel, legacyStateFile, migrateLegacyState, readActiveModel } from './state.js';
import { KbWatcher } from './watch.js';
import { VectorPublisher } from './publish.js';
import { addTeamDocument, objectForUri, openTeamDocument, teamDocuments } from './team-documents.js';

/** The real path of a workspace folder, or a typed error a user can act on. */
export async function workspaceRoot(root: string): Promise<string> {
  if (!isAbsolute(root)) throw new RpcError('InvalidInput', 'root must be an absolute path', { field: 'root' });
  const st = await stat(root).catch(() => null);
  if (!st) throw new RpcError('NotFound', `no folder at ${root}`, { field: 'root' });
  if (!st.isDirectory()) throw new RpcError('InvalidInput', `${root} is not a folder`, { field: 'root' });
  return realpath(root);
}

/** Provider and input failures as the protocol's typed errors (StoreErrors are mapped by the server). */
function toRpcError(e: unknown): unknown {
  if (e instanceof ProviderError) return new RpcError('ProviderError', e.message, { reason: e.reason });
  if (e instanceof KbInputError) return new RpcError(e.code, e.message, e.data);
  return e;
}

async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    throw toRpcError(e);
  }
}

export const registerKb: Subsystem = async (registry, deps: DaemonDeps) => {
  const legacy = legacyStateFile(deps.home);
  if (legacy) {
    const migrate = () => migrateLegacyState(deps.store, legacy, deps.log);
    if (deps.afterStart) deps.afterStart('kb-state.json migration', migrate);
    else await migrate();
  }
  const watchers = new Map<string, KbWatcher>();
  const indexingRoots = new Set<string>();
  const publisher = new VectorPublisher(deps.store, deps.log, (w) => deps.track(w), deps.shutdownSignal);
  const indexDeps = (): IndexDeps => ({ store: deps.store, config: deps.config.get(), home: deps.home });
  const signalOf = (ctx: HandlerContext) => AbortSignal.any([ctx.signal, deps.shutdownSignal]);

  const publish = (root: string | null, projectId: string, reason: 'index' | 'watch' | 'add' | 'remove' | 'model', uris: string[], activeModel: string | null) =>
    deps.hub.publish('kb', 'kb/changed', { root, projectId, reason, uris: uris.slice(0, 100), activeModel });

  const startWatching = async (root: string) => {
    if (watchers.has(root)) return;
    const project = await resolveProject(deps.store, root);
    const w = new KbWatcher(
      root,
      indexDeps,
      (r) => {
        publisher.schedule(project.id);
        publish(root, project.id, 'watch', [...r.indexed, ...r.deleted], null);
      },
      deps.log,
    );
    w.start();
    watchers.set(root, w);
  };

  registry.handle('kb/index', async (params, ctx) => {
    const root = await workspaceRoot(params.root);
    const project = await resolveProject(deps.store, root);
    if (indexingRoots.has(root)) throw new RpcError('Busy', `${root} is already being indexed`);
    const activeBefore = await activeModel(deps.store, project.id, ctx.signal);
    ctx.progress({ kind: 'begin', title: 'Indexing', message: root, percentage: 0 });
    indexingRoots.add(root);
    const result = await deps.track(
      guarded(() =>
        indexWorkspace(indexDeps(), root, {
          force: params.force,
          signal: signalOf(ctx),
          onProgress: (p) =>
            ctx.progress({
              kind: 'report',
              message: `${p.done}/${p.total} files, ${p.chunks} chunks${p.etaSeconds !== null ? `, about ${p.etaSeconds} s left` : ''}`,
              percentage: p.total > 0 ? Math.floor((100 * p.done) / p.total) : 100,
              data: { ...p },
            }),
        }),
      ).finally(() => indexingRoots.delete(root)),
    );
    ctx.progress({ kind: 'end', message: result.cancelled ? 'cancelled' : `${result.files} files` });
    if (result.chunks > 0) publisher.schedule(project.id);
    if (result.activeModel !== activeBefore) publish(root, project.id, 'model', result.changedUris, result.activeModel);
    else if (result.changedUris.length > 0) publish(root, project.id, 'index', result.changedUris, result.activeModel);
    const { cancelled, changedUris: _changed, ...summary } = result;
    if (cancelled) {
      throw new RpcError('Cancelled', `indexing cancelled; ${summary.indexed} files written this run stay indexed and the next run continues from there`, { summary });
    }
    if (params.watch) await startWatching(root);
    return summary;
  });

  registry.handle('kb/status', async (params, ctx) => {
    const root = await workspaceRoot(params.root);
    const project = await resolveProject(deps.store, root);
    const [config, rows, active] = await Promise.all([
      projectConfig(deps.store, deps.config.get(), project.id, ctx.signal),
      deps.store.rpc('kb_status', { p_project_id: project.id }, { signal: ctx.signal }),
      readActiveModel(deps.store, project.id, ctx.signal),
    ]);
    const byModel = new Map<string, { model: string; dims: number; sources: number; chunks: number; byKind: Record<string, { sources: number; chunks: number }>; lastIndexedAt: string | null }>();
    for (const r of rows) {
      let m = byModel.get(r.embedding_model);
      if (!m) byModel.set(r.embedding_model, (m = { model: r.embedding_model, dims: r.embedding_dims, sources: 0, chunks: 0, byKind: {}, lastIndexedAt: null }));
      m.sources += Number(r.sources);
      m.chunks += Number(r.chunks);
      m.byKind[r.kind] = { sources: Number(r.sources), chunks: Number(r.chunks) };
      const at = r.last_indexed_at ? new Date(r.last_indexed_at).toISOString() : null;
      if (at && (!m.lastIndexedAt || at > m.lastIndexedAt)) m.lastIndexedAt = at;
    }
    const configuredModel = configuredModelId(config.embeddings);
    let stale: { added: number; changed: number; deleted: number } | null = null;
    if (params.stale) {
      const [stored, crawled] = await Promise.all([
        listStoredFiles(deps.store, project.id, configuredModel, ctx.signal),
        crawl(root, { ...policyOptions(config, deps.home), maxFileBytes: config.maxFileBytes, signal: ctx.signal }),
      ]);
      stale = { added: 0, changed: 0, deleted: 0 };
      const present = new Set<string>();
      for (const f of crawled.files) {
        present.add(f.path);
        const s = stored.get(f.path);
        if (!s) stale.added++;
        else if (Number(s.size_bytes) !== f.size || Number(s.mtime_ms) !== f.mtimeMs) stale.changed++;
      }
      for (const uri of stored.keys()) if (!present.has(uri)) stale.deleted++;
    }
    return {
      projectId: project.id,
      configuredModel,
      activeModel: active,
      models: [...byModel.values()],
      stale,
      indexing: isIndexing(project.id),
      watching: watchers.has(root),
    };
  });

  registry.handle('kb/search', async (params, ctx) => {
    const root = await workspaceRoot(params.root);
    return guarded(() => searchKnowledgeBase(deps.store, deps.config, { ...params, root }, ctx.signal));
  });

  /** Adds a source to the folder's project (`write` stores it) and announces it. */
  const add = async <T extends { uri: string }>(root: string, write: (project: ProjectRef, signal: AbortSignal) => Promise<T>, ctx: HandlerContext) =>
    guarded(async () => {
      const real = await workspaceRoot(root);
      const project = await resolveProject(deps.store, real);
      const added = await deps.track(write(project, signalOf(ctx)));
      publisher.schedule(project.id);
      publish(real, project.id, 'add', [added.uri], null);
      return added;
    });
  const addPrepared = (root: string, prepare: () => Promise<PreparedSource>, ctx: HandlerContext) =>
    add(root, async (project, signal) => addSource(deps.store, deps.config.get(), project.id, await prepare(), signal), ctx);

  registry.handle('kb/addDocument', (params, ctx) =>
    add(
      params.root,
      async (project, signal) => {
        const docs = params.path !== undefined ? teamDocuments(deps.store, project) : null;
        // A team project's file goes to the team's Storage bucket, then into the shared index.
        if (docs && params.path !== undefined) {
          const opts = { path: params.path, ...(params.title ? { title: params.title } : {}), ...(params.format ? { format: params.format } : {}) };
          return addTeamDocument(deps.store, docs, deps.config.get(), project, opts, signal);
        }
        return addSource(deps.store, deps.config.get(), project.id, await prepareDocument(params), signal);
      },
      ctx,
    ),
  );
  registry.handle('kb/addUrl', (params, ctx) => addPrepared(params.root, () => prepareUrl(params.url, params.title, ctx.signal), ctx));
  registry.handle('kb/addFaq', (params, ctx) => addPrepared(params.root, async () => prepareFaq(params.question, params.answer), ctx));

  registry.handle('kb/openDocument', async (params, ctx) => {
    const root = await workspaceRoot(params.root);
    const project = await resolveProject(deps.store, root);
    const docs = teamDocuments(deps.store, project);
    if (!docs) throw new RpcError('NotFound', `${params.uri} has no stored file: outside a team project a document is kept only as indexed text`);
    const doc = await guarded(() => openTeamDocument(docs, project, params.uri, ctx.signal));
    const text = doc.format === 'pdf' ? {} : { text: doc.bytes.toString('utf8') };
    const bytes = doc.format === 'pdf' ? { base64: doc.bytes.toString('base64') } : {};
    return { name: doc.name, format: doc.format, contentType: doc.contentType, size: doc.bytes.length, storagePath: doc.storagePath, ...text, ...bytes };
  });

  registry.handle('kb/remove', async (params, ctx) => {
    const root = await workspaceRoot(params.root);
    const project = await resolveProject(deps.store, root);
    const rows = await deps.store.rpc('kb_status', { p_project_id: project.id }, { signal: ctx.signal });
    let removed = 0;
    for (const model of new Set(rows.map((r) => r.embedding_model))) {
      removed += Number(await deps.store.rpc('kb_delete_sources', { p_project_id: project.id, p_embedding_model: model, p_uris: [params.uri], p_kind: params.kind }, { signal: ctx.signal }));
    }
    // A team document's file goes with it (after the index: a refusal there leaves both in place).
    const docs = params.kind === 'document' ? teamDocuments(deps.store, project) : null;
    const object = docs ? objectForUri(project, params.uri) : null;
    const storageRemoved = docs && object ? (await docs.remove([object], { signal: ctx.signal })).includes(object) : undefined;
    if (removed > 0 || storageRemoved) publish(root, project.id, 'remove', [params.uri], null);
    return storageRemoved === undefined ? { removed } : { removed, storageRemoved };
  });

  registry.handle('kb/watch', async (params) => {
    const root = await workspaceRoot(params.root);
    if (params.enabled) {
      await startWatching(root);
    } else {
      await watchers.get(root)?.stop();
      watchers.delete(root);
    }
    return { watching: watchers.has(root) };
  });

  return {
    async dispose() {
      await Promise.all([...watchers.values()].map((w) => w.stop()));
      watchers.clear();
      await publisher.stop();
    },
  };
};
