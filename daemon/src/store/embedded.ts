/**
 * The default store: PGlite (Postgres in WASM) with pgvector, in `$CAIRN_HOME/db`, owned by one process
 * (a lock file), bootstrapped and migrated at open, used by the single local user through the same RLS as
 * team mode. PGlite has one connection, so every call runs through one queue, in order.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { acquirePidLock, type DirLock } from '../lock/pid-lock.js';
import { ensureLocalUser, LOCAL_USER_EMAIL, readLocalUserId } from './local-user.js';
import { applyMigrations, bootstrapIfNeeded, findMigrationsDir, listMigrations } from './migrate.js';
import { preparedImage, unpackImage, unpackingDir } from './prepared.js';
import { CHANGES_CHANNEL, toStoreError, type SqlDb, type SqlTx } from './sql.js';
import { SqlApiStore } from './sql-store.js';
import { StoreError, type ChangeEvent, type OpenedHow, type SchemaStatus, type StoreUser } from './types.js';

export interface EmbeddedOptions {
  /** Defaults to the shipped `supabase/migrations`. */
  migrationsDir?: string;
  /**
   * A `dumpDataDir` image to start a brand-new data dir from instead of running initdb (tests), loaded by
   * PGlite. Defaults to the data dir prepared at build time when it fits the migrations (prepared.ts, unpacked
   * by the daemon); `null`: initdb.
   */
  template?: Blob | null;
}

/**
 * A backup is the gzipped tar of a data dir (`dumpDataDir('gzip')`). Checked before PGlite sees it: its
 * loader fails on a bad image with an exception outside any promise, which would kill the process.
 */
function assertBackupImage(file: string, bytes: Buffer): void {
  let tar: Buffer;
  try {
    tar = gunzipSync(bytes);
  } catch {
    throw new StoreError('invalid_input', `${file} is not a Cairn backup (not gzip data).`);
  }
  if (tar.subarray(257, 262).toString('latin1') !== 'ustar') {
    throw new StoreError('invalid_input', `${file} is not a Cairn backup (not a tar archive).`);
  }
  if (!tar.includes('PG_VERSION')) throw new StoreError('invalid_input', `${file} is not a Cairn backup (no database in it).`);
}

function isEmptyDir(dir: string): boolean {
  return !existsSync(dir) || readdirSync(dir).length === 0;
}

/**
 * Postgres memory settings inside PGlite, in its WASM heap (bench/startup.bench.ts shows what they change).
 * The defaults are a server's: 128 MB of shared buffers (and 4 MB of WAL buffers) that a single-user
 * database of a few hundred MB fills over a day of indexing and never gives back. 16 MB keeps the hot part of
 * the index cached (search reads a few hundred pages; a miss is a read from the OS page cache): against 32 MB
 * it kept 18 MB less resident after 100 searches with no change in their latency; work_mem stays 4 MB (sorts
 * of a search fit in it), and
 * maintenance_work_mem 64 MB, used only while an HNSW index is built. `CAIRN_PG_MEMORY=default` keeps PGlite's
 * own defaults (for comparison).
 */
export const PG_MEMORY_SETTINGS = ['shared_buffers=16MB', 'wal_buffers=1MB', 'temp_buffers=2MB'];

/** PGlite with the extensions every Cairn database needs. */
export async function createPGlite(opts: { dataDir?: string; loadDataDir?: Blob } = {}): Promise<PGlite> {
  const settings = process.env.CAIRN_PG_MEMORY === 'default' ? [] : PG_MEMORY_SETTINGS;
  return PGlite.create({
    ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
    ...(opts.loadDataDir ? { loadDataDir: opts.loadDataDir } : {}),
    extensions: { vector },
    ...(settings.length ? { startParams: [...PGlite.defaultStartParams, ...settings.flatMap((s) => ['-c', s])] } : {}),
  });
}

/** PGlite as a SqlDb (its transactions are already exclusive). */
export function pgliteDb(db: PGlite): SqlDb {
  return { transaction: (fn) => db.transaction((tx: Transaction) => fn(tx as SqlTx)) };
}

