/**
 * Handlers of the daemon's own methods: `initialize`, `shutdown`, `daemon/*`, `auth/status` and
 * `workspace/*`. Everything else comes from the subsystems.
 */
import { stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { notifications, PROTOCOL_VERSION, RpcError } from '../protocol/index.js';
import type { z } from 'zod';
import type { effectiveConfigSchema, secretsSchema, settingsSchema } from '../protocol/core.js';
import type { ConfigHolder, RuntimeConfig } from '../config.js';
import { chooseProject, listProjects, resolveProject } from '../workspace/project.js';
import type { Store } from '../store/types.js';
import { actingStatus, publicUser } from '../auth/acting.js';
import { toPrometheus } from '../rpc/metrics.js';
import type { DaemonDeps } from '../rpc/registry.js';
import type { PeerConnection, RpcServer } from '../rpc/server.js';
import { DAEMON_VERSION } from '../rpc/version.js';

export interface CoreInfo {
  readonly startedAt: number;
  port(): number | null;
  /** Begins shutdown once the current response is on its way. */
  requestShutdown(reason: string): void;
  /** Told once an `initialize` answer is on its way (start-up work deferred behind it may begin). */
  initialized?(): void;
}

type Settings = z.output<typeof settingsSchema>;
type Secrets = z.output<typeof secretsSchema>;

/** Applies settings and keys to the in-memory config; keys never leave memory. */
export function applySettings(config: ConfigHolder, settings?: Settings, secrets?: Secrets): RuntimeConfig {
  const chat: Partial<RuntimeConfig['chat']> = {};
  const embeddings: Partial<RuntimeConfig['embeddings']> = {};
  if (settings?.chat?.baseUrl !== undefined) chat.baseUrl = settings.chat.baseUrl;
  if (settings?.chat?.model !== undefined) chat.model = settings.chat.model;
  if (secrets?.chatApiKey !== undefined) chat.apiKey = secrets.chatApiKey;
  const e = settings?.embeddings;
  if (e?.provider !== undefined) embeddings.provider = e.provider;
  if (e?.model !== undefined) embeddings.model = e.model;
  if (e?.baseUrl !== undefined) embeddings.baseUrl = e.baseUrl;
  if (e?.dimensions !== undefined) embeddings.dimensions = e.dimensions;
  if (secrets?.embeddingsApiKey !== undefined) embeddings.apiKey = secrets.embeddingsApiKey;
  const patch: Parameters<ConfigHolder['update']>[0] = {};
  if (Object.keys(chat).length) patch.chat = chat;
  if (Object.keys(embeddings).length) patch.embeddings = embeddings;
  if (settings?.excludes !== undefined) patch.excludes = settings.excludes;
  if (settings?.maxFileBytes !== undefined) patch.maxFileBytes = settings.maxFileBytes;
  if (settings?.secretsAllow !== undefined) patch.secretsAllow = settings.secretsAllow;
  return Object.keys(patch).length ? config.update(patch) : config.get();
}

export function effectiveConfig(c: RuntimeConfig): z.output<typeof effectiveConfigSchema> {
  return {
    chat: { baseUrl: c.chat.baseUrl, model: c.chat.model, hasApiKey: c.chat.apiKey !== null },
    embeddings: {
      provider: c.embeddings.provider,
      model: c.embeddings.model,
      baseUrl: c.embeddings.baseUrl,
      dimensions: c.embeddings.dimensions,
      hasApiKey: c.embeddings.apiKey !== null,
    },
    excludes: c.excludes,
    maxFileBytes: c.maxFileBytes,
    secretsAllow: c.secretsAllow,
  };
}

/** Backup is a capability of the embedded store only; other stores have their own (pg_dump, Supabase). */
interface BackupCapable {
  backup(file: string): Promise<unknown>;
}

function canBackup(store: Store): store is Store & BackupCapable {
  return typeof (store as Partial<BackupCapable>).backup === 'function';
}

export function registerCore(rpc: RpcServer, deps: DaemonDeps, info: CoreInfo): void {
  const { store, config } = deps;
  const schemaVersion = async () => (await store.schemaStatus()).applied;

  rpc.handle('initialize', async (params) => {
    applySettings(config, params.settings, params.secrets);
    const result = {
      version: DAEMON_VERSION,
      protocolVersion: PROTOCOL_VERSION,
      schemaVersion: await schemaVersion(),
      store: store.mode,
      user: publicUser(store),
      capabilities: { methods: rpc.methods, notifications: Object.keys(notifications).sort() },
    };
    // After this answer is written (setImmediate runs after the pending socket writes).
    if (info.initialized) setImmediate(info.initialized);
    return result;
  });

  rpc.handle('shutdown', async () => {
    info.requestShutdown('shutdown request');
    return { ok: true as const };
  });

  rpc.handle('daemon/configure', async (params) => effectiveConfig(applySettings(config, params.settings, params.secrets)));

  rpc.handle('daemon/status', async () => {
    const schema = await store.schemaStatus();
    return {
      version: DAEMON_VERSION,
      protocolVersion: PROTOCOL_VERSION,
      schemaVersion: schema.applied,
      pendingMigrations: schema.pending,
      store: store.mode,
      pid: process.pid,
      port: info.port(),
      user: publicUser(store),
      home: deps.home,
      uptimeSeconds: Math.round((Date.now() - info.startedAt) / 100) / 10,
      connections: rpc.connectionCount,
    };
  });

  rpc.handle('daemon/metrics', async (params) => {
    const stats = await store.stats().catch((err: unknown) => {
      deps.log.warn('store stats failed', { error: err });
      return { tables: {} as Record<string, number>, bytes: null };
    });
    const mem = process.memoryUsage();
    const figures = {
      connections: rpc.connectionCount,
      uptimeSeconds: Math.round((Date.now() - info.startedAt) / 100) / 10,
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      memory: {
        heapTotalBytes: mem.heapTotal,
        externalBytes: mem.external,
        arrayBuffersBytes: mem.arrayBuffers,
        wasmHeapBytes: store.engineHeapBytes?.() ?? null,
      },
      indexChunks: stats.tables.kb_chunks ?? null,
      databaseBytes: stats.bytes,
      requests: rpc.metrics.summary(),
    };
    return params.format === 'prometheus' ? { format: 'prometheus' as const, text: toPrometheus(figures) } : { format: 'json' as const, ...figures };
  });

  rpc.handle('daemon/subscribe', async (params, ctx) => {
    for (const topic of params.topics) ctx.connection.subscribe(topic);
    return { topics: (ctx.connection as PeerConnection).subscriptions };
  });

  rpc.handle('daemon/unsubscribe', async (params, ctx) => {
    for (const topic of params.topics) ctx.connection.unsubscribe(topic);
    return { topics: (ctx.connection as PeerConnection).subscriptions };
  });

  rpc.handle('daemon/ping', async (params, ctx) => {
    const start = Date.now();
    ctx.progress({ kind: 'begin', title: 'ping', percentage: 0 });
    while (Date.now() - start < params.delayMs) {
      const wait = Math.min(100, params.delayMs - (Date.now() - start));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, wait);
        const onAbort = () => {
          clearTimeout(timer);
          reject(ctx.signal.reason instanceof Error ? ctx.signal.reason : new RpcError('Cancelled', 'Request cancelled'));
        };
        if (ctx.signal.aborted) onAbort();
        else ctx.signal.addEventListener('abort', onAbort, { once: true });
      });
      const elapsed = Date.now() - start;
      ctx.progress({ kind: 'report', percentage: Math.min(100, Math.round((elapsed / params.delayMs) * 100)), data: { elapsedMs: elapsed } });
    }
    ctx.progress({ kind: 'end' });
    return { pong: true as const, pid: process.pid };
  });

  rpc.handle('daemon/backup', async (params) => {
    if (!canBackup(store)) {
      throw new RpcError('NotImplementedInStore', `backup works on the embedded store; this daemon uses the ${store.mode} store (use pg_dump or the Supabase dashboard)`);
    }
    if (!isAbsolute(params.file)) throw new RpcError('InvalidInput', 'file must be an absolute path', { field: 'file' });
    await deps.track(store.backup(params.file));
    return { file: params.file, bytes: (await stat(params.file)).size };
  });

  rpc.handle('auth/status', async () => actingStatus(store));

  rpc.handle('workspace/resolveProject', async (params) => {
    if (!isAbsolute(params.root)) throw new RpcError('InvalidInput', 'root must be an absolute path', { field: 'root' });
    return resolveProject(store, params.root);
  });

  rpc.handle('workspace/listProjects', async () => ({ projects: await listProjects(store) }));

  rpc.handle('workspace/chooseProject', async (params) => {
    if (!isAbsolute(params.root)) throw new RpcError('InvalidInput', 'root must be an absolute path', { field: 'root' });
    if (params.personal && params.projectId !== null) {
      throw new RpcError('InvalidInput', 'give a projectId, or personal: true with projectId null, not both', { field: 'personal' });
    }
    return chooseProject(store, params.root, { projectId: params.projectId, personal: params.personal === true });
  });
}
