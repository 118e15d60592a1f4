/**
 * `cairn backup` while the daemon runs and `cairn restore` into an empty home: every row of every table
 * survives the round trip (row counts and checksums per table), and the restored daemon shows the same
 * sessions to the same local user.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedStore } from '../../daemon/src/store/embedded.js';
import { connectWs, makeHome, migratedHome, removeHome, runCli, startDaemon, stopDaemon, testEnv } from '../support/daemon.js';

/** Row count and an md5 of every row's text, per table of `public` and `auth.users`, read as the owner. */
async function tableChecksums(home: string): Promise<Record<string, { rows: number; md5: string }>> {
  const store = await EmbeddedStore.open(home);
  try {
    return await store.asOwner(async (tx) => {
      const { rows: tables } = await tx.query<{ name: string }>(
        `select format('%I.%I', table_schema, table_name) as name from information_schema.tables
          where (table_schema = 'public' or (table_schema = 'auth' and table_name = 'users')) and table_type = 'BASE TABLE'
          order by 1`,
      );
      const out: Record<string, { rows: number; md5: string }> = {};
      for (const { name } of tables) {
        const { rows } = await tx.query<{ n: number; md5: string }>(
          `select count(*)::int as n, coalesce(md5(string_agg(t::text, '|' order by t::text)), '') as md5 from ${name} t`,
        );
        out[name] = { rows: rows[0]!.n, md5: rows[0]!.md5 };
      }
      return out;
    });
  } finally {
    await store.close();
  }
}

/** `dir` and the paths under it that anyone but the owner may read, write or enter. */
async function notOwnerOnly(dir: string): Promise<string[]> {
  const top = await stat(dir);
  const loose = (top.mode & 0o077) !== 0 ? [dir] : [];
  if (!top.isDirectory()) return loose;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const p = join(e.parentPath, e.name);
    if (((await stat(p)).mode & 0o077) !== 0) loose.push(p);
  }
  return loose;
}

describe('backup and restore', function () {
  this.timeout(300_000);
  let home: string;
  let target: string;
  let workspace: string;
  let file: string;

  before(async () => {
    home = await migratedHome();
    target = await makeHome('cairn-restore-');
    workspace = await mkdtemp(join(tmpdir(), 'cairn-bk-ws-'));
    file = join(await mkdtemp(join(tmpdir(), 'cairn-bk-')), 'snapshot.tar.gz');
  });

  after(async () => {
    for (const h of [home, target]) {
      await runCli(['stop'], testEnv(h));
      await removeHome(h);
    }
    await rm(workspace, { recursive: true, force: true });
    await rm(join(file, '..'), { recursive: true, force: true });
  });

  it('round-trips every row of every table', async () => {
    const d = await startDaemon(home);
    const conn = await connectWs(d.info);
    const sessionIds: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await conn.call('sessions/create', { root: workspace, title: `session ${i} — ünïcødé` });
      assert.ok(r.result, JSON.stringify(r));
      sessionIds.push(r.result.id);
    }
    assert.ok((await conn.call('teams/create', { name: 'Backup Team' })).result);
    assert.ok((await conn.call('kb/addFaq', { root: workspace, question: 'How do we back up?', answer: 'With cairn backup, while the daemon runs.' })).result);
    assert.ok((await conn.call('tasks/create', { root: workspace, title: 'restore drill' })).result);
    await conn.close();

    const backup = await runCli(['backup', file, '--json'], testEnv(home));
    assert.equal(backup.code, 0, backup.stderr);
    const out = JSON.parse(backup.stdout);
    assert.equal(out.file, file);
    assert.ok(out.bytes > 100_000);

    await stopDaemon(d);
    // The database and the backup are owner-only (PGlite alone writes its files 0666).
    assert.deepEqual(await notOwnerOnly(join(home, 'db')), []);
    assert.deepEqual(await notOwnerOnly(file), []);
    const before = await tableChecksums(home);
    assert.equal(before['public.sessions']?.rows, 5);
    assert.ok((before['public.kb_chunks']?.rows ?? 0) > 0);
    assert.ok((before['public.audit_log']?.rows ?? 0) > 0);

    const restore = await runCli(['restore', file, '--json'], testEnv(target));
    assert.equal(restore.code, 0, restore.stderr);
    assert.deepEqual(JSON.parse(restore.stdout), { restored: file, home: target });

    const after = await tableChecksums(target);
    assert.deepEqual(after, before);
    assert.deepEqual(await notOwnerOnly(join(target, 'db')), []);

    // The restored home's daemon shows the same sessions to its local user.
    const r = await startDaemon(target);
    const c = await connectWs(r.info);
    const list = await c.call('sessions/list', { root: workspace, limit: 50 });
    assert.deepEqual(list.result.sessions.map((s: { id: string }) => s.id).sort(), [...sessionIds].sort());
    await c.close();
    await stopDaemon(r);
  });

  it('refuses to restore into a home that already has a database', async () => {
    const r = await runCli(['restore', file], testEnv(target));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /already holds a database/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  it('refuses to restore while a daemon runs for that home', async () => {
    const d = await startDaemon(target);
    const r = await runCli(['restore', file], testEnv(target));
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`a daemon is running .*pid ${d.pid}`));
    await stopDaemon(d);
  });

  it('refuses a file that is not a backup, leaving the home empty', async () => {
    const empty = await makeHome();
    try {
      const r = await runCli(['restore', join(import.meta.dirname, 'backup.test.ts')], testEnv(empty));
      assert.equal(r.code, 1);
      assert.match(r.stderr, /not a Cairn backup/);
      assert.equal(existsSync(join(empty, 'db')), false);
    } finally {
      await removeHome(empty);
    }
  });
});