/**
 * Planner statistics. PGlite runs no autovacuum, so without this the planner would never learn how many rows
 * a table holds or how its values spread, and would pick plans for empty tables (a btree walk over every chunk
 * of a project instead of the full-text index). The store runs ANALYZE where autovacuum would: after
 * migrations on tables never analyzed, and, looking at most every ANALYZE_NAPTIME_MS after a write, on each
 * table that autovacuum's default rule picks (more than 50 rows plus 10% of the table changed since its last
 * ANALYZE; a large index batch crosses it, as does a slow trickle of edits).
 */
export const ANALYZE_NAPTIME_MS = 10_000;

const NEVER_ANALYZED = `
  select format('%I.%I', n.nspname, c.relname) as t from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = 'public' and c.relkind = 'r' and c.reltuples < 0`;

const DUE_FOR_ANALYZE = `
  select format('%I.%I', s.schemaname, s.relname) as t from pg_stat_user_tables s
  where s.schemaname = 'public' and s.n_mod_since_analyze > 50 + 0.1 * s.n_live_tup`;

/** The GIN indexes of some tables. */
const GIN_INDEXES_OF = `
  select i.indexrelid::regclass::text as idx from pg_index i
  join pg_class c on c.oid = i.indexrelid join pg_am a on a.oid = c.relam
  where a.amname = 'gin' and i.indrelid = any ($1::regclass[])`;

/**
 * ANALYZEs the tables `query` names; returns them. The activity counters are flushed for the next look. Their
 * GIN indexes' pending lists are merged too, as autovacuum's VACUUM would: new entries wait in a list that
 * every search reads in full (up to 4 MB, gin_pending_list_limit), and the planner, counting those pages,
 * then chose to read every chunk's tsvector rather than the full-text index (over 100 ms per query word at
 * 12,000 chunks, against 1-10 ms).
 */
async function analyzeTables(db: SqlDb, query: string): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.query('select pg_stat_force_next_flush()');
    const tables = (await tx.query<{ t: string }>(query)).rows.map((r) => r.t);
    if (tables.length) {
      await tx.exec(`analyze ${tables.join(', ')}`);
      for (const { idx } of (await tx.query<{ idx: string }>(GIN_INDEXES_OF, [tables])).rows) {
        await tx.query('select gin_clean_pending_list($1::regclass)', [idx]);
      }
    }
    return tables;
  });
}

/** ANALYZEs the tables of `public` that were never analyzed (after migrations: every new table). */
export const analyzeNeverAnalyzed = (db: SqlDb) => analyzeTables(db, NEVER_ANALYZED);
/** ANALYZEs the tables of `public` autovacuum's default rule picks; returns them. */
export const analyzeDue = (db: SqlDb) => analyzeTables(db, DUE_FOR_ANALYZE);

/**
 * Makes a data dir owner-only: folders 0700, files 0600. PGlite creates its files 0666 whatever the umask, so
 * this runs after it has written (open, restore, close); the home's own 0700 is the other wall.
 */
export async function ownerOnly(dir: string): Promise<void> {
  await chmod(dir, 0o700);
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await ownerOnly(p);
    else if (e.isFile()) await chmod(p, 0o600);
  }
}

/** What an existing data dir holds, in one statement: fails (undefined table) on a database never bootstrapped. */
const AS_IT_WAS = `
  select (select coalesce(array_agg(version), '{}') from supabase_migrations.schema_migrations) as versions,
         (select id::text from auth.users where email = $1 order by created_at limit 1) as user_id`;

/**
 * What a data dir that may need nothing at open holds, read in one statement: whether it is bootstrapped with
 * every shipped migration applied (an existing home, or the image prepared at build time), and its local user
 * when that is the one of `local-user.json`. The open then skips the bootstrap and migration steps (each a
 * transaction) and, for a local user already in place, the local-user one.
 */
