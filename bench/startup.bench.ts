/**
 * Start-up and idle footprint of the daemon, each beside bare PGlite opening the same data dir in the same
 * run (so the daemon's own share is visible): spawn → `initialize` answered (the extension's path: wait for
 * the discovery file, connect, `initialize`) on a fresh home and on an existing one, and resident memory
 * once idle, with where it goes (WASM heap, JS heap, native) as the daemon reports it in `daemon/metrics` and
 * as the kernel counts it (support/smaps.ts).
 * Bare PGlite: `bench/support/bare-pglite.mjs`, spawn → `select 1` answered, with pgvector loaded.
 * Uses the built `dist/daemon.mjs` (`npm run bench` builds first), else the sources under tsx.
 * `CAIRN_BENCH_STARTS` sets how many existing-home starts are taken (median; default 3).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { DaemonClient } from '../daemon/src/protocol/client/client.js';
import { readDiscovery, type DiscoveryInfo } from '../daemon/src/protocol/client/discovery.js';
import { DAEMON_SPAWN_ENV } from '../daemon/src/protocol/client/ensure.js';
import { PARSERS_IDLE_MS } from '../daemon/src/kb/chunk-syntax.js';
import { QUIET_MS } from '../daemon/src/rpc/idle-gc.js';
import { rssByKind } from './support/smaps.js';

const repo = join(import.meta.dirname, '..');
const built = join(repo, 'dist', 'daemon.mjs');
const bare = join(import.meta.dirname, 'support', 'bare-pglite.mjs');

export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

/** The steps of the daemon's last store open, as its log tells them ('store open' line: opened.steps, in ms). */
function lastOpenSteps(home: string): Record<string, number> | null {
  try {
    const lines = readFileSync(join(home, 'logs', 'daemon.log'), 'utf8').trim().split('\n');
    for (const line of lines.reverse()) {
      const entry = JSON.parse(line) as { msg?: string; ms?: number; opened?: { steps?: Record<string, number> } };
      if (entry.msg === 'store open') return { ...(entry.opened?.steps ?? {}), sinceDaemonStart: entry.ms ?? 0 };
    }
  } catch {
    // no log: no steps
  }
  return null;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: unknown) => (typeof bytes === 'number' ? Math.round(bytes / 1048576) : null);

export interface Started {
  proc: ChildProcess;
  info: DiscoveryInfo;
  client: DaemonClient;
  ms: number;
}

/** Spawns the daemon on `home` and returns once `initialize` is answered, with the time since spawn. */
export async function startDaemon(home: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<Started> {
  const args = existsSync(built) ? [built] : ['--import', 'tsx', join(repo, 'daemon', 'src', 'main.ts')];
  // As a client starts it (ensureDaemon), so the figures are the ones users get.
  const env: NodeJS.ProcessEnv = { ...DAEMON_SPAWN_ENV, ...process.env, CAIRN_HOME: home, ...extraEnv };
  delete env.CAIRN_DATABASE_URL;
  const t0 = performance.now();
  const proc = spawn(process.execPath, args, { cwd: repo, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + String(d)).slice(-2000)));
  for (;;) {
    const info = await readDiscovery(home).catch(() => null);
    if (info && info.pid === proc.pid) {
      const client = await DaemonClient.connect(info);
      await client.request('initialize', { clientName: 'bench' });
      return { proc, info, client, ms: performance.now() - t0 };
    }
    if (proc.exitCode !== null) throw new Error(`daemon exited with ${proc.exitCode}: ${stderr.trim()}`);
    await sleep(5);
  }
}

export async function stopDaemon(d: Started): Promise<void> {
  await d.client.request('shutdown', {}).catch(() => undefined);
  await d.client.close();
  if (d.proc.exitCode === null) await new Promise((r) => d.proc.once('exit', r));
}

/** Bare PGlite on `dataDir` (optionally from an image): spawn → `select 1` answered, and its idle RSS. */
export async function barePglite(dataDir: string, image?: string, idleMs = 2_000): Promise<{ ms: number; rssMb: number }> {
  const t0 = performance.now();
  const proc = spawn(process.execPath, [bare, dataDir, ...(image ? [image] : [])], { cwd: repo, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout! });
  await new Promise<void>((resolve, reject) => {
    lines.once('line', () => resolve());
    proc.once('exit', (code) => reject(new Error(`bare PGlite exited with ${code}`)));
  });
  const ms = performance.now() - t0;
  await sleep(idleMs);
  const rss = rssMb(proc.pid!);
  proc.stdin!.end();
  if (proc.exitCode === null) await new Promise((r) => proc.once('exit', r));
  return { ms, rssMb: rss };
}

/** Where the daemon's memory goes, from `daemon/metrics` (figures it does not report are null). */
export async function memoryOf(d: Started): Promise<Record<string, number | null>> {
  const m = (await d.client.request('daemon/metrics', { format: 'json' })) as Record<string, unknown>;
  const mem = (m.memory ?? {}) as Record<string, unknown>;
  return {
    rssMb: rssMb(d.proc.pid!),
    jsHeapUsedMb: mb(m.heapUsedBytes),
    jsHeapTotalMb: mb(mem.heapTotalBytes),
    wasmHeapMb: mb(mem.wasmHeapBytes),
    externalMb: mb(mem.externalBytes),
    arrayBuffersMb: mb(mem.arrayBuffersBytes),
    // The same memory as the kernel counts it (resident pages only).
    ...rssByKind(d.proc.pid!, typeof mem.wasmHeapBytes === 'number' ? mem.wasmHeapBytes : null),
  };
}

