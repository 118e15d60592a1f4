/**
 * The store for any Postgres URL (`CAIRN_DATABASE_URL`), through `pg`: the same bootstrap (when the database
 * has no `auth` schema), the same migrations, the same acting-user transactions as the embedded store, and
 * LISTEN/NOTIFY on a dedicated connection for the change feed.
 */
import pg from 'pg';
import { ensureLocalUser } from './local-user.js';
import { applyMigrations, bootstrapIfNeeded, findMigrationsDir } from './migrate.js';
import { CHANGES_CHANNEL, toStoreError, type SqlDb, type SqlTx } from './sql.js';
import { SqlApiStore } from './sql-store.js';
import { StoreError, type ChangeEvent, type StoreUser } from './types.js';

export interface PostgresOptions {
  /** Defaults to the shipped `supabase/migrations`. */
  migrationsDir?: string;
  /** Pool size (default 4). A pglite-socket server shares one backend session, so it needs 1. */
  maxConnections?: number;
}

function clientTx(client: pg.ClientBase): SqlTx {
  return {
    query: async <T>(text: string, params?: unknown[]) => {
      const r = await client.query(text, params as unknown[] | undefined);
      return { rows: r.rows as T[] };
    },
    exec: (text: string) => client.query(text),
  };
}

function poolDb(pool: pg.Pool): SqlDb {
  return {
    async transaction(fn) {
      const client = await pool.connect();
      let broken = false;
      try {
        await client.query('begin');
        const result = await fn(clientTx(client));
        await client.query('commit');
        return result;
      } catch (err) {
        await client.query('rollback').catch(() => {
          broken = true;
        });
        throw err;
      } finally {
        client.release(broken);
      }
    },
  };
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the database URL';
  }
}

export class PostgresStore extends SqlApiStore {
  readonly mode = 'postgres' as const;
  private readonly inFlight = new Set<Promise<unknown>>();
  private listenClient: pg.Client | null = null;
  private readonly listeners = new Set<(payload: string) => void>();

  private constructor(
    private readonly url: string,
    private readonly pool: pg.Pool,
    sql: SqlDb,
    localUser: StoreUser,
    migrationsDir: string,
  ) {
    super(sql, localUser, migrationsDir);
  }

  /** Connects, bootstraps a plain Postgres, applies pending migrations and ensures the local user. */
  static async open(url: string, home: string, opts: PostgresOptions = {}): Promise<PostgresStore> {
    const pool = new pg.Pool({ connectionString: url, max: opts.maxConnections ?? 4 });
    // An idle client losing its connection must not crash the daemon; the next query reports it.
    pool.on('error', () => undefined);
    const sql = poolDb(pool);
    try {
      const migrationsDir = opts.migrationsDir ?? findMigrationsDir();
      await bootstrapIfNeeded(sql);
      await applyMigrations(sql, migrationsDir);
      const user = await ensureLocalUser(home, sql);
      return new PostgresStore(url, pool, sql, user, migrationsDir);
    } catch (err) {
      await pool.end().catch(() => undefined);
      const e = toStoreError(err);
      if (e instanceof StoreError && e.kind === 'unavailable') {
        throw new StoreError('unavailable', `Cannot reach ${redact(url)}: ${e.message}`);
      }
      throw e;
    }
  }

  /** Runs `work` on the pool and tracks it, so close() waits for it. */
  /** A pool runs calls at once: background work need not wait for requests. */
  override whenIdle(): Promise<void> {
    return Promise.resolve();
  }

  protected schedule<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new StoreError('unavailable', 'The store is closed.'));
    const p = work();
    this.inFlight.add(p);
    p.then(
      () => this.inFlight.delete(p),
      () => this.inFlight.delete(p),
    );
    return p;
  }

  async onChange(listener: (event: ChangeEvent) => void): Promise<() => Promise<void>> {
    const onPayload = this.visibleChanges(listener);
    if (!this.listenClient) {
      const client = new pg.Client({ connectionString: this.url });
      client.on('error', () => undefined);
      client.on('notification', (msg) => {
        if (msg.channel !== CHANGES_CHANNEL || msg.payload === undefined) return;
        for (const l of this.listeners) l(msg.payload);
      });
      try {
        await client.connect();
        await client.query(`listen ${CHANGES_CHANNEL}`);
      } catch (err) {
        await client.end().catch(() => undefined);
        throw toStoreError(err);
      }
      this.listenClient = client;
    }
    this.listeners.add(onPayload);
    return async () => {
      this.listeners.delete(onPayload);
    };
  }


  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
    this.listeners.clear();
    await this.listenClient?.end().catch(() => undefined);
    await this.pool.end();
  }
}