async function readyAsItWas(db: PGlite, home: string, migrationsDir: string): Promise<{ migrated: boolean; user: StoreUser | null; versions: string[] }> {
  const row = await db
    .query<{ versions: string[]; user_id: string | null }>(AS_IT_WAS, [LOCAL_USER_EMAIL])
    .then((r) => r.rows[0], () => undefined);
  if (!row) return { migrated: false, user: null, versions: [] };
  const have = new Set(row.versions);
  const migrated = listMigrations(migrationsDir).every((m) => have.has(m.version));
  const sameUser = row.user_id !== null && (await readLocalUserId(home)) === row.user_id;
  return { migrated, user: migrated && sameUser ? { id: row.user_id!, email: LOCAL_USER_EMAIL, aal: 'aal1' } : null, versions: row.versions };
}

/** The schema status of a data dir holding `versions` with every shipped migration applied. */
function statusOf(versions: string[], migrationsDir: string): SchemaStatus {
  const expected = listMigrations(migrationsDir).at(-1)?.version ?? '';
  return { applied: [...versions].sort().at(-1) ?? null, expected, pending: [] };
}

/** The data directory's lock (`<dir>.lock`): two PGlite processes on one directory both open it and lose rows. */
async function lockDirectory(dir: string): Promise<DirLock> {
  // A second open in this same process must fail too: two PGlite instances on one directory lose rows.
  const r = await acquirePidLock(`${dir}.lock`, { attempts: 3, ownPidIsStale: false }).catch((err: Error) => {
    throw new StoreError('unavailable', `Could not lock ${dir}: ${err.message}`);
  });
  if (r.ok) return r.lock;
  throw new StoreError(
    'unavailable',
    r.pid === null
      ? `The database ${dir} is being opened by another process.`
      : `The database ${dir} is in use by process ${r.pid}; stop it or use another CAIRN_HOME.`,
  );
}

export class EmbeddedStore extends SqlApiStore {
  readonly mode = 'embedded' as const;
  private tail: Promise<unknown> = Promise.resolve();
  opened?: OpenedHow;
  /** Making the data dir owner-only after open; close waits for it. */
  private securing: Promise<void> = Promise.resolve();
  /** When the store last looked for tables due for ANALYZE (see ANALYZE_NAPTIME_MS). */
  private lastAnalyzeCheck = Date.now();

  private constructor(
    readonly home: string,
    private readonly db: PGlite,
    private readonly lock: DirLock,
    localUser: StoreUser,
    migrationsDir: string,
  ) {
    super(pgliteDb(db), localUser, migrationsDir);
  }

  /** The schema status the open established, when it read it (else `schemaStatus` asks the database). */
  private schema?: SchemaStatus;

  override schemaStatus(): Promise<SchemaStatus> {
    return this.schema ? Promise.resolve({ ...this.schema, pending: [...this.schema.pending] }) : super.schemaStatus();
  }

  /**
   * A new home's local user (its id already chosen) whose row is still to be made, before the first call that
   * reaches the database (every call waits behind it, and one that failed makes later calls fail with its
   * error). PGlite runs on the daemon's thread, so making it at open would hold up the listening socket and
   * `initialize` just the same.
   */
  private userToCreate?: string;
  /** Why creating the local user's row failed (a new home), if it did: every call then fails with it. */
  private userFailure?: StoreError;

  /** Makes the pending local user's row once, before the first queued call. */
  private async userReady(): Promise<void> {
    const id = this.userToCreate;
    if (id) {
      this.userToCreate = undefined;
      try {
        const user = await ensureLocalUser(this.home, this.sql, id);
        if (user.id !== id) throw new StoreError('unavailable', `The local user of ${this.home} is ${user.id}, not ${id}; restart the daemon.`);
      } catch (err) {
        const e = toStoreError(err);
        this.userFailure = e instanceof StoreError ? e : new StoreError('internal', `Could not create the local user: ${(err as Error).message}`);
      }
    }
    if (this.userFailure) throw this.userFailure;
  }

  /** PGlite's WASM memory: what Postgres inside it has grown to (shared buffers, caches, work memory). */
  engineHeapBytes(): number | null {
    const mod = (this.db as unknown as { mod?: { HEAPU8?: { byteLength: number } } }).mod;
    return mod?.HEAPU8?.byteLength ?? null;
  }

