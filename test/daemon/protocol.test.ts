/**
 * The daemon at its JSON-RPC boundary, over both transports: a table of raw frames and the response each
 * must get, then cancellation, progress and the per-connection request limit.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import {
  connectStdio,
  connectWs,
  migratedHome,
  removeHome,
  startDaemon,
  stopDaemon,
  type DaemonProcess,
  type Json,
  type RawConnection,
} from '../support/daemon.js';

/** Asserts that `actual` contains every field of `expected` (recursively; arrays element by element). */
function assertSubset(actual: Json, expected: Json, path = '$'): void {
  if (expected === null || typeof expected !== 'object') {
    assert.deepEqual(actual, expected, `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
    return;
  }
  assert.ok(actual !== null && typeof actual === 'object', `${path}: expected an object, got ${JSON.stringify(actual)}`);
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: expected an array`);
    assert.equal(actual.length, expected.length, `${path}: length of ${JSON.stringify(actual)}`);
  }
  for (const [k, v] of Object.entries(expected)) assertSubset(actual[k], v, `${path}.${k}`);
}

interface Row {
  name: string;
  frame: string;
  /** A subset of the response, or a check of it. */
  expect: Record<string, unknown> | unknown[] | ((response: Json, daemon: DaemonProcess) => void);
}

const req = (id: Json, method: string, params?: unknown) => JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
const err = (id: Json, code: number, data?: Json) => ({ jsonrpc: '2.0', id, error: { code, ...(data ? { data } : {}) } });

