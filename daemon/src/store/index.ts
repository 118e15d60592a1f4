/**
 * The store factory the daemon calls at start: a Postgres URL in `CAIRN_DATABASE_URL` selects the Postgres
 * store, otherwise the embedded PGlite database in `$CAIRN_HOME/db`. (Team mode's Supabase store is created
 * on sign-in, not here.)
 */
import type { Store } from './types.js';

export async function openStore(home: string, env: NodeJS.ProcessEnv = process.env): Promise<Store> {
  const awake = keepLoopAlive();
  try {
    return await openStoreNow(home, env);
  } finally {
    clearInterval(awake);
  }
}

/**
 * A ref'd timer while the store opens. Nothing else keeps the event loop alive at that point (no socket is
 * listening yet), and when Node finds its loop empty between two awaits it drains V8's background tasks
 * before going on (NodePlatform::DrainTasks): here, the optimizing compile of PGlite's whole WASM module,
 * which kept the open waiting 0.9-2.8 s for work it does not need (bench/startup.bench.ts shows the change).
 */
function keepLoopAlive(): NodeJS.Timeout {
  return setInterval(() => undefined, 60_000);
}

async function openStoreNow(home: string, env: NodeJS.ProcessEnv): Promise<Store> {
  const url = env.CAIRN_DATABASE_URL;
  if (url && url.length > 0) {
    const { PostgresStore } = await import('./postgres.js');
    return PostgresStore.open(url, home);
  }
  // Loaded on demand so a Postgres-only daemon never loads the PGlite WASM.
  const { EmbeddedStore } = await import('./embedded.js');
  return EmbeddedStore.open(home);
}
