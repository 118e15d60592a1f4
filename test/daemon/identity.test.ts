/**
 * A client checks that the process behind `daemon.json` is the daemon before it sends anything secret: a
 * stale discovery file whose port is now held by another local process (an unrelated web server, or one
 * that collects what clients send) must get neither the token nor the keys `initialize` carries, and must
 * not keep the CLI from starting a daemon of its own.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { DaemonClient } from '../../daemon/src/protocol/client/client.js';
import { DaemonIdentityError, findRunningDaemon, readDiscovery } from '../../daemon/src/protocol/client/discovery.js';
import { CLIENT_PROOF_SCHEME, NONCE_HEADER, clientProof, newNonce } from '../../daemon/src/protocol/handshake.js';
import { alive, connectWs, migratedHome, removeHome, runCli, startDaemon, stopDaemon, testEnv } from '../support/daemon.js';

const TOKEN = 'a1'.repeat(32);
const API_KEY = 'sk-identity-test-secret-0123456789';

/** A local server on 127.0.0.1 that records every header and frame it is sent. */
interface Listener {
  port: number;
  seen(): string;
  close(): Promise<void>;
}

/** `kind: 'http'` answers every request 200 (an unrelated web server); `'ws'` accepts any WebSocket upgrade. */
async function listener(kind: 'http' | 'ws'): Promise<Listener> {
  let seen = '';
  const record = (req: IncomingMessage) => (seen += `${JSON.stringify(req.headers)}\n`);
  const http: Server = createServer((req, res) => {
    record(req);
    req.on('data', (d: Buffer) => (seen += d.toString()));
    res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>hello</html>');
  });
  const wss = new WebSocketServer({ noServer: true });
  http.on('upgrade', (req, socket, head) => {
    record(req);
    if (kind === 'http') {
      socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (d) => (seen += `${String(d)}\n`)));
  });
  await new Promise<void>((r) => http.listen({ host: '127.0.0.1', port: 0 }, r));
  const port = (http.address() as { port: number }).port;
  return {
    port,
    seen: () => seen,
    async close() {
      for (const c of wss.clients) c.terminate();
      http.closeAllConnections();
      await new Promise((r) => http.close(r));
    },
  };
}

async function staleFile(home: string, port: number, pid: number): Promise<void> {
  await writeFile(
    join(home, 'daemon.json'),
    JSON.stringify({ host: '127.0.0.1', port, pid, token: TOKEN, version: '0.1.0', protocolVersion: 1, startedAt: '2026-01-01T00:00:00Z' }),
    { mode: 0o600 },
  );
}

describe('daemon identity before secrets', function () {
  this.timeout(180_000);
  const homes: string[] = [];
  const listeners: Listener[] = [];

  after(async () => {
    for (const l of listeners) await l.close();
    for (const h of homes) {
      const info = await readDiscovery(h);
      if (info && info.pid > 1 && info.pid !== process.pid && alive(info.pid)) process.kill(info.pid, 'SIGKILL');
      await removeHome(h);
    }
  });

  it('refuses to use a WebSocket server that cannot prove it knows the token, and sends it nothing', async () => {
    const fake = await listener('ws');
    listeners.push(fake);
    await assert.rejects(DaemonClient.connect({ host: '127.0.0.1', port: fake.port, token: TOKEN }), DaemonIdentityError);
    const h = await migratedHome();
    homes.push(h);
    await staleFile(h, fake.port, process.pid);
    assert.equal(await findRunningDaemon(h), null, 'a live pid and a listening port do not make it the daemon');
    assert.equal(await readDiscovery(h), null, 'the stale file is removed');
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(fake.seen().length > 0, 'the client did reach the server');
    assert.ok(!fake.seen().includes(TOKEN), 'the token was sent to a process that is not the daemon');
  });

  it('starts its own daemon over a stale daemon.json (pid 1, port of an unrelated web server), leaking no key', async () => {
    const h = await migratedHome();
    homes.push(h);
    const fake = await listener('http');
    listeners.push(fake);
    await staleFile(h, fake.port, 1);
    const r = await runCli(['status', '--json'], testEnv(h, { OPENAI_API_KEY: API_KEY }));
    assert.equal(r.code, 0, r.stderr);
    const info = await readDiscovery(h);
    assert.ok(info && info.port !== fake.port && info.token !== TOKEN, 'a new daemon wrote its own discovery file');
    assert.equal(JSON.parse(r.stdout).pid, info.pid);
    assert.ok(!fake.seen().includes(TOKEN) && !fake.seen().includes(API_KEY), 'a secret reached the other process');
    const client = await DaemonClient.connect(info);
    await client.request('shutdown', {});
    await client.close();
    while (alive(info.pid)) await new Promise((res) => setTimeout(res, 50));
  });

  it('the daemon proves itself to a client, and refuses a replayed client proof', async () => {
    const h = await migratedHome();
    homes.push(h);
    const d = await startDaemon(h);
    try {
      const client = await DaemonClient.connect(d.info);
      assert.equal((await client.request('daemon/ping', {})).pong, true);
      await client.close();
      const nonce = newNonce();
      const headers = { Authorization: `${CLIENT_PROOF_SCHEME} ${clientProof(d.info.token, nonce)}`, [NONCE_HEADER]: nonce };
      const first = await connectWs(d.info, { token: null, headers });
      await first.close();
      await assert.rejects(connectWs(d.info, { token: null, headers }), /HTTP 401/);
      const wrong = newNonce();
      await assert.rejects(connectWs(d.info, { token: null, headers: { Authorization: `${CLIENT_PROOF_SCHEME} ${clientProof('f'.repeat(64), wrong)}`, [NONCE_HEADER]: wrong } }), /HTTP 401/);
    } finally {
      await stopDaemon(d);
    }
  });
});
