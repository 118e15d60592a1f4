/**
 * `cairn migrate`: applies pending migrations to the embedded database or a CAIRN_DATABASE_URL. In team mode
 * the Supabase CLI owns migrations (`supabase db push`), so this explains that instead.
 */
import { cairnHome } from '../../config.js';
import { DaemonClient } from '../../protocol/client/client.js';
import { findRunningDaemon } from '../../protocol/client/discovery.js';
import { openStore } from '../../store/index.js';
import { CliError, type CliCommand } from '../command.js';

export const command: CliCommand = {
  name: 'migrate',
  summary: 'Apply pending database migrations (embedded or CAIRN_DATABASE_URL; team mode uses `supabase db push`).',
  usage: 'cairn migrate [--json]',
  async run(ctx) {
    if (ctx.args.length > 0) throw new CliError('cairn migrate takes no arguments', 2);
    const home = cairnHome(ctx.env);
    const running = await findRunningDaemon(home);
    let result: { store: string; schemaVersion: string | null; pending: string[] };
    if (running) {
      // The daemon owns the database and applied pending migrations when it started.
      const client = await DaemonClient.connect(running);
      try {
        await client.request('initialize', { clientName: 'cairn-cli' });
        const s = await client.request('daemon/status', {});
        result = { store: s.store, schemaVersion: s.schemaVersion, pending: s.pendingMigrations };
      } finally {
        await client.close().catch(() => undefined);
      }
      if (result.store === 'supabase') throw new CliError(supabaseHint);
      if (result.pending.length > 0) {
        throw new CliError(`the running daemon (pid ${running.pid}) is older than ${result.pending.length} migration(s); run cairn stop, then cairn migrate`);
      }
    } else {
      // Opening the store applies every pending migration in its own transaction.
      const store = await openStore(home, ctx.env);
      try {
        const s = await store.schemaStatus();
        result = { store: store.mode, schemaVersion: s.applied, pending: s.pending };
      } finally {
        await store.close();
      }
    }
    ctx.stdout(ctx.json ? JSON.stringify(result) : `${result.store} database is at schema ${result.schemaVersion ?? 'none'}; nothing pending`);
    return 0;
  },
};

const supabaseHint =
  'team mode: migrations are applied to Supabase by the Supabase CLI; run `npm run supabase:migrate:up` (supabase db push) in the repository';
