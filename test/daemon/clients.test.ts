/**
 * Several clients on one daemon: each gets only its own responses (even with the same request ids), and
 * only the notifications it subscribed to or asked for.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectWs, migratedHome, removeHome, startDaemon, stopDaemon, type DaemonProcess, type Json, type RawConnection } from '../support/daemon.js';

const settle = () => new Promise((r) => setTimeout(r, 300));

describe('daemon with several clients', function () {
  this.timeout(120_000);
  let home: string;
  let workspace: string;
  let daemon: DaemonProcess;
  let clients: RawConnection[];

  before(async () => {
    home = await migratedHome();
    workspace = await mkdtemp(join(tmpdir(), 'cairn-ws-'));
    daemon = await startDaemon(home);
    clients = await Promise.all([0, 1, 2].map(() => connectWs(daemon.info)));
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await stopDaemon(daemon);
    await removeHome(home);
    await rm(workspace, { recursive: true, force: true });
  });

  it('answers each client with its own responses, even when their ids collide', async () => {
    // Every client uses ids 1..25 at once; the answer (its subscription list) can only be right on its own connection.
    const runs = clients.map(async (c, n) => {
      for (let i = 1; i <= 25; i++) c.send(JSON.stringify({ jsonrpc: '2.0', id: i, method: 'daemon/subscribe', params: { topics: [`client-${n}-${i}`] } }));
      const got: Json[] = [];
      while (got.length < 25) got.push(await c.next(10_000));
      return got;
    });
    const results = await Promise.all(runs);
    results.forEach((got, n) => {
      assert.deepEqual(
        got.map((m) => m.id).sort((a, b) => a - b),
        Array.from({ length: 25 }, (_, i) => i + 1),
      );
      for (const m of got) {
        assert.ok(m.result.topics.includes(`client-${n}-${m.id}`));
        assert.ok(m.result.topics.every((t: string) => t.startsWith(`client-${n}-`)), `client ${n} saw ${m.result.topics}`);
      }
    });
    await Promise.all(clients.map((c, n) => c.call('daemon/unsubscribe', { topics: Array.from({ length: 25 }, (_, i) => `client-${n}-${i + 1}`) })));
  });

  it('sends topic notifications only to subscribers, and stops after unsubscribe', async () => {
    const [a, b, c] = clients as [RawConnection, RawConnection, RawConnection];
    assert.deepEqual((await a.call('daemon/subscribe', { topics: ['sessions'] })).result.topics, ['sessions']);
    await b.call('daemon/subscribe', { topics: ['kb'] });
    const created = await c.call('sessions/create', { root: workspace, title: 'first' });
    assert.ok(created.result, JSON.stringify(created));
    await settle();
    const seenByA = a.notifications('sessions/changed').filter((n) => n.params.sessionId === created.result.id);
    assert.equal(seenByA.length, 1);
    assert.equal(seenByA[0].params.change, 'created');
    assert.equal(b.notifications('sessions/changed').length, 0);
    assert.equal(c.notifications('sessions/changed').length, 0);

    await a.call('daemon/unsubscribe', { topics: ['sessions'] });
    const second = await c.call('sessions/create', { root: workspace, title: 'second' });
    await settle();
    assert.equal(a.notifications('sessions/changed').filter((n) => n.params.sessionId === second.result.id).length, 0);
  });

  it('sends $/progress only to the client that made the request', async () => {
    const [a, b, c] = clients as [RawConnection, RawConnection, RawConnection];
    const r = await a.call('daemon/ping', { delayMs: 250, progressToken: 'only-a' });
    assert.equal(r.result.pong, true);
    assert.ok(a.notifications('$/progress').some((n) => n.params.token === 'only-a'));
    assert.equal(b.notifications('$/progress').length, 0);
    assert.equal(c.notifications('$/progress').length, 0);
  });

  it('drops the subscriptions of a closed connection and keeps serving the others', async () => {
    const d = await connectWs(daemon.info);
    await d.call('daemon/subscribe', { topics: ['sessions'] });
    await d.close();
    const e = await connectWs(daemon.info);
    await e.call('daemon/subscribe', { topics: ['sessions'] });
    const created = await clients[2]!.call('sessions/create', { root: workspace, title: 'third' });
    await settle();
    assert.equal(e.notifications('sessions/changed').filter((n) => n.params.sessionId === created.result.id).length, 1);
    const status = await e.call('daemon/status');
    assert.equal(status.result.connections, 4);
    await e.close();
  });
});