export async function run(): Promise<Record<string, unknown>> {
  const root = await mkdtemp(join(tmpdir(), 'cairn-bench-startup-'));
  const starts = Math.max(1, Number(process.env.CAIRN_BENCH_STARTS ?? 3));
  const image = join(repo, 'dist', 'pgdata.tar.gz');
  try {
    const home = join(root, 'home');
    // Fresh: the daemon on a new home; bare PGlite running initdb in a new dir (and loading the prepared image).
    const fresh = await startDaemon(home);
    await stopDaemon(fresh);
    const freshSteps = lastOpenSteps(home);
    const bareFresh = await barePglite(join(root, 'bare-fresh'), undefined, 0);
    const bareImage = existsSync(image) ? await barePglite(join(root, 'bare-image'), image, 0) : null;

    // Existing home: daemon and bare PGlite alternate on the same data dir.
    const daemonMs: number[] = [];
    const bareMs: number[] = [];
    const stepsOf: Record<string, number>[] = [];
    let bareRss = 0;
    for (let i = 0; i < starts; i++) {
      const d = await startDaemon(home);
      daemonMs.push(d.ms);
      await stopDaemon(d);
      stepsOf.push(lastOpenSteps(home) ?? {});
      const b = await barePglite(join(home, 'db'), undefined, i === starts - 1 ? 3_000 : 0);
      bareMs.push(b.ms);
      bareRss = b.rssMb;
    }

    // Idle memory: 3 s after `initialize`, as an editor leaves it; then with PGlite's own memory settings.
    const d = await startDaemon(home);
    await sleep(3_000);
    const idle = await memoryOf(d);
    await stopDaemon(d);
    const dd = await startDaemon(home, { CAIRN_PG_MEMORY: 'default' });
    await sleep(3_000);
    const idlePgDefaults = await memoryOf(dd);
    await stopDaemon(dd);

    // After indexing this repository and answering 100 searches, 2 s later and once the daemon has let go of
    // what the work loaded (CAIRN_BENCH_INDEX=0 skips it).
    let afterIndex: Record<string, unknown> | null = null;
    let afterIndexIdle: Record<string, unknown> | null = null;
    if (process.env.CAIRN_BENCH_INDEX !== '0') {
      const w = await startDaemon(home);
      const t = performance.now();
      const indexed = (await w.client.request('kb/index', { root: repo, watch: false })) as Record<string, unknown>;
      const indexMs = performance.now() - t;
      const words = ['daemon', 'store', 'migration', 'PGlite', 'initialize', 'watcher', 'search ranking', 'chat reply', 'token budget', 'lock file'];
      for (let i = 0; i < 100; i++) await w.client.request('kb/search', { root: repo, query: words[i % words.length]!, limit: 10 });
      const searchMs = performance.now() - t - indexMs;
      await sleep(2_000);
      afterIndex = { files: indexed.files ?? indexed.indexed ?? null, indexMs: Math.round(indexMs), searchesMs: Math.round(searchMs), ...(await memoryOf(w)) };
      // Once tree-sitter has been let go (PARSERS_IDLE_MS after the index run) and the idle GC has run.
      await sleep(Math.max(1_500, PARSERS_IDLE_MS + QUIET_MS + 1_000 - searchMs - 2_000));
      afterIndexIdle = await memoryOf(w);
      await stopDaemon(w);
    }

    const existing = median(daemonMs);
    const bareExisting = median(bareMs);
    return {
      runtime: existsSync(built) ? 'dist/daemon.mjs' : 'tsx sources',
      initializeFreshHomeMs: Math.round(fresh.ms),
      barePgliteInitdbMs: Math.round(bareFresh.ms),
      ...(bareImage ? { barePgliteLoadImageMs: Math.round(bareImage.ms), freshHomeRatioToImageLoad: Number((fresh.ms / bareImage.ms).toFixed(2)) } : {}),
      ...(freshSteps ? { freshHomeOpenStepsMs: freshSteps } : {}),
      initializeExistingHomeMs: Math.round(existing),
      barePgliteOpenExistingMs: Math.round(bareExisting),
      existingHomeRatioToBare: Number((existing / bareExisting).toFixed(2)),
      // The store open's steps in the start that gave the median (engine: PGlite itself; the rest: the daemon's).
      existingHomeOpenStepsMs: stepsOf[daemonMs.indexOf(existing)] ?? null,
      idle,
      idleWithPgliteDefaultMemorySettings: idlePgDefaults,
      ...(afterIndex ? { afterIndexAnd100Searches: afterIndex } : {}),
      ...(afterIndexIdle ? { afterIndexOnceIdle: afterIndexIdle } : {}),
      barePgliteIdleRssMb: bareRss,
      idleRssRatioToBare: Number(((idle.rssMb ?? 0) / bareRss).toFixed(2)),
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
