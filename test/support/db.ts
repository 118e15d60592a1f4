/**
 * Databases for tests. initdb + bootstrap + migrations take 5 s, so each test process builds ONE migrated
 * template (per migrations dir), dumps it, and every test gets its own fresh copy from the dump (~1 s).
 * Helpers create auth users and act as any of them (aal1/aal2) or as anon, through the store's own
 * `runAsUser` and `callFunction`: the code under test, not a copy of it.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import { createPGlite, pgliteDb } from '../../daemon/src/store/embedded.js';
import { applyMigrations, bootstrapIfNeeded, findMigrationsDir } from '../../daemon/src/store/migrate.js';
import {
  FunctionCatalog,
  anonClaims,
  callFunction,
  runAsUser,
  toStoreError,
  userClaims,
  type JwtClaims,
  type SqlDb,
} from '../../daemon/src/store/sql.js';
import { StoreError, type Store } from '../../daemon/src/store/types.js';

const templates = new Map<string, Promise<Blob>>();

export interface TemplateOptions {
  /**
   * Give the database Supabase's `storage` schema before the migrations (test/support/supabase/
   * storage-schema.sql), as a Supabase project has it: the kb-documents bucket and its policies exist then.
   */
  storage?: boolean;
}

const STORAGE_SCHEMA = fileURLToPath(new URL('./supabase/storage-schema.sql', import.meta.url));

/** The migrated template image for `migrationsDir`, built once per process (and per option set). */
export function migratedTemplate(migrationsDir: string = findMigrationsDir(), opts: TemplateOptions = {}): Promise<Blob> {
  const key = `${migrationsDir}${opts.storage ? '|storage' : ''}`;
  let t = templates.get(key);
  if (!t) {
    t = (async () => {
      const db = await createPGlite();
      try {
        const sql = pgliteDb(db);
        await bootstrapIfNeeded(sql);
        if (opts.storage) await db.exec(await readFile(STORAGE_SCHEMA, 'utf8'));
        await applyMigrations(sql, migrationsDir);
        return (await db.dumpDataDir('gzip')) as Blob;
      } finally {
        await db.close();
      }
    })();
    templates.set(key, t);
  }
  return t;
}

export interface TestUser {
  id: string;
  email: string;
  /** The JWT's assurance level this user acts with (default aal1). */
  aal: 'aal1' | 'aal2';
}

/** Who performs an operation: a user, or anon (no JWT user). */
export type Actor = TestUser | 'anon';

export function claimsOf(actor: Actor): JwtClaims {
  return actor === 'anon' ? anonClaims : userClaims({ id: actor.id, email: actor.email, aal: actor.aal });
}

/** The same user after passing a second factor. */
export function withAal2(user: TestUser): TestUser {
  return { ...user, aal: 'aal2' };
}

export type Attempt<T> = { rows: T[]; error?: undefined } | { rows?: undefined; error: StoreError };

class Rollback<T> {
  constructor(readonly rows: T[]) {}
}

export interface TestDb {
  readonly db: PGlite;
  readonly sql: SqlDb;
  /** Inserts an auth user (the profile trigger makes its profile). */
  createUser(name?: string): Promise<TestUser>;
  /** Calls a function of the SQL API as `actor`, exactly as the stores do; throws StoreError. */
  rpc<T = unknown>(actor: Actor, fn: string, args?: Record<string, unknown>): Promise<T>;
  /** Runs raw SQL as `actor` (as PostgREST would let a client touch the tables directly); throws StoreError. */
  query<T = Record<string, unknown>>(actor: Actor, text: string, params?: unknown[]): Promise<T[]>;
  /**
   * Runs raw SQL as `actor` and always rolls back (basejump's begin … rollback), so data-driven cases do not
   * disturb each other: the rows it returned, or the StoreError it raised.
   */
  attempt<T = Record<string, unknown>>(actor: Actor, text: string, params?: unknown[]): Promise<Attempt<T>>;
  /** Calls a function of the SQL API as `actor` and always rolls back: its value, or the StoreError it raised. */
  attemptRpc<T = unknown>(actor: Actor, fn: string, args?: Record<string, unknown>): Promise<{ value: T; error?: undefined } | { value?: undefined; error: StoreError }>;
  /** Runs raw SQL as the database owner (RLS does not apply): for setup and for checking what really changed. */
  admin<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** Row count of a public table, as the owner. */
  count(table: string, where?: string, params?: unknown[]): Promise<number>;
  close(): Promise<void>;
}

