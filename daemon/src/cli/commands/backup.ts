/** `cairn backup <file>`: a consistent snapshot of the embedded database, taken by the running daemon. */
import { resolve } from 'node:path';
import { CliError, type CliCommand } from '../command.js';

export const command: CliCommand = {
  name: 'backup',
  summary: 'Write a consistent snapshot of the embedded database to <file> (the daemon keeps running).',
  usage: 'cairn backup <file> [--json]',
  async run(ctx) {
    if (ctx.args.length !== 1) throw new CliError('usage: cairn backup <file>', 2);
    const file = resolve(ctx.cwd, ctx.args[0]!);
    const client = await ctx.connect();
    const r = await client.request('daemon/backup', { file });
    ctx.stdout(ctx.json ? JSON.stringify(r) : `backed up to ${r.file} (${r.bytes} bytes)`);
    return 0;
  },
};
