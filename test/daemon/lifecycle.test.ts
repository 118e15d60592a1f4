/**
 * Lifecycle of the daemon process: one per home, clean shutdown (request and SIGTERM), stale discovery files
 * replaced, the shared `ensureDaemon` routine, and a kill -9 during writes that loses nothing acknowledged.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonClient } from '../../daemon/src/protocol/client/client.js';
import { ensureDaemon } from '../../daemon/src/protocol/client/ensure.js';
import { findRunningDaemon, isProcessAlive, readDiscovery } from '../../daemon/src/protocol/client/discovery.js';
import { processStartTime } from '../../daemon/src/lock/pid-lock.js';
import {
  alive,
  connectWs,
  daemonEntry,
  migratedHome,
  removeHome,
  repoRoot,
  startDaemon,
  stopDaemon,
  testEnv,
  type Json,
} from '../support/daemon.js';

/** A pid that certainly belongs to no process: one that just exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

/** The state letter of a process from /proc (Z: zombie), or null. */
function stateOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2);
  } catch {
    return null;
  }
}

/**
 * A real zombie: a shell starts a short-lived child, then replaces itself (exec) with a program that never
 * waits, so the child, once exited, stays unreaped (state Z) until the parent is killed. That is a daemon
 * killed after its editor window was reloaded, its new parent not reaping it (yet).
 */
