/** `cairn daemon [--stdio]`: runs the daemon in the foreground. */
import { runDaemon } from '../../host/run.js';
import { CliError, type CliCommand } from '../command.js';

export const command: CliCommand = {
  name: 'daemon',
  summary: 'Run the daemon in the foreground (--stdio: also speak JSON-RPC on stdin/stdout, one message per line).',
  usage: 'cairn daemon [--stdio]',
  inProcess: 'it is the daemon.',
  async run(ctx) {
    if (ctx.args.length > 0) throw new CliError(`cairn daemon takes no arguments (got ${ctx.args.join(' ')})`, 2);
    return runDaemon({ stdio: ctx.flags.stdio === true, env: ctx.env });
  },
};