const table: Row[] = [
  { name: 'answers a request with its result', frame: req(1, 'daemon/ping', {}), expect: (r, d) => assert.deepEqual(r, { jsonrpc: '2.0', id: 1, result: { pong: true, pid: d.pid } }) },
  { name: 'keeps a string id', frame: req('abc', 'daemon/ping'), expect: { id: 'abc', result: { pong: true } } },
  { name: 'invalid JSON → -32700 with id null', frame: '{"jsonrpc": "2.0", "method": ', expect: err(null, -32700) },
  { name: 'a bare number → -32600', frame: '42', expect: err(null, -32600) },
  { name: 'an empty batch → -32600', frame: '[]', expect: err(null, -32600) },
  { name: 'wrong jsonrpc version → -32600 with its id', frame: '{"jsonrpc":"1.0","id":3,"method":"daemon/ping"}', expect: err(3, -32600) },
  { name: 'a method that is not a string → -32600', frame: '{"jsonrpc":"2.0","id":4,"method":5}', expect: err(4, -32600) },
  { name: 'an object id → -32600 with id null', frame: '{"jsonrpc":"2.0","id":{"a":1},"method":"daemon/ping"}', expect: err(null, -32600) },
  { name: 'params that are not an object → -32600', frame: '{"jsonrpc":"2.0","id":6,"method":"daemon/ping","params":"x"}', expect: err(6, -32600) },
  { name: 'an unknown method → -32601', frame: req(5, 'nope/nothing', {}), expect: err(5, -32601) },
  { name: 'positional params → -32602', frame: req(7, 'daemon/ping', [100]), expect: err(7, -32602) },
  { name: 'a field of the wrong type → -32602 naming it', frame: req(8, 'daemon/ping', { delayMs: 'soon' }), expect: err(8, -32602, { issues: [{ path: 'delayMs' }] }) },
  { name: 'a value out of range → -32602 naming it', frame: req(9, 'daemon/ping', { delayMs: 999_999 }), expect: err(9, -32602, { issues: [{ path: 'delayMs' }] }) },
  { name: 'a missing required field → -32602 naming it', frame: req(10, 'initialize', {}), expect: err(10, -32602, { issues: [{ path: 'clientName' }] }) },
  {
    name: 'a nested field → -32602 with its dotted path',
    frame: req(11, 'initialize', { clientName: 't', settings: { chat: { baseUrl: 'not a url' } } }),
    expect: err(11, -32602, { issues: [{ path: 'settings.chat.baseUrl' }] }),
  },
  { name: 'an array element → -32602 with its index', frame: req(12, 'daemon/subscribe', { topics: ['sessions', ''] }), expect: err(12, -32602, { issues: [{ path: 'topics[1]' }] }) },
  {
    name: "a session's chat is not taken by daemon/subscribe (sessions/subscribe checks visibility) → -32602",
    frame: req(112, 'daemon/subscribe', { topics: ['sessions', 'session:6f1d3c2a-8b7e-4c1f-9a2d-0e5b7c9d1a23'] }),
    expect: err(112, -32602, { issues: [{ path: 'topics[1]' }] }),
  },
  { name: 'an application error uses its code', frame: req(13, 'workspace/resolveProject', { root: 'relative/path' }), expect: err(13, -31910, { field: 'root' }) },
  { name: 'backup refuses a relative path', frame: req(14, 'daemon/backup', { file: 'x.tar.gz' }), expect: err(14, -31910) },
  {
    name: 'initialize describes the daemon',
    frame: req(15, 'initialize', { clientName: 'table-test', clientVersion: '1' }),
    expect: (r) => {
      assertSubset(r, { id: 15, result: { protocolVersion: 1, store: 'embedded' } });
      assert.match(r.result.version, /^\d+\.\d+\.\d+/);
      assert.match(r.result.schemaVersion, /^\d{14}$/);
      assert.match(r.result.user.id, /^[0-9a-f-]{36}$/);
      for (const m of ['initialize', 'shutdown', 'daemon/status', 'daemon/ping', 'auth/status']) assert.ok(r.result.capabilities.methods.includes(m), m);
      assert.ok(r.result.capabilities.notifications.includes('$/progress'));
    },
  },
  { name: 'auth/status reports the local user', frame: req(16, 'auth/status', {}), expect: { id: 16, result: { store: 'embedded', signedIn: true } } },
  {
    name: 'configure keeps keys to itself',
    frame: req(17, 'daemon/configure', { settings: { chat: { model: 'm1' } }, secrets: { chatApiKey: 'sk-table-secret' } }),
    expect: (r) => {
      assertSubset(r, { id: 17, result: { chat: { model: 'm1', hasApiKey: true } } });
      assert.ok(!JSON.stringify(r).includes('sk-table-secret'));
    },
  },
  { name: 'a store error keeps its meaning (not found)', frame: req(19, 'sessions/get', { sessionId: '6f1c2a4e-9b7d-4c3e-8a5f-1d2e3f4a5b6c' }), expect: err(19, -31903) },
  {
    name: 'metrics as JSON',
    frame: req(23, 'daemon/metrics', {}),
    expect: (r) => {
      assert.equal(r.result.format, 'json');
      assert.ok(r.result.requests['daemon/ping'].count >= 2);
      assert.ok(r.result.requests['daemon/ping'].errors >= 2, 'the invalid pings above count as errors');
      assert.ok(r.result.rssBytes > 10_000_000);
      assert.equal(r.result.connections, 1);
      assert.equal(typeof r.result.indexChunks, 'number');
    },
  },
  {
    name: 'metrics in Prometheus text',
    frame: req(18, 'daemon/metrics', { format: 'prometheus' }),
    expect: (r) => {
      assert.equal(r.result.format, 'prometheus');
      assert.match(r.result.text, /^cairn_requests_total\{method="daemon\/ping"\} \d+$/m);
      assert.match(r.result.text, /^cairn_resident_memory_bytes \d+$/m);
    },
  },
  {
    name: 'a batch gets one array of the answers (none for its notification)',
    frame: JSON.stringify([
      { jsonrpc: '2.0', id: 20, method: 'daemon/ping' },
      { jsonrpc: '2.0', method: 'daemon/ping' },
      { jsonrpc: '2.0', id: 21, method: 'no/such' },
      { jsonrpc: '2.0', id: 22 },
    ]),
    expect: [
      { id: 20, result: { pong: true } },
      { id: 21, error: { code: -32601 } },
      { id: 22, error: { code: -32600 } },
    ],
  },
];

