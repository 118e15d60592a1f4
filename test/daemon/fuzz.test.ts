/**
 * Bounded fuzzing at the protocol boundary: random and malformed frames (garbage bytes, truncated JSON,
 * random JSON, random params for real methods, batches, deep nesting, stray cancels) over both transports.
 * The daemon must never exit, its memory must stay bounded, and every well-formed request mixed in must be
 * answered.
 */
import assert from 'node:assert/strict';
import { requests } from '../../daemon/src/protocol/index.js';
import { connectStdio, connectWs, migratedHome, readLog, removeHome, rssBytes, startDaemon, stopDaemon, type DaemonProcess, type Json, type RawConnection } from '../support/daemon.js';

/** mulberry32: a small seeded PRNG so a failure can be replayed with the printed seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Methods left out: they stop the daemon, write files, crawl folders or call the network. */
const EXCLUDED = new Set(['shutdown', 'daemon/backup', 'kb/index', 'kb/watch', 'kb/status', 'kb/addUrl', 'kb/addDocument', 'chat/send']);
const methods = Object.keys(requests).filter((m) => !EXCLUDED.has(m));

function frameGenerator(random: () => number) {
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const str = () => pick(['', 'a', 'sessions', '../../etc/passwd', '\u0000', '💥', 'x'.repeat(int(5000)), String(random()), '"quoted"', '\\']);
  const value = (depth: number): Json => {
    switch (depth > 3 ? int(4) : int(7)) {
      case 0:
        return null;
      case 1:
        return pick([0, -1, 1e308, -0.5, Number.MAX_SAFE_INTEGER, 42]);
      case 2:
        return str();
      case 3:
        return random() < 0.5;
      case 4:
        return Array.from({ length: int(5) }, () => value(depth + 1));
      default: {
        const o: Record<string, Json> = {};
        for (let i = 0; i < int(5); i++) o[pick(['id', 'root', 'topics', 'query', 'sessionId', 'limit', 'progressToken', 'settings', str()])] = value(depth + 1);
        return o;
      }
    }
  };
  const request = (): Json => {
    const r: Record<string, Json> = { jsonrpc: random() < 0.9 ? '2.0' : pick(['1.0', 2, null]), method: random() < 0.8 ? pick(methods) : str() };
    if (random() < 0.8) r.id = pick([int(1e6), `f-${int(1e6)}`, null, {}, [], 1.5]);
    if (random() < 0.9) r.params = random() < 0.8 ? value(0) : pick([[], 'x', 7]);
    return r;
  };
  return (): string | Buffer => {
    switch (int(9)) {
      case 0:
        return Buffer.from(Array.from({ length: 1 + int(300) }, () => int(256)));
      case 1: {
        const s = JSON.stringify(request());
        return s.slice(0, int(s.length));
      }
      case 2:
        return JSON.stringify(value(0));
      case 3:
        return JSON.stringify(Array.from({ length: int(20) }, () => (random() < 0.8 ? request() : value(1))));
      case 4:
        return `${'['.repeat(5000 + int(50_000))}${']'.repeat(int(10))}`;
      case 5:
        return JSON.stringify({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id: pick([int(100), 'x', null, {}]) } });
      case 6:
        return pick(['', ' ', 'null', 'true', '"str"', '{}', '{"jsonrpc":"2.0"}', '\ufeff{}']);
      default:
        return JSON.stringify(request());
    }
  };
}

async function fuzz(conn: RawConnection, send: (f: string | Buffer) => void, budget: { frames: number; ms: number }, seed: number) {
  const next = frameGenerator(prng(seed));
  const started = Date.now();
  let frames = 0;
  let probes = 0;
  while (frames < budget.frames && Date.now() - started < budget.ms) {
    for (let i = 0; i < 50; i++, frames++) send(next());
    // A well-formed request after every burst: it must be answered with its own result.
    const r = await conn.call('daemon/ping', {}, `probe-${probes++}`);
    assert.equal(r.result?.pong, true, `probe ${probes} after ${frames} frames (seed ${seed}): ${JSON.stringify(r)}`);
  }
  return { frames, probes };
}

for (const transport of ['websocket', 'stdio'] as const) {
  describe(`fuzzing the daemon over ${transport}`, function () {
    this.timeout(180_000);
    let home: string;
    let daemon: DaemonProcess;

    before(async () => {
      home = await migratedHome();
      daemon = await startDaemon(home, { stdio: transport === 'stdio' });
    });

    after(async () => {
      await stopDaemon(daemon);
      await removeHome(home);
    });

    it('survives random and malformed frames with bounded memory and answers every well-formed request', async () => {
      const seed = Number(process.env.CAIRN_FUZZ_SEED ?? Date.now() % 1_000_000);
      let conn: RawConnection;
      let send: (f: string | Buffer) => void;
      if (transport === 'stdio') {
        conn = connectStdio(daemon);
        // Newlines inside garbage split it into several lines: more frames, same rules.
        send = (f) => daemon.proc.stdin!.write(Buffer.concat([Buffer.isBuffer(f) ? f : Buffer.from(f), Buffer.from('\n')]));
      } else {
        const ws = await connectWs(daemon.info);
        conn = ws;
        send = (f) => ws.send(typeof f === 'string' ? f : f.toString('latin1'));
      }
      // Warm up so the baseline includes what any first requests allocate.
      await fuzz(conn, send, { frames: 200, ms: 5_000 }, seed + 1);
      const rssBefore = rssBytes(daemon.pid);
      const { frames, probes } = await fuzz(conn, send, { frames: 5_000, ms: 10_000 }, seed);
      const rssAfter = rssBytes(daemon.pid);
      const growthMb = (rssAfter - rssBefore) / 1024 / 1024;
      console.log(`      ${transport}: seed ${seed}, ${frames} frames, ${probes} probes answered, RSS ${(rssBefore / 1048576).toFixed(0)} → ${(rssAfter / 1048576).toFixed(0)} MiB`);
      assert.ok(frames >= 500, `only ${frames} frames sent`);
      assert.ok(growthMb < 150, `RSS grew by ${growthMb.toFixed(0)} MiB`);
      assert.equal(daemon.proc.exitCode, null, 'the daemon exited');

      // Still healthy for a new client, and its metrics did not collect the random method names.
      const fresh = transport === 'stdio' ? conn : await connectWs(daemon.info);
      const metrics = await fresh.call('daemon/metrics', {});
      assert.ok(Object.keys(metrics.result.requests).every((m) => m in requests), Object.keys(metrics.result.requests).join(', '));
      assert.ok(metrics.result.requests['daemon/ping'].count >= probes);
      if (fresh !== conn) await fresh.close();
      if (transport === 'websocket') await conn.close();

      // Random input is a client's fault: it must be refused by validation, not reach a handler and break it.
      const faults = (await readLog(home)).split('\n').filter((l) => l.includes('"msg":"handler fault"') || l.includes('"msg":"store fault"'));
      assert.deepEqual(faults.slice(0, 3), [], `${faults.length} internal errors`);
    });
  });
}