  /** The data dir of a home. */
  static dataDir(home: string): string {
    return join(home, 'db');
  }

  /**
   * Locks `$home/db`, opens it (a new one from the prepared image, else initdb), bootstraps, applies pending
   * migrations and ensures the local user. Making the files owner-only runs behind it (the home is 0700).
   */
  static async open(home: string, opts: EmbeddedOptions = {}): Promise<EmbeddedStore> {
    const dataDir = EmbeddedStore.dataDir(home);
    await mkdir(home, { recursive: true });
    const lock = await lockDirectory(dataDir);
    let db: PGlite | undefined;
    const steps: Record<string, number> = {};
    let mark = performance.now();
    const step = (name: string) => {
      const now = performance.now();
      steps[name] = Math.round(now - mark);
      mark = now;
    };
    try {
      // What a crash while unpacking the prepared image left behind (the data dir itself is still empty).
      rmSync(unpackingDir(dataDir), { recursive: true, force: true });
      const fresh = isEmptyDir(dataDir);
      const migrationsDir = opts.migrationsDir ?? findMigrationsDir();
      let from: 'existing' | 'template' | 'prepared' | 'initdb' = 'existing';
      let why: string | undefined;
      let image: Blob | undefined;
      /** How many of the shipped migrations the prepared image holds. */
      let preparedMigrations = 0;
      if (fresh && opts.template) (image = opts.template), (from = 'template');
      else if (fresh && opts.template === undefined) {
        const prepared = preparedImage(migrationsDir);
        if (prepared.image) {
          try {
            unpackImage(prepared.image, dataDir);
            (from = 'prepared'), (preparedMigrations = prepared.migrations);
          } catch (err) {
            (from = 'initdb'), (why = `the prepared data dir did not unpack: ${(err as Error).message}`);
            rmSync(unpackingDir(dataDir), { recursive: true, force: true });
          }
        } else (from = 'initdb'), (why = prepared.reason);
      } else if (fresh) from = 'initdb';
      step('image');
      try {
        db = await createPGlite({ dataDir, ...(image ? { loadDataDir: image } : {}) });
      } catch (err) {
        if (from !== 'prepared') throw err;
        // A prepared image that PGlite refuses: start over the slow, safe way.
        await db?.close().catch(() => undefined);
        await rm(dataDir, { recursive: true, force: true });
        await mkdir(dataDir, { recursive: true });
        (from = 'initdb'), (why = `the prepared data dir did not load: ${(err as Error).message}`);
        db = await createPGlite({ dataDir });
      }
      step('engine');
      const sql = pgliteDb(db);
      // The prepared image's manifest says which migrations it holds; an existing data dir that needs nothing
      // is checked in one statement; otherwise each step runs in its transaction.
      const shipped = listMigrations(migrationsDir).map((m) => m.version);
      const asItWas =
        from === 'prepared'
          ? { migrated: preparedMigrations === shipped.length, user: null, versions: shipped }
          : from === 'existing'
            ? await readyAsItWas(db, home, migrationsDir)
            : { migrated: false, user: null, versions: [] };
      step('check');
      let applied: string[] = [];
      if (!asItWas.migrated) {
        await bootstrapIfNeeded(sql);
        step('bootstrap');
        applied = await applyMigrations(sql, migrationsDir);
        step('migrations');
      }
      // New tables (after migrations, or in a data dir made here) get their first statistics; the prepared
      // image was analyzed when it was built.
      if (applied.length > 0 || (fresh && from !== 'prepared')) {
        await analyzeNeverAnalyzed(sql);
        step('analyze');
      }
      let user = asItWas.user;
      // A new home from the prepared image holds no user yet: its row is made before the store's first call
      // (every call waits for it), so that the daemon answers `initialize` without waiting for it.
      const newUserRow = !user && from === 'prepared' && asItWas.migrated;
      if (newUserRow) user = { id: (await readLocalUserId(home)) ?? randomUUID(), email: LOCAL_USER_EMAIL, aal: 'aal1' };
      else if (!user) {
        user = await ensureLocalUser(home, sql);
        step('localUser');
      }
      const store = new EmbeddedStore(home, db, lock, user!, migrationsDir);
      if (newUserRow) store.userToCreate = user!.id;
      // Migrations run only here, so what the open found stays true while the store is open.
      if (asItWas.migrated) store.schema = statusOf(asItWas.versions, migrationsDir);
      store.opened = { fresh, from, ...(why ? { why } : {}), appliedMigrations: applied.length, steps };
      store.securing = ownerOnly(dataDir).catch(() => undefined);
      return store;
    } catch (err) {
      await db?.close().catch(() => undefined);
      await lock.release();
      throw toStoreError(err);
    }
  }