/** A fresh, migrated, in-memory database for one test. */
export async function freshDb(migrationsDir?: string, opts: TemplateOptions = {}): Promise<TestDb> {
  const db = await createPGlite({ loadDataDir: await migratedTemplate(migrationsDir, opts) });
  const sql = pgliteDb(db);
  const catalog = new FunctionCatalog();
  let n = 0;
  const self: TestDb = {
    db,
    sql,
    async createUser(name = `user${++n}`) {
      const id = randomUUID();
      const email = `${name}@example.test`;
      await db.query(
        `insert into auth.users (instance_id, id, aud, role, email, email_confirmed_at, raw_user_meta_data, created_at, updated_at)
         values ('00000000-0000-0000-0000-000000000000', $1, 'authenticated', 'authenticated', $2, now(), $3, now(), now())`,
        [id, email, JSON.stringify({ full_name: name })],
      );
      return { id, email, aal: 'aal1' };
    },
    async rpc<T>(actor: Actor, fn: string, args?: Record<string, unknown>) {
      try {
        return await runAsUser(sql, claimsOf(actor), (tx) => callFunction<T>(tx, catalog, fn, args));
      } catch (err) {
        throw toStoreError(err);
      }
    },
    async query<T>(actor: Actor, text: string, params?: unknown[]) {
      try {
        return await runAsUser(sql, claimsOf(actor), async (tx) => (await tx.query<T>(text, params)).rows);
      } catch (err) {
        throw toStoreError(err);
      }
    },
    async attempt<T>(actor: Actor, text: string, params?: unknown[]): Promise<Attempt<T>> {
      try {
        await runAsUser(sql, claimsOf(actor), async (tx) => {
          throw new Rollback((await tx.query<T>(text, params)).rows);
        });
      } catch (err) {
        if (err instanceof Rollback) return { rows: err.rows as T[] };
        const e = toStoreError(err);
        if (e instanceof StoreError) return { error: e };
        throw e;
      }
      throw new Error('unreachable: the attempt always rolls back');
    },
    async attemptRpc<T>(actor: Actor, fn: string, args?: Record<string, unknown>) {
      try {
        await runAsUser(sql, claimsOf(actor), async (tx) => {
          throw new Rollback([await callFunction<T>(tx, catalog, fn, args)]);
        });
      } catch (err) {
        if (err instanceof Rollback) return { value: err.rows[0] as T };
        const e = toStoreError(err);
        if (e instanceof StoreError) return { error: e };
        throw e;
      }
      throw new Error('unreachable: the attempt always rolls back');
    },
    async admin<T>(text: string, params?: unknown[]) {
      return (await db.query<T>(text, params)).rows;
    },
    async count(table: string, where = 'true', params: unknown[] = []) {
      const rows = (await db.query<{ n: number }>(`select count(*)::int as n from public.${table} where ${where}`, params)).rows;
      return rows[0]?.n ?? 0;
    },
    close: () => db.close(),
  };
  return self;
}

/**
 * Calls a function the generated types do not declare (a test's own SQL function, a wrong name or argument on
 * purpose) through a store's typed `rpc`.
 */
export function rpcUntyped<T = unknown>(store: Pick<Store, 'rpc'>, fn: string, args?: Record<string, unknown>, opts?: { signal?: AbortSignal }): Promise<T> {
  return (store.rpc as (fn: string, args?: Record<string, unknown>, opts?: { signal?: AbortSignal }) => Promise<T>)(fn, args, opts);
}

/** The SQL API as one user, through the same runAsUser path the stores use: a Store for code under test. */
export function storeAs(db: TestDb, user: TestUser): Store {
  return { rpc: (fn: string, args?: Record<string, unknown>) => db.rpc(user, fn, args), user: () => ({ id: user.id, email: user.email }) } as unknown as Store;
}

/** Asserts that `work` fails with a StoreError of `kind` whose message matches; returns the error. */
export async function expectStoreError(
  work: Promise<unknown>,
  kind: StoreError['kind'],
  message?: RegExp,
): Promise<StoreError> {
  let result: unknown;
  try {
    result = await work;
  } catch (err) {
    if (!(err instanceof StoreError)) throw new Error(`expected a StoreError(${kind}), got ${String(err)}`);
    if (err.kind !== kind) throw new Error(`expected StoreError(${kind}), got ${err.kind} [${err.sqlstate}]: ${err.message}`);
    if (message && !message.test(err.message)) throw new Error(`expected message ${message}, got "${err.message}"`);
    return err;
  }
  throw new Error(`expected StoreError(${kind}), but it succeeded with ${JSON.stringify(result)}`);
}

/** A temp dir for `CAIRN_HOME`, removed by the returned cleanup. */
export async function tempHome(): Promise<{ home: string; cleanup(): Promise<void> }> {
  const home = await mkdtemp(join(tmpdir(), 'cairn-db-'));
  return { home, cleanup: () => rm(home, { recursive: true, force: true }) };
}
