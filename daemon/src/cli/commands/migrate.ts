/**
 * `cairn migrate`: applies pending migrations to the embedded database or a CAIRN_DATABASE_URL. The daemon owns
 * the database and applies pending migrations when it opens it, so this asks the daemon (`daemon/status`):
 * the running one, or, when none runs, one started for this command alone and stopped after it. In team mode
 * the Supabase CLI owns migrations (`supabase db push`), so this explains that instead.
 */
import { cairnHome } from '../../config.js';
import { findRunningDaemon } from '../../protocol/client/discovery.js';
import { CliError, type CliCommand } from '../command.js';

export const command: CliCommand = {
  name: 'migrate',
  summary: 'Apply pending database migrations (embedded or CAIRN_DATABASE_URL; team mode uses `supabase db push`).',
  usage: 'cairn migrate [--json]',
  async run(ctx) {
    if (ctx.args.length > 0) throw new CliError('cairn migrate takes no arguments', 2);
    const home = cairnHome(ctx.env);
    const running = await findRunningDaemon(home);
    // A daemon started here only to open the database (which applies every pending migration, each in its own
    // transaction) is stopped again: migrate leaves no daemon behind that was not there.
    const daemon = running ? { client: await ctx.connect(), stop: async () => undefined } : await ctx.startPrivateDaemon(home, ctx.env);
    let result: { store: string; schemaVersion: string | null; pending: string[] };
    try {
      const s = await daemon.client.request('daemon/status', {});
      result = { store: s.store, schemaVersion: s.schemaVersion, pending: s.pendingMigrations };
    } finally {
      await daemon.stop();
    }
    if (result.store === 'supabase') throw new CliError(supabaseHint);
    if (result.pending.length > 0) {
      throw new CliError(
        running
          ? `the running daemon (pid ${running.pid}) is older than ${result.pending.length} migration(s); run cairn stop, then cairn migrate`
          : `${result.pending.length} migration(s) are still pending after the daemon opened the database: ${result.pending.join(', ')}`,
      );
    }
    ctx.stdout(ctx.json ? JSON.stringify(result) : `${result.store} database is at schema ${result.schemaVersion ?? 'none'}; nothing pending`);
    return 0;
  },
};

const supabaseHint =
  'team mode: migrations are applied to Supabase by the Supabase CLI; run `npm run supabase:migrate:up` (supabase db push) in the repository';