for (const transport of ['websocket', 'stdio'] as const) {
  describe(`daemon protocol over ${transport}`, function () {
    this.timeout(120_000);
    let home: string;
    let daemon: DaemonProcess;
    let conn: RawConnection;

    before(async () => {
      home = await migratedHome();
      daemon = await startDaemon(home, { stdio: transport === 'stdio' });
      conn = transport === 'stdio' ? connectStdio(daemon) : await connectWs(daemon.info);
    });

    after(async () => {
      await stopDaemon(daemon);
      await removeHome(home);
    });

    for (const row of table) {
      it(row.name, async () => {
        conn.send(row.frame);
        const response = await conn.next();
        if (typeof row.expect === 'function') row.expect(response, daemon);
        else assertSubset(response, row.expect);
      });
    }

    it('sends nothing back for notifications, known or not', async () => {
      conn.send(JSON.stringify({ jsonrpc: '2.0', method: 'daemon/ping', params: {} }));
      conn.send(JSON.stringify({ jsonrpc: '2.0', method: 'editor/didSomething', params: { x: 1 } }));
      conn.send(req(30, 'daemon/ping', {}));
      assertSubset(await conn.next(), { id: 30, result: { pong: true } });
    });

    it('cancels a running request with $/cancelRequest', async () => {
      const started = Date.now();
      conn.send(req('slow-1', 'daemon/ping', { delayMs: 20_000 }));
      await new Promise((r) => setTimeout(r, 150));
      conn.send(JSON.stringify({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id: 'slow-1' } }));
      assertSubset(await conn.next(5_000), err('slow-1', -31905));
      assert.ok(Date.now() - started < 5_000);
    });

    it('reports $/progress for a progressToken, then answers', async () => {
      conn.send(req(31, 'daemon/ping', { delayMs: 350, progressToken: 'tok-1' }));
      const seen: Json[] = [];
      for (;;) {
        const m = await conn.next(5_000);
        seen.push(m);
        if (m.id === 31) break;
      }
      const progress = seen.filter((m) => m.method === '$/progress');
      assert.ok(progress.length >= 3, JSON.stringify(seen));
      assert.ok(progress.every((p) => p.params.token === 'tok-1'));
      assert.equal(progress[0].params.value.kind, 'begin');
      assert.equal(progress.at(-1).params.value.kind, 'end');
      assertSubset(seen.at(-1), { id: 31, result: { pong: true } });
    });

    it('answers Busy beyond 64 running requests, and serves the next one', async () => {
      // Long enough that all 70 are in flight together even on a loaded machine.
      for (let i = 0; i < 70; i++) conn.send(req(`flood-${i}`, 'daemon/ping', { delayMs: 5_000 }));
      const answers: Json[] = [];
      while (answers.length < 70) answers.push(await conn.next(20_000));
      const busy = answers.filter((a) => a.error?.code === -31907);
      const ok = answers.filter((a) => a.result?.pong === true);
      assert.equal(busy.length, 6);
      assert.equal(ok.length, 64);
      assert.equal(busy[0].error.data.limit, 'maxInFlight');
      assertSubset(await conn.call('daemon/ping'), { result: { pong: true } });
    });

    if (transport === 'stdio') {
      it('skips a line over 8 MiB with TooLarge, and answers the next one', async () => {
        conn.send(JSON.stringify({ jsonrpc: '2.0', id: 40, method: 'daemon/ping', params: { pad: 'x'.repeat(9 * 1024 * 1024) } }));
        assertSubset(await conn.next(10_000), err(null, -31906, { limit: 'maxFrameBytes' }));
        assertSubset(await conn.call('daemon/ping'), { result: { pong: true } });
      });

      it('answers what it received when stdin ends, then exits 0 and removes daemon.json', async () => {
        conn.send(req(41, 'daemon/ping', { delayMs: 200 }));
        daemon.proc.stdin!.end();
        assertSubset(await conn.next(5_000), { id: 41, result: { pong: true } });
        const { code } = await daemon.exited;
        assert.equal(code, 0);
        assert.equal(existsSync(`${home}/daemon.json`), false);
      });
    }
  });
}
