/**
 * Start-up: a new home starts from the data dir prepared by `npm run build` when it fits the
 * shipped migrations (and falls back to initdb when it does not), and the daemon answers `initialize` before
 * the long store work it starts at boot (the sweep of replies a crash left streaming) has finished.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPGlite, EmbeddedStore } from '../../daemon/src/store/embedded.js';
import { LOCAL_USER_EMAIL, readLocalUserId } from '../../daemon/src/store/local-user.js';
import { findMigrationsDir, findShipped } from '../../daemon/src/store/migrate.js';
import { migrationDigests, PREPARED_FORMAT, preparedImage, unfitReason, unpackImage, unpackingDir, type PreparedManifest } from '../../daemon/src/store/prepared.js';
import { dumpMigrations, dumpSchema } from '../support/schema-dump.js';
import { connectWs, migratedHome, ok, readLog, removeHome, startDaemon, stopDaemon, type Json } from '../support/daemon.js';

const STREAMING_REPLIES = 60;

describe('daemon start-up', function () {
  this.timeout(240_000);
  const cleanup: string[] = [];
  after(async () => {
    for (const dir of cleanup) await rm(dir, { recursive: true, force: true });
  });

  it('answers initialize before the sweep of replies a crash left streaming has run, then finds them failed', async () => {
    const home = await migratedHome();
    cleanup.push(home);
    // A crash left many replies streaming.
    const store = await EmbeddedStore.open(home);
    let sessionId: string;
    try {
      sessionId = (await store.rpc('create_session', { p_title: 'crashed' })).id;
      for (let i = 0; i < STREAMING_REPLIES; i++) {
        await store.rpc('append_message', { p_session_id: sessionId, p_role: 'assistant', p_content: `partial ${i}`, p_status: 'streaming' });
      }
    } finally {
      await store.close();
    }

    const d = await startDaemon(home);
    try {
      const conn = await connectWs(d.info);
      const init = (await conn.call('initialize', { clientName: 'startup-test' })) as Json;
      assert.equal(init.error, undefined);
      // The next request runs after the sweep: every reply the crash left is failed, none still streaming.
      const got = await ok(conn, 'sessions/get', { sessionId, limit: 500 });
      const statuses = new Set((got.messages as Json[]).map((m) => m.status));
      assert.deepEqual([...statuses], ['failed']);
      conn.close();

      // The daemon's own log orders it: the first initialize was answered, then the sweep began and ended.
      const lines = (await readLog(home)).trim().split('\n').map((l) => JSON.parse(l) as Json);
      const began = lines.findIndex((l) => String(l.msg).startsWith('start-up work begins'));
      const swept = lines.findIndex((l) => l.msg === 'chat: replies interrupted by the last shutdown marked failed');
      const ready = lines.findIndex((l) => l.msg === 'daemon ready');
      assert.ok(began >= 0 && swept >= 0, 'the log names the deferred start-up work');
      assert.equal(lines[began].msg, 'start-up work begins: initialize answered');
      assert.ok(ready < began && began < swept, `ready ${ready} < initialize answered ${began} < sweep ${swept}`);
      assert.equal(lines[swept].count, STREAMING_REPLIES);
    } finally {
      await stopDaemon(d);
    }
  });

  it('starts a new home from the prepared data dir and applies the migrations that follow it', async function () {
    if (!existsSync(findShipped(join('dist', 'pgdata.json')))) this.skip(); // made by npm run build
    const root = await mkdtemp(join(tmpdir(), 'cairn-startup-'));
    cleanup.push(root);
    const migrations = join(root, 'migrations');
    cpSync(findMigrationsDir(), migrations, { recursive: true });
    writeFileSync(join(migrations, '29991231000000_after_the_build.sql'), 'create table public.after_the_build (id int);\n');
    const home = join(root, 'home');
    const store = await EmbeddedStore.open(home, { migrationsDir: migrations });
    try {
      const { steps, ...opened } = store.opened ?? {};
      assert.deepEqual(opened, { fresh: true, from: 'prepared', appliedMigrations: 1 });
      assert.ok(steps && steps.engine! >= 0, 'the open reports how long each step took');
      const rows = await store.asOwner((tx) => tx.query<{ n: number }>(`select count(*)::int as n from public.after_the_build`));
      assert.equal(rows.rows[0]!.n, 0);
      assert.equal((await store.schemaStatus()).pending.length, 0);
    } finally {
      await store.close();
    }
    await removeHome(home);
  });

  it('unpacks the prepared data dir into exactly the schema the migrations make', async function () {
    const prepared = preparedImage(findMigrationsDir());
    if (!prepared.image) this.skip(); // made by npm run build
    const root = await mkdtemp(join(tmpdir(), 'cairn-startup-'));
    cleanup.push(root);
    const dataDir = join(root, 'db');
    unpackImage(prepared.image, dataDir);
    const db = await createPGlite({ dataDir });
    let unpacked: string;
    try {
      unpacked = await dumpSchema(db);
    } finally {
      await db.close();
    }
    assert.equal(unpacked, await dumpMigrations(findMigrationsDir()));
  });

  it('starts a home whose first start crashed while unpacking the prepared data dir', async function () {
    if (!preparedImage(findMigrationsDir()).image) this.skip(); // made by npm run build
    const root = await mkdtemp(join(tmpdir(), 'cairn-startup-'));
    cleanup.push(root);
    const home = join(root, 'home');
    // The crash left the data dir empty and half an unpacked image beside it.
    const dataDir = EmbeddedStore.dataDir(home);
    mkdirSync(dataDir, { recursive: true });
    mkdirSync(join(unpackingDir(dataDir), 'base', '5'), { recursive: true });
    writeFileSync(join(unpackingDir(dataDir), 'PG_VERSION'), '18\n');
    const store = await EmbeddedStore.open(home);
    try {
      assert.equal(store.opened?.from, 'prepared');
      assert.equal((await store.schemaStatus()).pending.length, 0);
      const session = await store.rpc('create_session', { p_title: 'after the crash' });
      assert.equal(session.title, 'after the crash');
      // The local user's row, created behind the open, is the one the store acts as and the home records.
      const owner = await store.asOwner((tx) => tx.query<{ id: string }>(`select id::text as id from auth.users where email = $1`, [LOCAL_USER_EMAIL]));
      assert.deepEqual(owner.rows, [{ id: store.user().id }]);
      assert.equal(await readLocalUserId(home), store.user().id);
    } finally {
      await store.close();
    }
    assert.ok(!existsSync(unpackingDir(dataDir)), 'the leftover of the crashed unpack is gone');
  });

  it('gives a new home its local user even when it closes before any call', async function () {
    if (!preparedImage(findMigrationsDir()).image) this.skip(); // made by npm run build
    const root = await mkdtemp(join(tmpdir(), 'cairn-startup-'));
    cleanup.push(root);
    const home = join(root, 'home');
    const first = await EmbeddedStore.open(home);
    const id = first.user().id;
    await first.close();
    assert.equal(await readLocalUserId(home), id);
    const again = await EmbeddedStore.open(home);
    try {
      assert.equal(again.user().id, id);
      assert.equal(again.opened?.steps?.localUser, undefined, 'the reopen finds the user in place');
    } finally {
      await again.close();
    }
  });

  it('does not use a prepared image whose migrations differ from the shipped ones', () => {
    const dir = findMigrationsDir();
    const shipped = migrationDigests(dir);
    const manifest: PreparedManifest = { format: PREPARED_FORMAT, pglite: 'x', bootstrap: 'b', migrations: shipped, image: 'i' };
    assert.equal(unfitReason(manifest, dir, 'b'), null);
    assert.match(unfitReason(manifest, dir, 'other') ?? '', /bootstrap/);
    const edited = shipped.map((m, i) => (i === 3 ? { ...m, sha256: '0'.repeat(64) } : m));
    assert.match(unfitReason({ ...manifest, migrations: edited }, dir, 'b') ?? '', new RegExp(`migration ${shipped[3]!.version}`));
    const folded = [...shipped.slice(0, 2), ...shipped.slice(3)];
    assert.ok(unfitReason({ ...manifest, migrations: folded }, dir, 'b'));
    const extra = [...shipped, { version: '29991231000000', name: 'future', sha256: 'f' }];
    assert.match(unfitReason({ ...manifest, migrations: extra }, dir, 'b') ?? '', /does not ship/);
    // An image of an older format (a dump of a running database) is not used either.
    assert.match(unfitReason({ ...manifest, format: 1 }, dir, 'b') ?? '', /format 1/);
  });
});
