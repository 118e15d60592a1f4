/**
 * Applies `supabase/migrations/<version>_<name>.sql` in order, each in its own transaction, and records them
 * in `supabase_migrations.schema_migrations` the way the Supabase CLI does, so a database migrated by
 * `supabase db push` and one migrated by the daemon are understood by both.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SqlDb, SqlTx } from './sql.js';
import { StoreError, type SchemaStatus } from './types.js';

export interface Migration {
  version: string;
  name: string;
  path: string;
}

/** The Supabase CLI's pattern for migration files. */
const MIGRATION_FILE = /^([0-9]+)_(.*)\.sql$/;

/** The CLI's own DDL for its history table (it adds the columns one by one as the CLI evolved). */
const HISTORY_DDL = `
select pg_advisory_xact_lock(hashtext('supabase_migrations'));
create schema if not exists supabase_migrations;
create table if not exists supabase_migrations.schema_migrations (version text not null primary key);
alter table supabase_migrations.schema_migrations add column if not exists statements text[];
alter table supabase_migrations.schema_migrations add column if not exists name text;
`;

/**
 * Finds a file or folder shipped with the daemon (e.g. `supabase/migrations`) by walking up from this module:
 * works from daemon/src/store under tsx and from the bundled dist/*.mjs alike.
 */
export function findShipped(relative: string, from: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(from));
  for (;;) {
    const candidate = join(dir, relative);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new StoreError('internal', `Cannot find ${relative} above ${dirname(fileURLToPath(from))}`);
    dir = parent;
  }
}

export function findMigrationsDir(): string {
  return findShipped(join('supabase', 'migrations'));
}

/** Migration files of `dir`, oldest first. */
export function listMigrations(dir: string): Migration[] {
  const out: Migration[] = [];
  for (const file of readdirSync(dir)) {
    const m = MIGRATION_FILE.exec(file);
    if (!m || !statSync(join(dir, file)).isFile()) continue;
    out.push({ version: m[1]!, name: m[2]!, path: join(dir, file) });
  }
  return out.sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
}

/** Newest version shipped in `dir` (what `schemaStatus().expected` reports). */
export function expectedVersion(dir: string = findMigrationsDir()): string {
  return listMigrations(dir).at(-1)?.version ?? '';
}

/**
 * Splits a SQL script into statements at top-level semicolons, respecting quotes, dollar quotes and
 * comments, for the `statements` column the CLI fills. The script itself is executed whole.
 */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let start = 0;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? n : end + 1;
    } else if (c === '/' && next === '*') {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') (depth++, (i += 2));
        else if (sql[i] === '*' && sql[i + 1] === '/') (depth--, (i += 2));
        else i++;
      }
    } else if (c === "'" || c === '"') {
      const escapes = c === "'" && /[eE]/.test(sql[i - 1] ?? '') && !/[\w$]/.test(sql[i - 2] ?? '');
      i++;
      while (i < n) {
        if (escapes && sql[i] === '\\') i += 2;
        else if (sql[i] === c && sql[i + 1] === c) i += 2;
        else if (sql[i] === c) break;
        else i++;
      }
      i++;
    } else if (c === '$' && !/[\w$]/.test(sql[i - 1] ?? '')) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64));
      if (tag) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        i = end === -1 ? n : end + tag[0].length;
      } else i++;
    } else if (c === ';') {
      const stmt = sql.slice(start, i).trim();
      if (stmt) out.push(stmt);
      start = ++i;
    } else i++;
  }
  const tail = sql.slice(start).trim();
  if (tail && !/^(\s|--[^\n]*(\n|$))*$/.test(tail)) out.push(tail);
  return out;
}

async function appliedVersions(tx: SqlTx): Promise<Set<string> | null> {
  const { rows: exists } = await tx.query<{ ok: boolean }>(
    `select to_regclass('supabase_migrations.schema_migrations') is not null as ok`,
  );
  if (!exists[0]?.ok) return null;
  const { rows } = await tx.query<{ version: string }>('select version from supabase_migrations.schema_migrations');
  return new Set(rows.map((r) => r.version));
}

/**
 * Applies every pending migration of `dir`, oldest first, each in a transaction with its history row.
 * Concurrent runners on one Postgres serialize on an advisory lock and skip what the other applied.
 * Returns the versions applied now.
 */
export async function applyMigrations(db: SqlDb, dir: string = findMigrationsDir()): Promise<string[]> {
  await db.transaction((tx) => tx.exec(HISTORY_DDL));
  // One read decides the common case (nothing pending) without a transaction per file.
  const known = await db.transaction((tx) => appliedVersions(tx));
  const applied: string[] = [];
  for (const m of listMigrations(dir).filter((x) => !known?.has(x.version))) {
    const sql = readFileSync(m.path, 'utf8');
    const done = await db.transaction(async (tx) => {
      await tx.query(`select pg_advisory_xact_lock(hashtext('supabase_migrations'))`);
      const have = await appliedVersions(tx);
      if (have?.has(m.version)) return false;
      try {
        await tx.exec(sql);
      } catch (err) {
        const e = err as Error & { code?: string };
        throw new StoreError('internal', `Migration ${m.version}_${m.name}.sql failed: ${e.message}`, e.code);
      }
      await tx.query(
        'insert into supabase_migrations.schema_migrations (version, name, statements) values ($1, $2, $3)',
        [m.version, m.name, splitStatements(sql)],
      );
      return true;
    });
    if (done) applied.push(m.version);
  }
  return applied;
}

/** Compares the versions applied to the database with those shipped in `dir`. */
export async function readSchemaStatus(db: SqlDb, dir: string = findMigrationsDir()): Promise<SchemaStatus> {
  const have = await db.transaction((tx) => appliedVersions(tx));
  const shipped = listMigrations(dir).map((m) => m.version);
  const appliedSorted = [...(have ?? [])].sort();
  return {
    applied: appliedSorted.at(-1) ?? null,
    expected: shipped.at(-1) ?? '',
    pending: shipped.filter((v) => !have?.has(v)),
  };
}

/** bootstrap.sql beside this module (source tree, or copied next to a bundle), else found from the repo root. */
export function bootstrapFile(): string {
  const beside = join(dirname(fileURLToPath(import.meta.url)), 'bootstrap.sql');
  return existsSync(beside) ? beside : findShipped(join('daemon', 'src', 'store', 'bootstrap.sql'));
}

/** Gives plain Postgres what Supabase provides (roles, auth, extensions); skipped when `auth` exists. */
export async function bootstrapIfNeeded(db: SqlDb): Promise<boolean> {
  return db.transaction(async (tx) => {
    // Two daemons starting on one fresh Postgres must not both bootstrap it.
    await tx.query(`select pg_advisory_xact_lock(hashtext('supabase_migrations'))`);
    const { rows } = await tx.query<{ has: boolean }>(`select exists(select 1 from pg_namespace where nspname = 'auth') as has`);
    if (rows[0]?.has) return false;
    await tx.exec(readFileSync(bootstrapFile(), 'utf8'));
    return true;
  });
}
