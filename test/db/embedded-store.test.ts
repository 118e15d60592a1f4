// The embedded store as the daemon uses it: open a home, call the SQL API as the local user, get typed
// errors, the change feed, metrics, backup and restore, and exclusive ownership of the data dir.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { EmbeddedStore } from '../../daemon/src/store/embedded.js';
import { processStartTime } from '../../daemon/src/lock/pid-lock.js';
import { openStore } from '../../daemon/src/store/index.js';
import { StoreError, type ChangeEvent } from '../../daemon/src/store/types.js';
import { expectStoreError, migratedTemplate, rpcUntyped, tempHome } from '../support/db.js';

interface Session {
  id: string;
  title: string;
  owner_id: string;
  project_id: string | null;
  visibility: string;
  created_at: string;
}
interface Message {
  id: string;
  seq: number;
  content: string;
  status: string;
}

const deadPid = (): number => {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
};

describe('EmbeddedStore', function () {
  this.timeout(120_000);
  let home: Awaited<ReturnType<typeof tempHome>>;
  let template: Blob;
  const stores: EmbeddedStore[] = [];
  const open = async (dir = home.home) => {
    const s = await EmbeddedStore.open(dir, { template });
    stores.push(s);
    return s;
  };

  before(async () => {
    template = await migratedTemplate();
  });
  beforeEach(async () => {
    home = await tempHome();
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    await home.cleanup();
  });

  it('first start on an empty home runs initdb, bootstrap and every migration, and makes the local user', async () => {
    const t0 = Date.now();
    const store = await openStore(home.home, {});
    stores.push(store as EmbeddedStore);
    const openedMs = Date.now() - t0;
    assert.equal(store.mode, 'embedded');
    const status = await store.schemaStatus();
    assert.deepEqual(status.pending, []);
    assert.equal(status.applied, status.expected);
    // The local user's row (and its file) may be made behind the open: any call waits for it.
    const profile = await store.rpc('current_profile');
    const saved = JSON.parse(await readFile(join(home.home, 'local-user.json'), 'utf8')) as { id: string; email: string };
    assert.equal(saved.id, store.user()!.id);
    assert.equal(profile.id, saved.id);
    assert.equal(profile.email, 'local@cairn.invalid');
    assert.ok(openedMs < 60_000, `cold open took ${openedMs} ms`);
  });

  it('keeps the local user and the data across a reopen', async () => {
    let store = await open();
    const user = store.user();
    const created = await store.rpc('create_session', { p_title: 'Persisted' });
    await store.close();
    store = await open();
    assert.deepEqual(store.user(), user);
    const again = await store.rpc('get_session', { p_session_id: created.id });
    assert.equal(again.title, 'Persisted');
    assert.equal(again.owner_id, user.id);
  });

  it('refuses a second open of a home that is in use, and takes over a lock left by a dead process', async () => {
    await open();
    await expectStoreError(EmbeddedStore.open(home.home, { template }), 'unavailable', new RegExp(`in use by process ${process.pid}`));
    await stores.pop()!.close();
    assert.equal(existsSync(join(home.home, 'db.lock')), false, 'close releases the lock');
    await writeFile(join(home.home, 'db.lock'), `${deadPid()}\n`);
    const store = await open();
    assert.match(await readFile(join(home.home, 'db.lock'), 'utf8'), new RegExp(`^${process.pid}( \\d+)?\n$`));
    assert.ok(store.user().id);
    await stores.pop()!.close();
    if (processStartTime(process.pid) !== null) {
      // A live pid that started at another time is a reused pid, not the holder.
      await writeFile(join(home.home, 'db.lock'), `${process.pid} 1\n`);
      await open();
    }
  });

  it('backs up while running and restores into an empty home with the same user and data', async () => {
    const store = await open();
    const s = await store.rpc('create_session', { p_title: 'Backed up' });
    await store.rpc('append_message', { p_session_id: s.id, p_role: 'user', p_content: 'hello' });
    const file = join(home.home, 'backups', 'cairn.tgz');
    const pending = store.rpc('append_message', { p_session_id: s.id, p_role: 'user', p_content: 'after' });
    const { bytes } = await store.backup(file);
    await pending;
    assert.ok(bytes > 0);

    const target = await tempHome();
    try {
      await EmbeddedStore.restore(file, target.home);
      const restored = await open(target.home);
      assert.equal(restored.user().id, store.user().id, 'the restored database keeps its local user');
      const messages = await restored.rpc('list_messages', { p_session_id: s.id });
      assert.deepEqual(messages.map((m) => m.content), ['hello', 'after'], 'the backup holds every call queued before it');
      await expectStoreError(EmbeddedStore.restore(file, target.home), 'conflict', /already holds a database/);
    } finally {
      await stores.pop()!.close();
      await target.cleanup();
    }
  });

  it('rejects files that are not backups, saying why, without leaving a database behind', async () => {
    const target = join(home.home, 'restored');
    const cases: Array<[string, Buffer, RegExp]> = [
      ['text.tgz', Buffer.from('not a tarball'), /not gzip data/],
      ['gzip.tgz', gzipSync(Buffer.from('plain text, gzipped')), /not a tar archive/],
    ];
    for (const [name, bytes, why] of cases) {
      const file = join(home.home, name);
      await writeFile(file, bytes);
      await expectStoreError(EmbeddedStore.restore(file, target), 'invalid_input', why);
      assert.equal(existsSync(join(target, 'db')), false);
      assert.equal(existsSync(join(target, 'db.lock')), false);
    }
  });

  it('finishes queued work on close, then refuses calls', async () => {
    const store = await open();
    const s = await store.rpc('create_session');
    const inFlight = store.rpc('append_message', { p_session_id: s.id, p_role: 'user', p_content: 'last words' });
    await stores.pop()!.close();
    await inFlight;
    await expectStoreError(store.rpc('list_sessions'), 'unavailable', /closed/);
    const reopened = await open();
    const messages = await reopened.rpc('list_messages', { p_session_id: s.id });
    assert.deepEqual(messages.map((m) => m.content), ['last words']);
  });
});

