/** `cairn restore <file>`: recreates the embedded database from a backup, into a home that has none. */
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { cairnHome } from '../../config.js';
import { findRunningDaemon } from '../../protocol/client/discovery.js';
import { EmbeddedStore } from '../../store/embedded.js';
import { StoreError } from '../../store/types.js';
import { CliError, type CliCommand } from '../command.js';

export const command: CliCommand = {
  name: 'restore',
  summary: 'Restore a backup into an empty CAIRN_HOME (the daemon must not be running).',
  usage: 'cairn restore <file> [--json]',
  inProcess: 'it creates the data directory a daemon would hold open, so it runs only where no daemon runs.',
  async run(ctx) {
    if (ctx.args.length !== 1) throw new CliError('usage: cairn restore <file>', 2);
    if (ctx.env.CAIRN_DATABASE_URL) throw new CliError('restore works on the embedded store; with CAIRN_DATABASE_URL use pg_restore');
    const file = resolve(ctx.cwd, ctx.args[0]!);
    if (!existsSync(file)) throw new CliError(`no such file: ${file}`);
    const home = cairnHome(ctx.env);
    const running = await findRunningDaemon(home);
    if (running) throw new CliError(`a daemon is running for ${home} (pid ${running.pid}); restore needs an empty home: run cairn stop and use a new CAIRN_HOME`);
    await assertBackupImage(file);
    try {
      await EmbeddedStore.restore(file, home);
    } catch (err) {
      if (err instanceof StoreError) throw new CliError(err.message);
      throw err;
    }
    ctx.stdout(ctx.json ? JSON.stringify({ restored: file, home }) : `restored ${file} into ${home}`);
    return 0;
  },
};

/**
 * A backup is a gzipped tar of the data directory. Checked here because PGlite's loader fails on a bad
 * image with an exception outside any promise, which would kill the CLI with a stack trace.
 */
async function assertBackupImage(file: string): Promise<void> {
  const notBackup = (why: string) => new CliError(`${file} is not a Cairn backup (${why})`);
  let tar: Buffer;
  try {
    tar = gunzipSync(await readFile(file));
  } catch {
    throw notBackup('not gzip data');
  }
  if (tar.subarray(257, 262).toString('latin1') !== 'ustar') throw notBackup('not a tar archive');
}
