/**
 * The store factory the daemon calls at start: a Postgres URL in `CAIRN_DATABASE_URL` selects the Postgres
 * store, otherwise the embedded PGlite database in `$CAIRN_HOME/db`. (Team mode's Supabase store is created
 * on sign-in, not here.)
 */
import type { Store } from './types.js';

export async function openStore(home: string, env: NodeJS.ProcessEnv = process.env): Promise<Store> {
  const url = env.CAIRN_DATABASE_URL;
  if (url && url.length > 0) {
    const { PostgresStore } = await import('./postgres.js');
    return PostgresStore.open(url, home);
  }
  // Loaded on demand so a Postgres-only daemon never loads the PGlite WASM.
  const { EmbeddedStore } = await import('./embedded.js');
  return EmbeddedStore.open(home);
}
