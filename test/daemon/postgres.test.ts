/**
 * The daemon and CLI on a Postgres URL (`CAIRN_DATABASE_URL`) instead of the embedded database, against
 * PGlite served over TCP by pglite-socket: `cairn migrate` bootstraps and migrates it, the daemon reports
 * the `postgres` store, and embedded-only operations explain themselves.
 */
import assert from 'node:assert/strict';
import type { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { createPGlite } from '../../daemon/src/store/embedded.js';
import { connectWs, makeHome, removeHome, runCli, startDaemon, stopDaemon, testEnv } from '../support/daemon.js';

describe('daemon on a Postgres URL', function () {
  this.timeout(240_000);
  let db: PGlite;
  let server: PGLiteSocketServer;
  let home: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    db = await createPGlite();
    server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 16 });
    await server.start();
    home = await makeHome();
    env = testEnv(home, { CAIRN_DATABASE_URL: `postgresql://postgres:postgres@${server.getServerConn()}/postgres` });
  });

  after(async () => {
    await server.stop();
    await db.close();
    await removeHome(home);
  });

  it('cairn migrate applies every migration to the database at the URL', async () => {
    const r = await runCli(['migrate', '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.store, 'postgres');
    assert.deepEqual(doc.pending, []);
    const { rows } = await db.query<{ v: string }>('select max(version) as v from supabase_migrations.schema_migrations');
    assert.equal(doc.schemaVersion, rows[0]!.v);
  });

  it('the daemon serves the postgres store, and backup says it is for the embedded store', async () => {
    const d = await startDaemon(home, { env });
    try {
      const conn = await connectWs(d.info);
      const init = await conn.call('initialize', { clientName: 'pg-test' });
      assert.equal(init.result.store, 'postgres');
      const backup = await conn.call('daemon/backup', { file: '/tmp/never-written.tar.gz' });
      assert.equal(backup.error.code, -31913);
      assert.match(backup.error.message, /embedded store/);
      await conn.close();
      const cli = await runCli(['restore', '/tmp/whatever.tar.gz'], env);
      assert.equal(cli.code, 1);
      assert.match(cli.stderr, /restore works on the embedded store/);
    } finally {
      await stopDaemon(d);
    }
  });
});
