/** `cairn status`: versions, store, process and user of the daemon (started if needed). */
import { CliError, type CliCommand } from '../command.js';

export const command: CliCommand = {
  name: 'status',
  summary: 'Show the daemon: version, protocol and schema versions, store, pid, port and user (starts it if needed).',
  usage: 'cairn status [--json]',
  async run(ctx) {
    if (ctx.args.length > 0) throw new CliError('cairn status takes no arguments', 2);
    const client = await ctx.connect();
    const s = await client.request('daemon/status', {});
    if (ctx.json) {
      ctx.stdout(
        JSON.stringify({
          version: s.version,
          protocolVersion: s.protocolVersion,
          schemaVersion: s.schemaVersion,
          store: s.store,
          pid: s.pid,
          port: s.port,
          user: s.user,
        }),
      );
      return 0;
    }
    ctx.stdout(
      [
        `cairn daemon ${s.version} (protocol ${s.protocolVersion})`,
        `  store:    ${s.store}, schema ${s.schemaVersion ?? 'none'}${s.pendingMigrations.length ? `, ${s.pendingMigrations.length} migrations pending` : ''}`,
        `  user:     ${s.user ? `${s.user.email ?? '(no email)'} ${s.user.id}` : 'not signed in'}`,
        `  process:  pid ${s.pid}, 127.0.0.1:${s.port ?? '-'}, up ${Math.round(s.uptimeSeconds)} s, ${s.connections} connection(s)`,
        `  home:     ${s.home}`,
      ].join('\n'),
    );
    return 0;
  },
};