  /**
   * Restores a backup into `home`, which must not hold a database yet (a restore never overwrites data).
   * Migrations pending for this daemon are applied at the next open.
   */
  static async restore(file: string, home: string): Promise<void> {
    const dataDir = EmbeddedStore.dataDir(home);
    if (!isEmptyDir(dataDir)) {
      throw new StoreError('conflict', `${home} already holds a database; restore into an empty CAIRN_HOME.`);
    }
    const bytes = await readFile(file);
    assertBackupImage(file, bytes);
    const image = new Blob([bytes]);
    await mkdir(home, { recursive: true });
    const lock = await lockDirectory(dataDir);
    try {
      const db = await createPGlite({ dataDir, loadDataDir: image });
      try {
        await db.query('select 1');
      } finally {
        await db.close();
      }
      await ownerOnly(dataDir);
    } catch (err) {
      throw err instanceof StoreError ? err : new StoreError('invalid_input', `${file} is not a Cairn backup: ${(err as Error).message}`);
    } finally {
      await lock.release();
    }
  }

  /** Runs `work` alone on the database, after every call queued before it (PGlite has one connection). */
  protected schedule<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new StoreError('unavailable', 'The store is closed.'));
    const run = this.tail
      .then(() => this.userReady())
      .then(() => this.keepStatistics())
      .then(work);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Autovacuum's ANALYZE, at most once per ANALYZE_NAPTIME_MS, before the next queued call (so it plans with it). */
  private async keepStatistics(): Promise<void> {
    if (this.closed || Date.now() - this.lastAnalyzeCheck < ANALYZE_NAPTIME_MS) return;
    this.lastAnalyzeCheck = Date.now();
    await analyzeDue(this.sql).catch(() => undefined);
  }

  async onChange(listener: (event: ChangeEvent) => void): Promise<() => Promise<void>> {
    const unlisten = await this.schedule(() => this.db.listen(CHANGES_CHANNEL, this.visibleChanges(listener)));
    return async () => {
      if (!this.closed) await this.schedule(() => unlisten());
    };
  }

  /** Writes a consistent gzip image of the whole database to `file`, taken between queued calls. */
  async backup(file: string): Promise<{ bytes: number }> {
    const image = await this.schedule(() => this.db.dumpDataDir('gzip'));
    const bytes = Buffer.from(await image.arrayBuffer());
    await mkdir(dirname(file), { recursive: true });
    const partial = `${file}.partial`;
    try {
      await rm(partial, { force: true });
      await writeFile(partial, bytes, { mode: 0o600 });
      await rename(partial, file);
    } catch (err) {
      // A full disk (or any failed write) leaves no half-written backup behind.
      await rm(partial, { force: true }).catch(() => undefined);
      throw err;
    }
    return { bytes: bytes.length };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const drained = this.tail;
    this.closed = true;
    await drained;
    // A new home closed before any call still ends up with its local user (and local-user.json).
    await this.userReady().catch(() => undefined);
    await this.securing;
    try {
      await this.db.close();
      // Files PGlite created while running (new relations, WAL segments) are owner-only at rest too.
      await ownerOnly(EmbeddedStore.dataDir(this.home)).catch(() => undefined);
    } finally {
      await this.lock.release();
    }
  }
}
