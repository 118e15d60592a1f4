/**
 * What a local daemon must refuse: connections without the right token, browser origins, non-loopback
 * binds, oversize frames and too many connections; after each refusal the daemon still serves a valid client.
 * Also: the discovery file and home are private, and no secret reaches the log.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import {
  connectWs,
  daemonEntry,
  makeHome,
  migratedHome,
  readLog,
  removeHome,
  repoRoot,
  startDaemon,
  stopDaemon,
  testEnv,
  type DaemonProcess,
  type RawConnection,
  type WsOptions,
} from '../support/daemon.js';

describe('daemon security', function () {
  this.timeout(120_000);
  let home: string;
  let daemon: DaemonProcess;

  before(async () => {
    home = await migratedHome();
    daemon = await startDaemon(home);
  });

  after(async () => {
    await stopDaemon(daemon);
    await removeHome(home);
  });

  async function stillServes(): Promise<void> {
    const conn = await connectWs(daemon.info);
    const r = await conn.call('daemon/ping');
    assert.equal(r.result.pong, true);
    await conn.close();
  }

  const refusals: { name: string; opts: (token: string) => WsOptions; status: string }[] = [
    { name: 'no token', opts: () => ({ token: null }), status: 'HTTP 401' },
    { name: 'a wrong token', opts: () => ({ token: 'f'.repeat(64) }), status: 'HTTP 401' },
    { name: 'the token minus its last character', opts: (t) => ({ token: t.slice(0, -1) }), status: 'HTTP 401' },
    { name: 'the token plus one character', opts: (t) => ({ token: `${t}0` }), status: 'HTTP 401' },
    { name: 'a wrong token as subprotocol', opts: () => ({ token: 'nope', viaSubprotocol: true }), status: 'HTTP 401' },
    { name: 'a browser Origin, even with the right token', opts: () => ({ headers: { Origin: 'https://evil.example' } }), status: 'HTTP 403' },
    { name: 'a null Origin (sandboxed page)', opts: () => ({ headers: { Origin: 'null' } }), status: 'HTTP 403' },
  ];

  for (const r of refusals) {
    it(`refuses the upgrade with ${r.name}, then serves the next client`, async () => {
      await assert.rejects(connectWs(daemon.info, r.opts(daemon.info.token)), new RegExp(r.status));
      await stillServes();
    });
  }

  it('accepts the token as the cairn.token.<token> subprotocol and echoes it', async () => {
    const conn = await connectWs(daemon.info, { viaSubprotocol: true });
    assert.equal((await conn.call('daemon/ping')).result.pong, true);
    await conn.close();
  });

  it('answers plain HTTP with 426 and no data', async () => {
    const res = await fetch(`http://127.0.0.1:${daemon.info.port}/`, { headers: { Authorization: `Bearer ${daemon.info.token}` } });
    assert.equal(res.status, 426);
    assert.ok(!(await res.text()).includes(daemon.info.token));
  });

  it('closes a WebSocket that sends a frame over 8 MiB with 1009, then serves the next client', async () => {
    const conn = await connectWs(daemon.info);
    conn.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'daemon/ping', params: { pad: 'x'.repeat(9 * 1024 * 1024) } }));
    const { code } = await conn.closed;
    assert.equal(code, 1009);
    await stillServes();
  });

  it('answers a frame just under the limit', async () => {
    const conn = await connectWs(daemon.info);
    const r = await conn.call('daemon/ping', { pad: 'x'.repeat(7 * 1024 * 1024) });
    // Unknown keys are stripped by the schema: the ping succeeds.
    assert.equal(r.result.pong, true);
    await conn.close();
  });

  it('refuses the 33rd connection with close code 1013 and a clear reason, then accepts again when one leaves', async () => {
    const conns: RawConnection[] = [];
    for (let i = 0; i < 32; i++) conns.push(await connectWs(daemon.info));
    const extra = await connectWs(daemon.info);
    const closed = await extra.closed;
    assert.equal(closed.code, 1013);
    assert.match(closed.reason, /too many connections \(max 32\)/);
    await conns.pop()!.close();
    await new Promise((r) => setTimeout(r, 100));
    await stillServes();
    await Promise.all(conns.map((c) => c.close()));
  });

  it('keeps daemon.json 0600 and the home 0700, and never logs the token or keys', async () => {
    assert.equal(statSync(`${home}/daemon.json`).mode & 0o777, 0o600);
    assert.equal(statSync(home).mode & 0o777, 0o700);
    const conn = await connectWs(daemon.info);
    await conn.call('initialize', { clientName: 'sec', secrets: { chatApiKey: 'sk-live-SECRET-1', embeddingsApiKey: 'sk-live-SECRET-2' } });
    await conn.call('daemon/configure', { secrets: { chatApiKey: 'sk-live-SECRET-3' } });
    await conn.close();
    const log = await readLog(home);
    assert.ok(log.includes('"method":"daemon/configure"'), 'requests are logged');
    for (const secret of ['sk-live-SECRET-1', 'sk-live-SECRET-2', 'sk-live-SECRET-3', daemon.info.token]) assert.ok(!log.includes(secret), 'secret in log');
    for (const line of log.trim().split('\n')) {
      const entry = JSON.parse(line);
      assert.ok(['debug', 'info', 'warn', 'error'].includes(entry.level));
      assert.ok(!Number.isNaN(Date.parse(entry.time)));
    }
  });

  for (const host of ['0.0.0.0', '192.168.1.10', '::']) {
    it(`refuses to start with CAIRN_HOST=${host}, leaving no discovery file`, async () => {
      const other = await makeHome();
      try {
        const proc = spawn(process.execPath, ['--import', 'tsx', daemonEntry], { cwd: repoRoot, env: testEnv(other, { CAIRN_HOST: host }), stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const code = await new Promise<number | null>((r) => proc.once('exit', r));
        assert.equal(code, 1);
        assert.match(stderr, new RegExp(`refusing to listen on ${host.replace(/[.:]/g, '\\$&')}: the Cairn daemon binds loopback only`));
        assert.equal(existsSync(`${other}/daemon.json`), false);
      } finally {
        await removeHome(other);
      }
    });
  }

  it('listens on the IPv6 loopback with CAIRN_HOST=::1, and clients follow the discovery file there', async () => {
    const other = await migratedHome();
    const d6 = await startDaemon(other, { env: { CAIRN_HOST: '::1' } });
    try {
      assert.equal(d6.info.host, '::1');
      const conn = await connectWs(d6.info);
      assert.equal((await conn.call('daemon/ping')).result.pid, d6.pid);
      await conn.close();
    } finally {
      await stopDaemon(d6);
      await removeHome(other);
    }
  });

  it('is not reachable on the machine’s other addresses', async function () {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal);
    if (!external) this.skip();
    const reached = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: external!.address, port: daemon.info.port });
      socket.setTimeout(2_000, () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    assert.equal(reached, false);
  });
});
