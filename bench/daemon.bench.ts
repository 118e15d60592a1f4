/**
 * Daemon start-up and footprint: cold start to ready (spawn until the discovery file is written and a first
 * request is answered) on a fresh home (initdb and every migration) and on an existing one, idle RSS, and the
 * round-trip latency of a trivial request over WebSocket. Uses the built `dist/daemon.mjs` when present (as
 * `npm run bench` builds first), else the sources under tsx.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DaemonClient } from '../daemon/src/protocol/client/client.js';
import { readDiscovery, type DiscoveryInfo } from '../daemon/src/protocol/client/discovery.js';

const repo = join(import.meta.dirname, '..');
const built = join(repo, 'dist', 'daemon.mjs');

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)] ?? 0;

async function start(home: string): Promise<{ proc: ChildProcess; info: DiscoveryInfo; ms: number }> {
  const args = existsSync(built) ? [built] : ['--import', 'tsx', join(repo, 'daemon', 'src', 'main.ts')];
  const t0 = performance.now();
  const env: NodeJS.ProcessEnv = { ...process.env, CAIRN_HOME: home };
  delete env.CAIRN_DATABASE_URL;
  const proc = spawn(process.execPath, args, { cwd: repo, env, stdio: 'ignore' });
  for (;;) {
    const info = await readDiscovery(home);
    if (info && info.pid === proc.pid) {
      const client = await DaemonClient.connect(info);
      await client.request('daemon/ping', {});
      const ms = performance.now() - t0;
      await client.close();
      return { proc, info, ms };
    }
    if (proc.exitCode !== null) throw new Error(`daemon exited with ${proc.exitCode}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function stop(proc: ChildProcess, info: DiscoveryInfo): Promise<void> {
  const client = await DaemonClient.connect(info);
  await client.request('shutdown', {});
  await client.close();
  if (proc.exitCode === null) await new Promise((r) => proc.once('exit', r));
}

export async function run(): Promise<Record<string, number | string>> {
  const home = await mkdtemp(join(tmpdir(), 'cairn-bench-daemon-'));
  try {
    const fresh = await start(home);
    await stop(fresh.proc, fresh.info);
    const existing: number[] = [];
    let idleRss = 0;
    let afterRequestsRss = 0;
    const latencies: number[] = [];
    for (let i = 0; i < 3; i++) {
      const d = await start(home);
      existing.push(d.ms);
      if (i === 2) {
        await new Promise((r) => setTimeout(r, 2_000));
        idleRss = rssMb(d.proc.pid!);
        const client = await DaemonClient.connect(d.info);
        await client.request('initialize', { clientName: 'bench' });
        for (let j = 0; j < 300; j++) {
          const t = performance.now();
          await client.request('daemon/ping', {});
          latencies.push(performance.now() - t);
        }
        await client.close();
        afterRequestsRss = rssMb(d.proc.pid!);
      }
      await stop(d.proc, d.info);
    }
    return {
      runtime: existsSync(built) ? 'dist/daemon.mjs' : 'tsx sources',
      coldStartFreshHomeMs: Math.round(fresh.ms),
      coldStartExistingHomeMs: Math.round(median(existing)),
      idleRssMb: idleRss,
      rssAfter300RequestsMb: afterRequestsRss,
      pingP50Ms: Number(pct(latencies, 50).toFixed(2)),
      pingP95Ms: Number(pct(latencies, 95).toFixed(2)),
    };
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}
