// The Postgres-URL store through the real `pg` driver, against PGlite served on 127.0.0.1 by pglite-socket.
// That server shares ONE backend session between connections and its LISTEN/NOTIFY does not work, so the
// store runs with a pool of 1 and the change feed (LISTEN) is not exercised here.
import assert from 'node:assert/strict';
import type { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { createPGlite } from '../../daemon/src/store/embedded.js';
import { openStore } from '../../daemon/src/store/index.js';
import { PostgresStore } from '../../daemon/src/store/postgres.js';
import { expectStoreError, tempHome } from '../support/db.js';

describe('PostgresStore over a socket (pglite-socket)', function () {
  this.timeout(120_000);
  let db: PGlite;
  let server: PGLiteSocketServer;
  let url: string;
  let home: Awaited<ReturnType<typeof tempHome>>;

  before(async () => {
    // A bare PGlite: the store must bootstrap it (no auth schema yet) and apply every migration over pg.
    db = await createPGlite();
    server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0 });
    await server.start();
    url = `postgresql://postgres:postgres@${server.getServerConn()}/postgres`;
    home = await tempHome();
  });
  after(async () => {
    await server.stop();
    await db.close();
    await home.cleanup();
  });

  it('bootstraps and migrates a plain Postgres, then acts as its local user under RLS', async () => {
    const store = await PostgresStore.open(url, home.home, { maxConnections: 1 });
    try {
      assert.equal(store.mode, 'postgres');
      const status = await store.schemaStatus();
      assert.deepEqual(status.pending, []);
      assert.equal(status.applied, status.expected);
      const session = await store.rpc('create_session', { p_title: 'Over TCP' });
      assert.equal(session.owner_id, store.user().id);
      const m = await store.rpc('append_message', { p_session_id: session.id, p_role: 'user', p_content: 'hi', p_metadata: { a: [1] } });
      assert.equal(m.seq, 1);
      const listed = await store.rpc('list_sessions');
      assert.deepEqual(listed.map((s) => s.id), [session.id]);
      await expectStoreError(store.rpc('get_session', { p_session_id: '00000000-0000-0000-0000-000000000002' }), 'not_found', /session not found/);
      await expectStoreError(store.rpc('append_message', { p_session_id: session.id, p_role: 'user', p_content: 'x'.repeat(1048577) }), 'invalid_input', /over 1 MiB/);
      const stats = await store.stats();
      assert.equal(stats.tables.messages, 1);
      assert.ok(stats.bytes && stats.bytes > 0);
    } finally {
      await store.close();
    }
  });

  it('opens an already-migrated database without reapplying anything, through openStore and CAIRN_DATABASE_URL', async () => {
    const before = (await db.query<{ n: number }>('select count(*)::int as n from supabase_migrations.schema_migrations')).rows[0]!.n;
    const store = await openStore(home.home, { CAIRN_DATABASE_URL: url });
    try {
      assert.equal(store.mode, 'postgres');
      assert.equal((await store.rpc('list_sessions')).length, 1, 'same local user, same data');
    } finally {
      await store.close();
    }
    const after = (await db.query<{ n: number }>('select count(*)::int as n from supabase_migrations.schema_migrations')).rows[0]!.n;
    assert.equal(after, before);
  });

  it('says which server it could not reach, without the password', async () => {
    const closed = 'postgresql://postgres:s3cret@127.0.0.1:1/postgres';
    const err = await expectStoreError(PostgresStore.open(closed, home.home, { maxConnections: 1 }), 'unavailable', /Cannot reach/);
    assert.ok(!err.message.includes('s3cret'));
  });
});
