/**
 * What one connection cannot do to the daemon or to the other clients: huge batches, answers over the
 * response limit, a reused request id past the in-flight limit, requests orphaned by a closed connection,
 * TCP connections that never authenticate. Each is refused or bounded, and the daemon keeps serving.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { PROTOCOL_LIMITS } from '../../daemon/src/protocol/limits.js';
import type { Logger } from '../../daemon/src/log/logger.js';
import { RpcServer } from '../../daemon/src/rpc/server.js';
import { listenWebSocket, type WsListener } from '../../daemon/src/rpc/ws.js';
import type { Store } from '../../daemon/src/store/types.js';
import { connectWs, migratedHome, readLog, removeHome, startDaemon, stopDaemon, type DaemonProcess, type Json, type RawConnection } from '../support/daemon.js';

const TOO_LARGE = -31906;
const BUSY = -31907;
const CANCELLED = -31905;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Opens a TCP connection that never sends a byte; `closed` resolves when the daemon drops it. */
function idleSocket(port: number, host = '127.0.0.1'): Promise<{ socket: Socket; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

describe('daemon limits per connection', function () {
  this.timeout(180_000);
  let home: string;
  let daemon: DaemonProcess;
  let conn: RawConnection;

  before(async () => {
    home = await migratedHome();
    daemon = await startDaemon(home);
    conn = await connectWs(daemon.info);
  });

  after(async () => {
    await conn?.close();
    if (daemon) await stopDaemon(daemon);
    await removeHome(home);
  });

  it('refuses a batch of four million elements at once, unparsed, in one short answer', async () => {
    const frame = `[${new Array(4_000_000).fill('0').join(',')}]`;
    assert.ok(frame.length < PROTOCOL_LIMITS.maxFrameBytes);
    const started = Date.now();
    conn.send(frame);
    const answer = await conn.next(10_000);
    assert.ok(!Array.isArray(answer), 'one error, not one answer per element');
    assert.equal(answer.error.code, TOO_LARGE);
    assert.equal(answer.error.data.limit, 'maxBatchElements');
    assert.ok(Date.now() - started < 5_000);
    assert.equal((await conn.call('daemon/ping')).result.pong, true);
  });

  it('refuses a batch one element over the limit, and answers one at the limit in full', async () => {
    const batch = (n: number) => JSON.stringify(Array.from({ length: n }, (_, i) => ({ jsonrpc: '2.0', id: `b${i}`, method: 'daemon/ping', params: {} })));
    conn.send(batch(PROTOCOL_LIMITS.maxBatchElements + 1));
    const refused = await conn.next(10_000);
    assert.equal(refused.error.code, TOO_LARGE);
    conn.send(batch(PROTOCOL_LIMITS.maxBatchElements));
    const answers = await conn.next(30_000);
    assert.equal(answers.length, PROTOCOL_LIMITS.maxBatchElements);
    // Past 64 running at once a batch element is answered Busy like any request; the rest succeed.
    assert.ok(answers.every((a: Json) => a.result?.pong === true || a.error?.code === BUSY));
  });

  it('refuses a single request holding millions of values before parsing it', async () => {
    conn.send(`{"jsonrpc":"2.0","id":"many","method":"daemon/ping","params":{"pad":[${new Array(2_000_000).fill('0').join(',')}]}}`);
    const answer = await conn.next(10_000);
    assert.equal(answer.error.code, TOO_LARGE);
    assert.equal(answer.error.data.limit, 'maxFrameValues');
    assert.equal((await conn.call('daemon/ping')).result.pong, true);
  });

  it('counts every request against the 64 in flight, even when they all reuse one id', async () => {
    for (let i = 0; i < 300; i++) conn.send(JSON.stringify({ jsonrpc: '2.0', id: 777, method: 'daemon/ping', params: { delayMs: 3_000 } }));
    const answers: Json[] = [];
    while (answers.length < 300) answers.push(await conn.next(30_000));
    assert.equal(answers.filter((a) => a.result?.pong === true).length, PROTOCOL_LIMITS.maxInFlight);
    assert.equal(answers.filter((a) => a.error?.code === BUSY).length, 300 - PROTOCOL_LIMITS.maxInFlight);
  });

  it('cancels every request of a closed connection, those sharing an id included', async () => {
    const other = await connectWs(daemon.info);
    for (let i = 0; i < 10; i++) other.send(JSON.stringify({ jsonrpc: '2.0', id: 'same', method: 'daemon/ping', params: { delayMs: 60_000 } }));
    await sleep(300);
    await other.close();
    const deadline = Date.now() + 10_000;
    let cancelled = 0;
    while (Date.now() < deadline) {
      const lines = (await readLog(home)).split('\n').filter((l) => l.includes('"msg":"request"') && l.includes('"method":"daemon/ping"'));
      cancelled = lines.filter((l) => l.includes(`"errorCode":${CANCELLED}`)).length;
      if (cancelled >= 10) break;
      await sleep(200);
    }
    assert.equal(cancelled, 10, 'each orphaned request ends as Cancelled when its connection closes');
    assert.match(await readLog(home), /running requests are cancelled","connection":"[^"]+","cancelled":10/);
  });

  it('drops TCP connections that never authenticate beyond 64, and a client with the token still gets in', async () => {
    const idle = await Promise.all(Array.from({ length: 200 }, () => idleSocket(daemon.info.port)));
    let dropped = 0;
    for (const s of idle) void s.closed.then(() => dropped++);
    await sleep(1_000);
    assert.ok(dropped >= 200 - PROTOCOL_LIMITS.maxUnauthenticatedConnections, `only ${dropped} of 200 idle sockets were dropped`);
    const started = Date.now();
    const c = await connectWs(daemon.info);
    assert.equal((await c.call('daemon/ping')).result.pong, true);
    assert.ok(Date.now() - started < 2_000);
    await c.close();
    for (const s of idle) s.socket.destroy();
  });
});

describe('the engine and the WebSocket listener, limits shortened', function () {
  this.timeout(60_000);
  const warnings: string[] = [];
  const log: Logger = { debug() {}, info() {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };
  let rpc: RpcServer;
  let ws: WsListener;
  const token = 'c3'.repeat(32);

  before(async () => {
    rpc = new RpcServer({ store: {} as Store, log, shutdownSignal: new AbortController().signal, limits: { maxResponseBytes: 50 * 1024 } });
    // An answer of `pad` characters, to reach the response limit with a small batch.
    rpc.handle('daemon/ping', async (params) => ({ pong: true, pad: 'x'.repeat((params as { delayMs?: number }).delayMs ?? 0) }) as never);
    rpc.handle('daemon/status', async () => {
      throw Object.assign(new Error('EMFILE: too many open files, open /x'), { code: 'EMFILE', errno: -24 });
    });
    ws = await listenWebSocket({ rpc, host: '127.0.0.1', token, log, handshakeTimeoutMs: 300, maxUnauthenticated: 4 });
  });

  after(async () => {
    await ws.close();
  });

  const info = () => ({ host: '127.0.0.1', port: ws.port, token, pid: process.pid, version: 't', protocolVersion: 1, startedAt: '' });

  it('keeps a whole batch answer within the response limit: what would go over is answered TooLarge', async () => {
    const c = await connectWs(info());
    const batch = Array.from({ length: 10 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'daemon/ping', params: { delayMs: 15_000 } }));
    const raw: string[] = [];
    c.send(JSON.stringify(batch));
    const answers = await c.next(10_000);
    raw.push(JSON.stringify(answers));
    assert.ok(Buffer.byteLength(raw[0]!) <= 50 * 1024, `answer of ${Buffer.byteLength(raw[0]!)} bytes`);
    assert.equal(answers.length, 10);
    assert.equal(answers.filter((a: Json) => a.result?.pong).length, 3);
    assert.ok(answers.slice(3).every((a: Json) => a.error.code === TOO_LARGE && a.error.data.limit === 'maxResponseBytes'));
    // A single answer over the limit too.
    const one = await c.call('daemon/ping', { delayMs: 60_000 });
    assert.equal(one.error.code, TOO_LARGE);
    await c.close();
  });

  it('closes a connection that does not complete its handshake in time, and keeps at most 4 waiting', async () => {
    const first = await idleSocket(ws.port);
    const started = Date.now();
    await first.closed;
    assert.ok(Date.now() - started < 2_000);
    const idle = await Promise.all(Array.from({ length: 6 }, () => idleSocket(ws.port)));
    let dropped = 0;
    for (const s of idle) void s.closed.then(() => dropped++);
    await sleep(100);
    assert.equal(dropped, 2, 'the two oldest of six are dropped at once');
    const c = await connectWs(info());
    await sleep(500);
    assert.equal((await c.call('daemon/ping')).result.pong, true, 'an authenticated connection outlives the handshake timeout');
    await c.close();
  });

  it('reports running out of file handles as that, not as an internal error', async () => {
    const c = await connectWs(info());
    const r = await c.call('daemon/status');
    assert.equal(r.error.code, BUSY);
    assert.equal(r.error.data.limit, 'fileHandles');
    assert.match(r.error.message, /out of file handles \(EMFILE\)/);
    await c.close();
  });
});
