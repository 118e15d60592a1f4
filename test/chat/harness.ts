/**
 * A real daemon (the JSON-RPC server, the embedded store from a migrated template, the chat subsystem) in this
 * process, a fake OpenAI-compatible model server, a workspace folder and WebSocket clients: the chat is
 * tested at its JSON-RPC boundary with the real `@langchain/openai` client in between.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DaemonClient } from '../../daemon/src/protocol/client/client.js';
import type { NotificationMethod, NotificationParamsOf } from '../../daemon/src/protocol/index.js';
import { startDaemon, type RunningDaemon } from '../../daemon/src/host/daemon.js';
import { EmbeddedStore } from '../../daemon/src/store/embedded.js';
import type { Store } from '../../daemon/src/store/types.js';
import { createChatSubsystem } from '../../daemon/src/chat/handlers.js';
import type { ChatOptions } from '../../daemon/src/chat/orchestrator.js';
import type { KbSearch } from '../../daemon/src/chat/tools.js';
import type { Subsystem } from '../../daemon/src/rpc/registry.js';
import { migratedTemplate } from '../support/db.js';
import { startOpenAIServer, type FakeOpenAIOptions, type FakeOpenAIServer } from '../support/openai-server.js';

export interface Harness {
  home: string;
  workspace: string;
  model: FakeOpenAIServer | null;
  daemon: RunningDaemon;
  store: Store;
  connect(): Promise<RecordingClient>;
  close(): Promise<void>;
}

/** A DaemonClient that records every notification it receives, in order. */
export class RecordingClient {
  readonly seen: Array<{ method: string; params: Record<string, unknown> }> = [];
  private waiters: Array<() => void> = [];

  constructor(readonly client: DaemonClient) {
    for (const m of ['chat/delta', 'chat/tool', 'chat/done', 'sessions/changed'] as const) {
      client.onNotification(m, (params) => {
        this.seen.push({ method: m, params: params as Record<string, unknown> });
        for (const w of this.waiters.splice(0)) w();
      });
    }
  }

  of<N extends NotificationMethod>(method: N, messageId?: string): NotificationParamsOf<N>[] {
    return this.seen
      .filter((n) => n.method === method && (!messageId || n.params.messageId === messageId))
      .map((n) => n.params as NotificationParamsOf<N>);
  }

  /** Waits until a notification satisfies `pred`. */
  async waitFor<N extends NotificationMethod>(method: N, pred: (p: NotificationParamsOf<N>) => boolean = () => true, timeoutMs = 20_000): Promise<NotificationParamsOf<N>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.of(method).find(pred);
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${method}; saw ${this.seen.map((s) => s.method).join(', ')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  done(replyId: string, timeoutMs?: number) {
    return this.waitFor('chat/done', (p) => p.messageId === replyId, timeoutMs);
  }

  /** The reply text as the client assembled it from deltas, in `index` order. */
  text(replyId: string): string {
    return this.of('chat/delta', replyId)
      .sort((a, b) => a.index - b.index)
      .map((d) => d.delta)
      .join('');
  }
}

export async function writeTree(root: string, files: Record<string, string>): Promise<void> {
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, rel)), { recursive: true });
    await writeFile(join(root, rel), text);
  }
}

export async function startHarness(
  opts: {
    /** null: no model configured (the offline default). */
    model?: FakeOpenAIOptions | null;
    chat?: Partial<ChatOptions>;
    files?: Record<string, string>;
    kbSearch?: KbSearch;
    extraSubsystems?: Subsystem[];
  } = {},
): Promise<Harness> {
  const home = await mkdtemp(join(tmpdir(), 'cairn-chat-'));
  const workspace = join(home, 'workspace');
  await mkdir(workspace, { recursive: true });
  await writeTree(workspace, opts.files ?? { 'README.md': '# Demo\n\nA tiny project.\n' });
  const model = opts.model === null ? null : await startOpenAIServer({ apiKey: 'sk-test-key', ...opts.model });
  const template = await migratedTemplate();
  let store!: Store;
  const env: NodeJS.ProcessEnv = { CAIRN_HOME: home, CAIRN_PORT: '0' };
  if (model) Object.assign(env, { CAIRN_MODEL_BASE_URL: model.baseURL, CAIRN_MODEL: 'gpt-test', OPENAI_API_KEY: 'sk-test-key' });
  const started = await startDaemon({
    home,
    env,
    openStore: async (h) => (store = await EmbeddedStore.open(h, { template })),
    subsystems: [...(opts.extraSubsystems ?? []), createChatSubsystem({ titleWithModel: false, ...opts.chat }, opts.kbSearch)],
  });
  if (started.kind !== 'started') throw new Error('a daemon is already running for this home');
  const daemon = started.daemon;
  const clients: DaemonClient[] = [];
  return {
    home,
    workspace,
    model,
    daemon,
    store,
    async connect() {
      const c = await DaemonClient.connect(daemon.info);
      clients.push(c);
      return new RecordingClient(c);
    },
    async close() {
      for (const c of clients) await c.close().catch(() => undefined);
      await daemon.shutdown('test finished');
      await model?.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}

export interface SeedPassage {
  path: string;
  startLine: number;
  endLine: number;
  content: string;
}

/**
 * Writes passages into the workspace's knowledge base through the SQL API (`kb_upsert_sources`), embedded with
 * the offline local-hash model, exactly as the indexer stores them: the chat's search then runs the real
 * `searchKnowledgeBase` over real rows.
 */
export async function seedKnowledgeBase(store: Store, root: string, passages: SeedPassage[]): Promise<void> {
  const { resolveProject } = await import('../../daemon/src/workspace/project.js');
  const { LOCAL_HASH_ID, localHashEmbed, vectorText } = await import('../../daemon/src/kb/embed.js');
  const { createHash } = await import('node:crypto');
  const project = await resolveProject(store, root);
  const byPath = new Map<string, SeedPassage[]>();
  for (const p of passages) byPath.set(p.path, [...(byPath.get(p.path) ?? []), p]);
  const hash = (s: string) => createHash('sha256').update(s).digest('hex');
  for (const [path, list] of byPath) {
    const chunks = list.map((p, i) => {
      const v = localHashEmbed(p.content);
      return { ordinal: i, start_line: p.startLine, end_line: p.endLine, content: p.content, content_hash: hash(p.content), token_count: 10, embedding: vectorText(v) };
    });
    await store.rpc('kb_upsert_sources', {
      p_project_id: project.id,
      p_sources: [
        {
          source: { kind: 'file', uri: path, title: path.split('/').pop(), language: 'markdown', content_hash: hash(path), size_bytes: 100, mtime_ms: 0, embedding_model: LOCAL_HASH_ID, embedding_dims: chunks.length ? localHashEmbed('x').length : 384 },
          chunks,
        },
      ],
    });
  }
}
