/**
 * Shared set-up for the knowledge-base tests: a real embedded store per test (from the migrated template),
 * a temp workspace, and thin counters around the real embedder and store so tests can assert how much work
 * an index run did.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { EmbeddedStore } from '../../daemon/src/store/embedded.js';
import { configFromEnv, type RuntimeConfig } from '../../daemon/src/config.js';
import type { Store } from '../../daemon/src/store/types.js';
import { LocalHashEmbedder, type Embedder } from '../../daemon/src/kb/embed.js';
import type { IndexDeps } from '../../daemon/src/kb/indexer.js';
import { migratedTemplate } from '../support/db.js';
import { DaemonClient } from '../../daemon/src/protocol/client/client.js';
import { startDaemon, type RunningDaemon } from '../../daemon/src/host/daemon.js';
import { registerKb } from '../../daemon/src/kb/handlers.js';

export interface KbDaemon {
  daemon: RunningDaemon;
  client: DaemonClient;
  stop(): Promise<void>;
}

/** A daemon with the kb subsystem in this process (embedded store from the migrated template) and a client of it. */
export async function startKbDaemon(home: string, env: NodeJS.ProcessEnv = {}): Promise<KbDaemon> {
  const template = await migratedTemplate();
  const started = await startDaemon({
    home,
    env: { CAIRN_HOME: home, CAIRN_PORT: '0', ...env },
    openStore: (h) => EmbeddedStore.open(h, { template }),
    subsystems: [registerKb],
  });
  if (started.kind !== 'started') throw new Error('daemon already running');
  const { daemon } = started;
  const client = await DaemonClient.connect(daemon.info);
  return {
    daemon,
    client,
    async stop() {
      await client.close().catch(() => undefined);
      await daemon.shutdown('test finished');
    },
  };
}

export interface KbEnv {
  home: string;
  ws: string;
  store: EmbeddedStore;
  config: RuntimeConfig;
  deps(embedder?: Embedder, store?: Store): IndexDeps;
  write(rel: string, content: string | Buffer): Promise<string>;
  cleanup(): Promise<void>;
}

export async function kbEnv(): Promise<KbEnv> {
  const home = await mkdtemp(join(tmpdir(), 'cairn-kb-home-'));
  const ws = await mkdtemp(join(tmpdir(), 'cairn-kb-ws-'));
  const store = await EmbeddedStore.open(home, { template: await migratedTemplate() });
  const config = configFromEnv({});
  return {
    home,
    ws,
    store,
    config,
    deps: (embedder, s) => ({ store: s ?? store, config, home, ...(embedder ? { embedder } : {}) }),
    async write(rel, content) {
      const p = join(ws, rel);
      await mkdir(dirname(p), { recursive: true });
      await writeFile(p, content);
      return p;
    },
    async cleanup() {
      await store.close();
      await rm(home, { recursive: true, force: true });
      await rm(ws, { recursive: true, force: true });
    },
  };
}

/** The real offline embedder, counting the texts it is asked to embed. */
export class CountingEmbedder implements Embedder {
  readonly inner = new LocalHashEmbedder();
  readonly id = this.inner.id;
  readonly dims = this.inner.dims;
  texts = 0;
  calls = 0;
  async embed(texts: string[], signal?: AbortSignal) {
    this.calls++;
    this.texts += texts.length;
    return this.inner.embed(texts, signal);
  }
}

/** The real store, recording which SQL API functions were called. */
export function countingStore(store: Store): Store & { calls: string[]; reset(): void } {
  const calls: string[] = [];
  return Object.assign(Object.create(store) as Store, {
    calls,
    reset() {
      calls.length = 0;
    },
    rpc: ((fn, ...rest) => {
      calls.push(fn);
      return store.rpc(fn, ...rest);
    }) satisfies Store['rpc'],
  });
}

/** A small workspace with known content. */
export const FIXTURE: Record<string, string> = {
  'src/auth/session.ts': [
    "import { createHash } from 'node:crypto';",
    '',
    '/** Refreshes an expired session token against the identity provider. */',
    'export async function refreshSessionToken(refreshToken: string): Promise<string> {',
    "  const digest = createHash('sha256').update(refreshToken).digest('hex');",
    '  return `session-${digest}`;',
    '}',
    '',
  ].join('\n'),
  'src/billing/invoice.ts': [
    'export interface InvoiceLine { sku: string; quantity: number; unitPriceCents: number }',
    '',
    'export function invoiceTotalCents(lines: InvoiceLine[]): number {',
    '  return lines.reduce((sum, l) => sum + l.quantity * l.unitPriceCents, 0);',
    '}',
    '',
  ].join('\n'),
  'scripts/deploy.py': [
    'import subprocess',
    '',
    'def deploy_to_kubernetes(cluster_name):',
    '    """Rolls the deployment out to the given kubernetes cluster."""',
    "    subprocess.run(['kubectl', '--context', cluster_name, 'rollout', 'restart', 'deploy/api'], check=True)",
    '',
  ].join('\n'),
  'docs/oncall.md': [
    '# On-call handbook',
    '',
    'Who to page and when.',
    '',
    '## Rotating the database password',
    '',
    'Run the rotation job and update the vault entry for the staging database password.',
    '',
  ].join('\n'),
};

export async function writeFixture(env: KbEnv, files: Record<string, string> = FIXTURE): Promise<void> {
  for (const [rel, content] of Object.entries(files)) await env.write(rel, content);
}
