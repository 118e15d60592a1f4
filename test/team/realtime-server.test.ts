/**
 * The Realtime test server's wire contract over a raw WebSocket (Phoenix channels, vsn 1.0.0 objects and
 * 2.0.0 arrays): join replies with binding ids, `postgres_changes` frames in Realtime v2's shape, per-subscriber
 * RLS, heartbeats, token updates and expiry, and the gateway's apikey check.
 */
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { signUp, startProject, type Person, type Project } from './harness.js';

interface Frame {
  join_ref: string | null;
  ref: string | null;
  topic: string;
  event: string;
  payload: Record<string, any>;
}

class Socket {
  readonly frames: Frame[] = [];
  private waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  private ref = 0;
  private constructor(readonly ws: WebSocket, readonly vsn: string) {
    ws.on('message', (data) => {
      const v = JSON.parse(data.toString());
      const f: Frame = Array.isArray(v) ? { join_ref: v[0], ref: v[1], topic: v[2], event: v[3], payload: v[4] } : v;
      this.frames.push(f);
      for (const w of [...this.waiters]) if (w.match(f)) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(f);
      }
    });
  }
  static open(project: Project, vsn: string, key = project.anonKey): Promise<Socket> {
    const ws = new WebSocket(`${project.url.replace('http', 'ws')}/realtime/v1/websocket?apikey=${encodeURIComponent(key)}&vsn=${vsn}`);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new Socket(ws, vsn)));
      ws.once('error', reject);
    });
  }
  push(topic: string, event: string, payload: Record<string, unknown>, joinRef: string | null = null): string {
    const ref = String(++this.ref);
    const frame = { join_ref: joinRef ?? ref, ref, topic, event, payload };
    this.ws.send(JSON.stringify(this.vsn === '2.0.0' ? [frame.join_ref, frame.ref, topic, event, payload] : frame));
    return ref;
  }
  next(match: (f: Frame) => boolean, ms = 3000): Promise<Frame> {
    const seen = this.frames.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no matching frame in ${ms} ms; saw ${JSON.stringify(this.frames)}`)), ms);
      this.waiters.push({ match, resolve: (f) => (clearTimeout(t), resolve(f)) });
    });
  }
  close(): void {
    this.ws.terminate();
  }
}

describe('Realtime test server (Phoenix channels)', function () {
  this.timeout(60_000);
  let project: Project;
  let ann: Person;
  let ben: Person;

  before(async () => {
    project = await startProject();
    [ann, ben] = await Promise.all([signUp(project, 'ann'), signUp(project, 'ben')]);
  });
  after(async () => project?.close());

  const sessionsConfig = { config: { postgres_changes: [{ event: '*', schema: 'public', table: 'sessions' }] } };

  for (const vsn of ['1.0.0', '2.0.0']) {
    it(`vsn ${vsn}: join, heartbeat, a change in Realtime v2's shape, and nothing for a user RLS hides it from`, async () => {
      const a = await Socket.open(project, vsn);
      const b = await Socket.open(project, vsn);
      try {
        const ref = a.push('realtime:mine', 'phx_join', { ...sessionsConfig, access_token: ann.session().accessToken });
        const reply = await a.next((f) => f.event === 'phx_reply' && f.ref === ref);
        assert.equal(reply.payload.status, 'ok');
        const binding = reply.payload.response.postgres_changes[0];
        assert.deepEqual({ ...binding, id: 0 }, { id: 0, event: '*', schema: 'public', table: 'sessions' });
        assert.equal(typeof binding.id, 'number');
        await a.next((f) => f.event === 'system' && f.payload.message === 'Subscribed to PostgreSQL');
        b.push('realtime:theirs', 'phx_join', { ...sessionsConfig, access_token: ben.session().accessToken });
        await b.next((f) => f.event === 'phx_reply');

        const hb = a.push('phoenix', 'heartbeat', {}, null);
        assert.equal((await a.next((f) => f.topic === 'phoenix' && f.ref === hb)).payload.status, 'ok');

        const { data } = await ann.auth.rpc('create_session', { p_title: `private ${vsn}` });
        const created = data as { id: string };
        const change = await a.next((f) => f.event === 'postgres_changes');
        assert.deepEqual(change.payload.ids, [binding.id]);
        const d = change.payload.data;
        assert.equal(d.type, 'INSERT');
        assert.equal(d.schema, 'public');
        assert.equal(d.table, 'sessions');
        assert.equal(d.record.id, created.id);
        assert.equal(d.record.title, `private ${vsn}`);
        assert.ok(d.columns.some((c: { name: string; type: string }) => c.name === 'id' && c.type === 'uuid'));
        assert.ok(!Number.isNaN(Date.parse(d.commit_timestamp)));
        await new Promise((r) => setTimeout(r, 200));
        assert.equal(b.frames.filter((f) => f.event === 'postgres_changes').length, 0, 'ben may not see ann\'s private session');
      } finally {
        a.close();
        b.close();
      }
    });
  }

  it('takes a fresh access_token, and closes the channel with a system error when the token expires', async () => {
    const s = await Socket.open(project, '1.0.0');
    try {
      // JWT `exp` has whole seconds: +2 leaves at least one second for the joins below.
      const soon = Math.floor(Date.now() / 1000) + 2;
      const short = await project.servers!.signToken({ sub: ann.id, role: 'authenticated', aal: 'aal1' }, soon);
      s.push('realtime:short', 'phx_join', { ...sessionsConfig, access_token: short });
      await s.next((f) => f.event === 'phx_reply' && f.topic === 'realtime:short');
      s.push('realtime:kept', 'phx_join', { ...sessionsConfig, access_token: short });
      await s.next((f) => f.event === 'phx_reply' && f.topic === 'realtime:kept');
      s.push('realtime:kept', 'access_token', { access_token: ann.session().accessToken });
      const closed = await s.next((f) => f.event === 'phx_close' && f.topic === 'realtime:short', 4000);
      assert.ok(closed);
      const system = s.frames.find((f) => f.event === 'system' && f.topic === 'realtime:short' && f.payload.status === 'error');
      assert.match(system?.payload.message ?? '', /expired/);
      await ann.auth.rpc('create_session', { p_title: 'after expiry' });
      const change = await s.next((f) => f.event === 'postgres_changes');
      assert.equal(change.topic, 'realtime:kept', 'the channel with the refreshed token is still live');
    } finally {
      s.close();
    }
  });

  it('refuses a join with an expired token, an unjoined topic, and a socket without the apikey', async () => {
    const s = await Socket.open(project, '1.0.0');
    try {
      const old = await project.servers!.signToken({ sub: ann.id, role: 'authenticated' }, Math.floor(Date.now() / 1000) - 5);
      const ref = s.push('realtime:late', 'phx_join', { ...sessionsConfig, access_token: old });
      const reply = await s.next((f) => f.ref === ref);
      assert.equal(reply.payload.status, 'error');
      assert.match(reply.payload.response.reason, /expired/);
      const stray = s.push('realtime:never-joined', 'broadcast', { event: 'x' });
      assert.equal((await s.next((f) => f.ref === stray)).payload.response.reason, 'unmatched topic');
    } finally {
      s.close();
    }
    await assert.rejects(Socket.open(project, '1.0.0', 'not-the-key'), /401/);
  });
});
