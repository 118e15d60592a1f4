/**
 * A full disk reads as one: `DiskFull` (-31915), not `InvalidInput` or "Internal error"; a failed write leaves
 * no partial file; the daemon keeps serving reads. The end-to-end case writes a backup onto a small tmpfs,
 * which needs the right to mount (root here and in CI); elsewhere it skips and says why.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toStoreError } from '../../daemon/src/store/sql.js';
import { StoreError } from '../../daemon/src/store/types.js';
import { connectWs, fails, migratedHome, ok, removeHome, runCli, startDaemon, stopDaemon, testEnv, type DaemonProcess, type RawConnection } from '../support/daemon.js';

/** A fresh directory with a tmpfs of `size` mounted on it, or null (and the suite skipped) without the right to mount. */
async function smallTmpfs(ctx: Mocha.Context, size: string): Promise<string | null> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
    return dir;
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    console.log(`      skipped: cannot mount a small tmpfs here (${(err as Error).message.split('\n')[0]}); needs root`);
    ctx.skip();
    return null;
  }
}

async function unmount(dir: string | null): Promise<void> {
  if (!dir) return;
  execFileSync('umount', [dir]);
  await rm(dir, { recursive: true, force: true });
}

describe('disk full', function () {
  this.timeout(120_000);

  it('maps ENOSPC, SQLSTATE 53100 and PGlite\'s "No space left on device" to disk_full, and nothing else', () => {
    const kinds = [
      Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }),
      Object.assign(new Error('could not extend file "base/5/16384": No space left on device'), { code: '53100' }),
      Object.assign(new Error('could not write to file "pg_wal/xlogtemp.42": No space left on device'), { code: 'XX000' }),
    ].map((e) => (toStoreError(e) as StoreError).kind);
    assert.deepEqual(kinds, ['disk_full', 'disk_full', 'disk_full']);
    assert.equal((toStoreError(Object.assign(new Error('value too long'), { code: '22001' })) as StoreError).kind, 'invalid_input');
  });

  describe('a backup onto a full file system', () => {
    let mnt: string | null = null;
    let home: string;
    let daemon: DaemonProcess;
    let conn: RawConnection;

    before(async function () {
      mnt = await smallTmpfs(this, '256k');
      home = await migratedHome();
      daemon = await startDaemon(home);
      conn = await connectWs(daemon.info);
      await ok(conn, 'initialize', { clientName: 'test' });
      await ok(conn, 'sessions/create', { title: 'kept' });
    });

    after(async () => {
      await conn?.close();
      if (daemon) await stopDaemon(daemon);
      if (home) await removeHome(home);
      await unmount(mnt);
    });

    it('answers DiskFull, leaves no partial file, and keeps serving reads and pings', async () => {
      const err = await fails(conn, 'daemon/backup', { file: join(mnt!, 'cairn.tgz') }, ['DiskFull']);
      assert.match(err.message, /disk is full/i);
      assert.deepEqual(await readdir(mnt!), [], 'no cairn.tgz and no cairn.tgz.partial left behind');
      assert.equal((await ok(conn, 'daemon/ping', {})).pong, true);
      const { sessions } = await ok(conn, 'sessions/list', {});
      assert.deepEqual(sessions.map((s: { title: string }) => s.title), ['kept']);
    });
  });

  describe('a daemon started on a full disk', () => {
    let mnt: string | null = null;

    before(async function () {
      mnt = await smallTmpfs(this, '1m');
      // Fill it: the home gets no room for its database, its lock or its log.
      await writeFile(join(mnt!, 'fill'), Buffer.alloc(1024 * 1024)).catch(() => undefined);
    });

    after(async () => unmount(mnt));

    it('says the disk is full, where, and what to do, instead of "failed to start"', async () => {
      const home = join(mnt!, 'home');
      const r = await runCli(['status'], testEnv(home), { timeoutMs: 60_000 });
      assert.notEqual(r.code, 0, r.stdout);
      assert.match(r.stderr, new RegExp(`disk holding ${home.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is full`), r.stderr);
      assert.match(r.stderr, /free some space/i);
      assert.doesNotMatch(r.stderr, /failed to start/);
    });
  });
});