async function zombie(): Promise<{ pid: number; parent: ChildProcess }> {
  const parent = spawn('sh', ['-c', 'sleep 0.1 & echo $!; exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const pid = await new Promise<number>((resolve, reject) => {
    parent.stdout!.once('data', (d: Buffer) => resolve(Number.parseInt(d.toString(), 10)));
    parent.once('error', reject);
  });
  const deadline = Date.now() + 10_000;
  while (stateOf(pid) !== 'Z') {
    if (Date.now() > deadline) throw new Error(`pid ${pid} did not become a zombie (state ${stateOf(pid)})`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { pid, parent };
}

async function waitGone(pid: number, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > deadline) throw new Error(`pid ${pid} still alive`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('daemon lifecycle', function () {
  this.timeout(180_000);
  const homes: string[] = [];
  const home = async () => {
    const h = await migratedHome();
    homes.push(h);
    return h;
  };

  after(async () => {
    for (const h of homes) {
      const info = await readDiscovery(h);
      // Only daemons: one test writes a file naming this very process.
      if (info && info.pid !== process.pid && alive(info.pid)) process.kill(info.pid, 'SIGKILL');
      await removeHome(h);
    }
  });

  it('runs one daemon per home: a second start reports the running one and exits 0', async () => {
    const h = await home();
    const first = await startDaemon(h);
    const second = spawnSync(process.execPath, ['--import', 'tsx', daemonEntry], { cwd: repoRoot, env: testEnv(h), encoding: 'utf8', timeout: 60_000 });
    assert.equal(second.status, 0);
    assert.match(second.stderr, new RegExp(`already running for .*: pid ${first.pid}, port ${first.info.port}`));
    assert.equal((await readDiscovery(h))?.pid, first.pid);
    const conn = await connectWs(first.info);
    assert.equal((await conn.call('daemon/ping')).result.pid, first.pid);
    await conn.close();
    await stopDaemon(first);
  });

  it('daemon --stdio relays to the daemon already running for the home', async () => {
    const h = await home();
    const running = await startDaemon(h);
    const bridge = spawnSync(process.execPath, ['--import', 'tsx', daemonEntry, '--stdio'], {
      cwd: repoRoot,
      env: testEnv(h),
      encoding: 'utf8',
      timeout: 60_000,
      input: `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'daemon/status', params: {} })}\n{oops\n`,
    });
    assert.equal(bridge.status, 0, bridge.stderr);
    const lines = bridge.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 2);
    assert.equal(lines.find((m) => m.id === 1)?.result.pid, running.pid);
    assert.equal(lines.find((m) => m.id === null)?.error.code, -32700);
    assert.ok(alive(running.pid), 'the running daemon keeps running');
    await stopDaemon(running);
  });

  it('shuts down on request: answers, closes connections with 1001, exits 0, removes daemon.json and the lock', async () => {
    const h = await home();
    const d = await startDaemon(h);
    const other = await connectWs(d.info);
    const conn = await connectWs(d.info);
    assert.deepEqual((await conn.call('shutdown')).result, { ok: true });
    assert.equal((await other.closed).code, 1001);
    assert.deepEqual(await d.exited, { code: 0, signal: null });
    assert.equal(existsSync(join(h, 'daemon.json')), false);
    assert.equal(existsSync(join(h, 'daemon.lock')), false);
    assert.match(await readFile(join(h, 'logs', 'daemon.log'), 'utf8'), /"msg":"daemon stopped"/);
  });

  it('shuts down cleanly on SIGTERM, answering a running request as cancelled first', async () => {
    const h = await home();
    const d = await startDaemon(h);
    const conn = await connectWs(d.info);
    conn.send(JSON.stringify({ jsonrpc: '2.0', id: 'long', method: 'daemon/ping', params: { delayMs: 30_000 } }));
    await new Promise((r) => setTimeout(r, 200));
    d.kill('SIGTERM');
    // The running request is cancelled by shutdown and says so, rather than vanishing.
    const answer = await conn.next(10_000);
    assert.deepEqual(answer, { jsonrpc: '2.0', id: 'long', error: { code: -31905, message: 'Request cancelled' } });
    assert.equal((await conn.closed).code, 1001);
    assert.deepEqual(await d.exited, { code: 0, signal: null });
    assert.equal(existsSync(join(h, 'daemon.json')), false);
  });

  it('finishes a write in flight (a backup) before exiting on SIGTERM', async () => {
    const h = await home();
    const d = await startDaemon(h);
    const conn = await connectWs(d.info);
    const file = join(h, 'during-shutdown.tar.gz');
    conn.send(JSON.stringify({ jsonrpc: '2.0', id: 'bk', method: 'daemon/backup', params: { file } }));
    await new Promise((r) => setTimeout(r, 50));
    d.kill('SIGTERM');
    const answer = await conn.next(30_000);
    assert.equal(answer.id, 'bk');
    assert.equal(answer.result?.file, file, JSON.stringify(answer));
    assert.equal(statSync(file).size, answer.result.bytes);
    assert.deepEqual(await d.exited, { code: 0, signal: null });
  });

  it('replaces a stale discovery file and lock left by a crashed daemon', async () => {
    const h = await home();
    const pid = deadPid();
    await writeFile(join(h, 'daemon.json'), JSON.stringify({ port: 9, pid, token: 'old', version: '0.0.1', protocolVersion: 1, startedAt: '2020-01-01T00:00:00Z' }), { mode: 0o600 });
    await writeFile(join(h, 'daemon.lock'), `${pid}\n`, { mode: 0o600 });
    assert.equal(await findRunningDaemon(h), null, 'a dead pid makes the file stale');
    const d = await startDaemon(h);
    const info = await readDiscovery(h);
    assert.equal(info?.pid, d.pid);
    assert.notEqual(info?.token, 'old');
    await stopDaemon(d);
  });

  it('takes over a lock whose pid was reused by another process after a crash', async () => {
    const h = await home();
    // This test process is alive, but it is not the process that wrote the lock (different start time).
    await writeFile(join(h, 'daemon.lock'), `${process.pid} 1\n`, { mode: 0o600 });
    const d = await startDaemon(h);
    assert.equal((await readDiscovery(h))?.pid, d.pid);
    await stopDaemon(d);
  });

  it('takes a zombie for dead, though kill(pid, 0) still succeeds on it', async function () {
    if (stateOf(process.pid) === null) this.skip(); // no /proc
    const z = await zombie();
    try {
      assert.doesNotThrow(() => process.kill(z.pid, 0), 'the kernel still answers for the zombie');
      assert.equal(isProcessAlive(z.pid), false);
      assert.equal(isProcessAlive(z.parent.pid!), true, 'its living parent is alive');
      assert.equal(isProcessAlive(process.pid), true);
    } finally {
      z.parent.kill('SIGKILL');
    }
  });

  it('starts a new daemon at once when the lock and discovery file belong to a zombie daemon', async function () {
    if (stateOf(process.pid) === null) this.skip();
    const h = await home();
    const z = await zombie();
    try {
      // What a daemon killed after a window reload leaves: its files, naming a pid nobody reaped.
      await writeFile(join(h, 'daemon.json'), JSON.stringify({ port: 9, pid: z.pid, token: 'old', version: '0.0.1', protocolVersion: 1, startedAt: '2020-01-01T00:00:00Z' }), { mode: 0o600 });
      await writeFile(join(h, 'daemon.lock'), `${z.pid} ${processStartTime(z.pid) ?? ''}\n`, { mode: 0o600 });
      const spawnSpec = { execPath: process.execPath, args: ['--import', 'tsx', daemonEntry], env: testEnv(h), cwd: repoRoot };
      const t0 = Date.now();
      const started = await ensureDaemon(h, { spawn: spawnSpec, timeoutMs: 120_000 });
      const ms = Date.now() - t0;
      assert.equal(started.started, true);
      assert.notEqual(started.pid, z.pid);
      assert.equal((await readFile(join(h, 'daemon.lock'), 'utf8')).split(' ')[0], String(started.pid), 'the new daemon holds the lock');
      const log = await readFile(join(h, 'logs', 'daemon.log'), 'utf8').catch(() => '');
      assert.match(log, /starting a new daemon/);
      console.log(`      new daemon over a zombie's lock ready in ${ms} ms`);
      const client = await DaemonClient.connect(started);
      await client.request('initialize', { clientName: 'lifecycle-test' });
      await client.request('shutdown', {});
      await client.close();
      await waitGone(started.pid);
    } finally {
      z.parent.kill('SIGKILL');
    }
  });

  it('treats a discovery file whose port does not answer as stale', async () => {
    const h = await home();
    // A live pid (this test process) but nothing listening on the port.
    await writeFile(join(h, 'daemon.json'), JSON.stringify({ port: 9, pid: process.pid, token: 't', version: '0.0.1', protocolVersion: 1, startedAt: '2020-01-01T00:00:00Z' }));
    assert.equal(await findRunningDaemon(h), null);
  });

  it('ensureDaemon starts a detached daemon once and then finds it', async () => {
    const h = await home();
    const spawnSpec = { execPath: process.execPath, args: ['--import', 'tsx', daemonEntry], env: testEnv(h), cwd: repoRoot };
    const first = await ensureDaemon(h, { spawn: spawnSpec });
    assert.equal(first.started, true);
    const again = await ensureDaemon(h, { spawn: spawnSpec });
    assert.equal(again.started, false);
    assert.equal(again.pid, first.pid);
    const client = await DaemonClient.connect(first);
    const init = await client.request('initialize', { clientName: 'lifecycle-test' });
    assert.equal(init.store, 'embedded');
    await client.request('shutdown', {});
    await client.close();
    await waitGone(first.pid);
  });

  it('two clients starting the daemon at once end up on the same one', async () => {
    const h = await home();
    const spawnSpec = { execPath: process.execPath, args: ['--import', 'tsx', daemonEntry], env: testEnv(h), cwd: repoRoot };
    const [a, b] = await Promise.all([ensureDaemon(h, { spawn: spawnSpec }), ensureDaemon(h, { spawn: spawnSpec })]);
    assert.equal(a.pid, b.pid);
    assert.equal(a.token, b.token);
    const client = await DaemonClient.connect(b);
    assert.equal((await client.request('daemon/status', {})).pid, a.pid);
    await client.request('shutdown', {});
    await client.close();
    await waitGone(a.pid);
  });

  it('ensureDaemon reports a daemon that cannot start', async () => {
    const h = await home();
    const spawnSpec = { execPath: process.execPath, args: ['--import', 'tsx', daemonEntry], env: testEnv(h, { CAIRN_HOST: '0.0.0.0' }), cwd: repoRoot };
    await assert.rejects(ensureDaemon(h, { spawn: spawnSpec, timeoutMs: 60_000 }), /failed to start: .*binds loopback only/);
  });

  it('keeps every acknowledged write through a kill -9, and the restarted daemon replaces the stale files', async () => {
    const h = await home();
    const workspace = await mkdtemp(join(tmpdir(), 'cairn-kill-'));
    try {
      const d = await startDaemon(h);
      const conn = await connectWs(d.info);
      const acknowledged: string[] = [];
      let stop = false;
      // Eight writers keep writes in flight until the kill.
      const writers = Array.from({ length: 8 }, async (_, w) => {
        for (let i = 0; !stop; i++) {
          const r: Json = await conn.call('sessions/create', { root: workspace, title: `w${w}-${i}` }).catch(() => null);
          if (r?.result?.id) acknowledged.push(r.result.id);
          else break;
        }
      });
      await new Promise((r) => setTimeout(r, 3_000));
      d.kill('SIGKILL');
      stop = true;
      await d.exited;
      await Promise.race([Promise.all(writers), new Promise((r) => setTimeout(r, 5_000))]);
      assert.ok(acknowledged.length >= 5, `only ${acknowledged.length} writes acknowledged`);
      assert.equal((await readDiscovery(h))?.pid, d.pid, 'the crashed daemon left its discovery file');

      const restarted = await startDaemon(h);
      assert.notEqual(restarted.pid, d.pid);
      assert.equal((await readDiscovery(h))?.pid, restarted.pid);
      const c2 = await connectWs(restarted.info);
      const listed = new Set<string>();
      let before: string | undefined;
      for (;;) {
        const page = await c2.call('sessions/list', { root: workspace, limit: 200, ...(before ? { before } : {}) });
        assert.ok(page.result, JSON.stringify(page));
        for (const s of page.result.sessions) listed.add(s.id);
        if (!page.result.nextBefore) break;
        before = page.result.nextBefore;
      }
      const missing = acknowledged.filter((id) => !listed.has(id));
      assert.deepEqual(missing, [], `${missing.length} of ${acknowledged.length} acknowledged sessions lost`);
      await c2.close();
      await stopDaemon(restarted);
    } finally {
      await rm(workspace, { recursive: true, force: true });
    }
  });
});