describe('EmbeddedStore: calls on one open store', function () {
  this.timeout(120_000);
  let home: Awaited<ReturnType<typeof tempHome>>;
  let store: EmbeddedStore;
  before(async () => {
    home = await tempHome();
    store = await EmbeddedStore.open(home.home, { template: await migratedTemplate() });
  });
  after(async () => {
    await store?.close();
    await home?.cleanup();
  });

  it('returns rows PostgREST-style: arrays for set-returning functions, objects, scalars and null for void', async () => {
    const s = await store.rpc('create_session', { p_title: 'Shapes' });
    assert.equal(typeof s.id, 'string');
    assert.match(s.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/, 'timestamps are ISO strings as in PostgREST JSON');
    const m = await store.rpc('append_message', {
      p_session_id: s.id,
      p_role: 'assistant',
      p_content: '',
      p_status: 'streaming',
      p_metadata: { model: 'm' },
      p_tool_calls: [{ id: 'c1', name: 'grep', args: { q: 'x' } }],
    });
    assert.equal(m.seq, 1);
    const list = await store.rpc('list_messages', { p_session_id: s.id });
    assert.deepEqual(list.map((x) => [x.seq, x.status]), [[1, 'streaming']]);
    assert.ok((await store.rpc('fail_streaming_messages', { p_reason: 'test' })) >= 1);
    const failed = await store.rpc('list_messages', { p_session_id: s.id });
    assert.deepEqual(failed.map((x) => x.status), ['failed']);
    assert.equal(await store.rpc('delete_session', { p_session_id: s.id }), null);
    assert.ok(!(await store.rpc('list_sessions')).some((x) => x.id === s.id));
  });

  it('serialises concurrent calls: 30 appends at once get seq 1..30 with no gaps', async () => {
    const s = await store.rpc('create_session');
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => store.rpc('append_message', { p_session_id: s.id, p_role: 'user', p_content: `m${i}` })),
    );
    const list = await store.rpc('list_messages', { p_session_id: s.id });
    assert.deepEqual(list.map((m) => m.seq), Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it('maps SQL errors to typed StoreErrors with readable messages, and changes nothing', async () => {
    const s = await store.rpc('create_session');
    const before = await store.stats();
    const cases: Array<[string, Record<string, unknown>, StoreError['kind'], RegExp]> = [
      ['get_session', { p_session_id: '00000000-0000-0000-0000-000000000001' }, 'not_found', /session not found/],
      ['append_message', { p_session_id: s.id, p_role: 'user', p_content: 'x'.repeat(1048577) }, 'invalid_input', /over 1 MiB/],
      ['append_message', { p_session_id: s.id, p_role: 'wizard', p_content: 'x' }, 'invalid_input', /role must be/],
      ['get_session', { p_session_id: 'not-a-uuid' }, 'invalid_input', /invalid input syntax for type uuid/],
      ['create_session', { p_visibility: 'team' }, 'permission_denied', /only team projects can have team sessions/],
      ['no_such_function', {}, 'not_found', /no function public\.no_such_function/],
      ['get_session; drop table x', {}, 'invalid_input', /Not a function name/],
      ['get_session', { p_sessionid: s.id }, 'invalid_input', /has no argument p_sessionid/],
    ];
    for (const [fn, args, kind, message] of cases) await expectStoreError(rpcUntyped(store, fn, args), kind, message);
    assert.deepEqual((await store.stats()).tables, before.tables);
  });

  it('does not start a call whose signal is already aborted', async () => {
    const before = (await store.stats()).tables.sessions;
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(store.rpc('create_session', {}, { signal: ac.signal }), { name: 'AbortError' });
    assert.equal((await store.stats()).tables.sessions, before);
  });

  it('reports row counts of every public table and the database size', async () => {
    const before = (await store.stats()).tables.sessions!;
    await store.rpc('create_session');
    const stats = await store.stats();
    for (const t of ['profiles', 'teams', 'team_members', 'projects', 'agents', 'tasks', 'sessions', 'messages', 'kb_sources', 'kb_chunks']) {
      assert.equal(typeof stats.tables[t], 'number', `count of ${t}`);
    }
    assert.equal(stats.tables.sessions, before + 1);
    assert.ok(stats.tables.profiles! >= 1, 'the local user has a profile');
    assert.ok(stats.bytes !== null && stats.bytes > 1_000_000);
  });

  it('delivers changes the local user can see, and not those of rows it cannot', async () => {
    const events: ChangeEvent[] = [];
    const unsubscribe = await store.onChange((e) => events.push(e));
    const mine = await store.rpc('create_session', { p_title: 'mine' });
    // Another user's private session, created directly as the owner of the database.
    const other = await store.asOwner(async (tx) => {
      const uid = (await tx.query<{ id: string }>(
        `insert into auth.users (id, aud, role, email) values (gen_random_uuid(), 'authenticated', 'authenticated', 'other@example.test') returning id`,
      )).rows[0]!.id;
      return (await tx.query<{ id: string }>(`insert into public.sessions (owner_id, title) values ($1, 'theirs') returning id`, [uid])).rows[0]!.id;
    });
    await store.asOwner(async (tx) => {
      for (const id of [mine.id, other]) {
        await tx.query(`select pg_notify('cairn_changes', $1)`, [JSON.stringify({ table: 'sessions', op: 'UPDATE', record: { id } })]);
      }
      await tx.query(`select pg_notify('cairn_changes', 'not json')`);
    });
    await waitFor(() => events.some((e) => e.record.id === mine.id && e.op === 'UPDATE'));
    await store.stats(); // one more trip through the queue, so a wrongly delivered event would have arrived
    assert.ok(!events.some((e) => e.record.id === other), 'another user\'s private session leaked into the change feed');
    await unsubscribe();
    const before = events.length;
    await store.asOwner((tx) => tx.query(`select pg_notify('cairn_changes', $1)`, [JSON.stringify({ table: 'sessions', op: 'UPDATE', record: { id: mine.id } })]));
    await store.stats();
    assert.equal(events.length, before, 'no events after unsubscribing');
  });

  it("streams the migrations' change triggers: a posted message, a finished reply, a deleted session", async () => {
    const events: ChangeEvent[] = [];
    await store.onChange((e) => events.push(e));
    const s = await store.rpc('create_session', { p_title: 'live' });
    const m = await store.rpc('append_message', { p_session_id: s.id, p_role: 'assistant', p_content: '', p_status: 'streaming' });
    await store.rpc('update_message', { p_message_id: m.id, p_content: 'done', p_status: 'complete' });
    await store.rpc('delete_session', { p_session_id: s.id });
    await waitFor(() => events.some((e) => e.table === 'sessions' && e.op === 'DELETE'));
    const seen = events.map((e) => `${e.table} ${e.op} ${String(e.record.id)}`);
    for (const want of [`sessions INSERT ${s.id}`, `messages INSERT ${m.id}`, `messages UPDATE ${m.id}`, `sessions DELETE ${s.id}`]) {
      assert.ok(seen.includes(want), `missing "${want}" in ${JSON.stringify(seen)}`);
    }
    const posted = events.find((e) => e.table === 'messages' && e.op === 'INSERT')!;
    assert.equal(posted.record.session_id, s.id, 'message events carry their session for routing');
    assert.ok(!JSON.stringify(events).includes('done'), 'events carry ids, never content');
  });
});

async function waitFor(cond: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
