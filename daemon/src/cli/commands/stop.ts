/** `cairn stop`: asks the running daemon to shut down and waits until its process is gone. */
import { cairnHome } from '../../config.js';
import { DaemonClient } from '../../protocol/client/client.js';
import { findRunningDaemon, isProcessAlive } from '../../protocol/client/discovery.js';
import { CliError, type CliCommand } from '../command.js';

export const command: CliCommand = {
  name: 'stop',
  summary: 'Stop the running daemon (in-flight writes finish first).',
  usage: 'cairn stop [--json]',
  async run(ctx) {
    if (ctx.args.length > 0) throw new CliError('cairn stop takes no arguments', 2);
    const info = await findRunningDaemon(cairnHome(ctx.env));
    if (!info) {
      ctx.stdout(ctx.json ? JSON.stringify({ stopped: false, pid: null }) : 'no daemon is running');
      return 0;
    }
    // Not ctx.connect(): stopping must never start a daemon.
    const client = await DaemonClient.connect(info);
    try {
      await client.request('shutdown', {});
    } finally {
      await client.close().catch(() => undefined);
    }
    const deadline = Date.now() + 30_000;
    while (isProcessAlive(info.pid)) {
      if (Date.now() > deadline) throw new CliError(`the daemon (pid ${info.pid}) did not exit within 30 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
    ctx.stdout(ctx.json ? JSON.stringify({ stopped: true, pid: info.pid }) : `stopped the daemon (pid ${info.pid})`);
    return 0;
  },
};
