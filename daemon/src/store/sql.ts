/**
 * What the embedded and Postgres stores share: a minimal SQL session shape both drivers (PGlite, pg) fit,
 * the acting-user transaction PostgREST runs for every request, the PostgREST-style function call, and the
 * SQLSTATE → StoreError mapping of docs/sql-api.md.
 */
import { randomUUID } from 'node:crypto';
import { isDiskFull, kindOfSqlstate, StoreError, type ChangeEvent, type StoreUser } from './types.js';

/** A statement runner inside one transaction (PGlite's Transaction and a pg client both fit). */
export interface SqlTx {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: T[] }>;
  /** Runs a script of several statements (simple query protocol). */
  exec(text: string): Promise<unknown>;
}

/** Something that can run a transaction; commits when `fn` resolves, rolls back when it throws. */
export interface SqlDb {
  transaction<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T>;
}

/** The JWT claims PostgREST puts in `request.jwt.claims` (GoTrue's access-token payload). */
export interface JwtClaims {
  role: 'anon' | 'authenticated' | 'service_role';
  sub?: string;
  aud?: string;
  email?: string | null;
  aal?: 'aal1' | 'aal2';
  session_id?: string;
  [claim: string]: unknown;
}

const API_ROLES = new Set(['anon', 'authenticated', 'service_role']);

/** Claims of a signed-in user, shaped like a GoTrue access token. */
export function userClaims(user: StoreUser, sessionId: string = randomUUID()): JwtClaims {
  return {
    sub: user.id,
    role: 'authenticated',
    aud: 'authenticated',
    email: user.email,
    aal: user.aal,
    amr: [{ method: user.aal === 'aal2' ? 'totp' : 'password', timestamp: Math.floor(Date.now() / 1000) }],
    session_id: sessionId,
    is_anonymous: false,
  };
}

/** Claims of a request without a user (the anon key). */
export const anonClaims: JwtClaims = { role: 'anon' };

/**
 * Runs `fn` in a transaction as PostgREST runs a request: `set local role` to the claims' role and the
 * claims in `request.jwt.claims`, both reverting at commit, so RLS and `auth.uid()` see the acting user.
 */
export async function runAsUser<T>(db: SqlDb, claims: JwtClaims, fn: (tx: SqlTx) => Promise<T>): Promise<T> {
  if (!API_ROLES.has(claims.role)) throw new StoreError('invalid_input', `Unknown API role ${JSON.stringify(claims.role)}`);
  return db.transaction(async (tx) => {
    // The role comes from the fixed set above; SET does not take bind parameters.
    await tx.query(`set local role ${claims.role}`);
    await tx.query(`select set_config('request.jwt.claims', $1, true), set_config('request.method', 'POST', true)`, [
      JSON.stringify(claims),
    ]);
    return fn(tx);
  });
}

const FUNCTION_NAME = /^[a-z_][a-z0-9_]*$/;

/** What a call needs to know about a function of `public`: set-returning or not, and its argument types. */
export interface FunctionInfo {
  returnsSet: boolean;
  returnsVoid: boolean;
  /** Input argument name → SQL type as `format_type` prints it (e.g. `jsonb`, `text[]`, `extensions.vector`). */
  args: Map<string, string>;
}

/** Looks function metadata up in pg_catalog once per name and keeps it for the life of the store. */
export class FunctionCatalog {
  private readonly cache = new Map<string, Promise<FunctionInfo | null>>();

  lookup(tx: SqlTx, fn: string): Promise<FunctionInfo | null> {
    let hit = this.cache.get(fn);
    if (!hit) {
      hit = loadFunctionInfo(tx, fn);
      this.cache.set(fn, hit);
      // A failed or empty lookup is not remembered: the function may appear with the next migration.
      hit.then((info) => info ?? this.cache.delete(fn), () => this.cache.delete(fn));
    }
    return hit;
  }

  clear(): void {
    this.cache.clear();
  }
}

async function loadFunctionInfo(tx: SqlTx, fn: string): Promise<FunctionInfo | null> {
  const { rows } = await tx.query<{ set: boolean; void: boolean; names: string[]; modes: string[]; types: string[] }>(
    `select p.proretset as set,
            p.prorettype = 'void'::regtype as void,
            coalesce(p.proargnames, '{}'::text[]) as names,
            coalesce(p.proargmodes::text[], '{}'::text[]) as modes,
            array(select format_type(t.oid, null)
                    from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) with ordinality as t(oid, i)
                   order by t.i) as types
       from pg_catalog.pg_proc p
      where p.pronamespace = 'public'::regnamespace and p.proname = $1`,
    [fn],
  );
  const first = rows[0];
  if (!first) return null;
  const args = new Map<string, string>();
  for (const row of rows) {
    row.names.forEach((name, i) => {
      const mode = row.modes[i] ?? 'i';
      const type = row.types[i];
      if (name && type && (mode === 'i' || mode === 'b' || mode === 'v') && !args.has(name)) args.set(name, type);
    });
  }
  return { returnsSet: first.set, returnsVoid: first.void, args };
}

/**
 * Calls `public.<fn>` with named arguments, as PostgREST's `POST /rest/v1/rpc/<fn>` does, and returns what
 * PostgREST would: an array of rows for set-returning functions, else the value (a row as an object, a
 * scalar, or null). Rows go through `to_jsonb`, so every store returns the same JSON shapes PostgREST
 * does (timestamps as ISO strings, numbers as numbers) whatever its driver.
 */
export async function callFunction<T>(
  tx: SqlTx,
  catalog: FunctionCatalog,
  fn: string,
  args: Record<string, unknown> = {},
): Promise<T> {
  if (!FUNCTION_NAME.test(fn)) throw new StoreError('invalid_input', `Not a function name of the SQL API: ${JSON.stringify(fn)}`);
  const info = await catalog.lookup(tx, fn);
  if (!info) throw new StoreError('not_found', `The SQL API has no function public.${fn}`);
  const params: unknown[] = [];
  const named: string[] = [];
  for (const [name, value] of Object.entries(args)) {
    if (value === undefined) continue;
    if (!FUNCTION_NAME.test(name)) throw new StoreError('invalid_input', `Not an argument name: ${JSON.stringify(name)}`);
    const type = info.args.get(name);
    if (!type) throw new StoreError('invalid_input', `public.${fn} has no argument ${name}`);
    const isJson = type === 'json' || type === 'jsonb';
    params.push(isJson && value !== null ? JSON.stringify(value) : value);
    named.push(`${name} => $${params.length}::${type}`);
  }
  const call = `public.${fn}(${named.join(', ')})`;
  if (info.returnsSet) {
    const { rows } = await tx.query<{ v: unknown }>(`select to_jsonb(r) as v from ${call} as r`, params);
    return rows.map((r) => r.v) as T;
  }
  if (info.returnsVoid) {
    await tx.query(`select ${call}`, params);
    return null as T;
  }
  const { rows } = await tx.query<{ v: unknown }>(`select to_jsonb(${call}) as v`, params);
  return (rows[0]?.v ?? null) as T;
}

/** Maps a driver error to a StoreError by SQLSTATE (docs/sql-api.md); the message is Postgres's own. */
export function toStoreError(err: unknown): unknown {
  if (err instanceof StoreError) return err;
  if (!(err instanceof Error)) return new StoreError('internal', String(err));
  if (err.name === 'AbortError') return err;
  const code = (err as { code?: unknown }).code;
  if (isDiskFull(err)) return new StoreError('disk_full', `The disk is full: ${err.message}`, typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined);
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) {
    const net = typeof code === 'string' && /^E[A-Z]+$/.test(code);
    return new StoreError(net ? 'unavailable' : 'internal', err.message);
  }
  return new StoreError(kindOfSqlstate(code) ?? 'internal', err.message, code);
}

/** The channel the migrations' triggers `pg_notify` row changes on. */
export const CHANGES_CHANNEL = 'cairn_changes';

const CHANGE_TABLE = /^[a-z_][a-z0-9_]*$/;

/** Parses a `cairn_changes` payload (`{table, op, record}`); null when it is not one. */
export function parseChange(payload: string): ChangeEvent | null {
  let v: unknown;
  try {
    v = JSON.parse(payload);
  } catch {
    return null;
  }
  if (!v || typeof v !== 'object') return null;
  const { table, op, record } = v as Record<string, unknown>;
  if (typeof table !== 'string' || !CHANGE_TABLE.test(table)) return null;
  if (op !== 'INSERT' && op !== 'UPDATE' && op !== 'DELETE') return null;
  if (!record || typeof record !== 'object') return null;
  return { table, op, record: record as Record<string, unknown> };
}

/**
 * Whether the acting user may see a change: the row itself for inserts and updates; for deletes, which
 * leave nothing to check, the user's own row, or a team session of a project the user can still read.
 */
export async function changeVisible(tx: SqlTx, ev: ChangeEvent): Promise<boolean> {
  const r = ev.record;
  const probe = async (table: string, id: unknown) => {
    if (typeof id !== 'string') return false;
    const { rows } = await tx.query<{ ok: boolean }>(
      `select exists(select 1 from public.${table} where id::text = $1) as ok`,
      [id],
    );
    return rows[0]?.ok === true;
  };
  if (ev.op !== 'DELETE') return probe(ev.table, r.id);
  const { rows } = await tx.query<{ uid: string | null }>('select auth.uid()::text as uid');
  const uid = rows[0]?.uid;
  if (uid && (r.owner_id === uid || r.author_id === uid)) return true;
  if (ev.table === 'messages') return probe('sessions', r.session_id);
  return r.visibility === 'team' && probe('projects', r.project_id);
}

/** Row counts of every table in `public` and the database size, read as the owner (operator metrics). */
export async function readStats(db: SqlDb): Promise<{ tables: Record<string, number>; bytes: number | null }> {
  return db.transaction(async (tx) => {
    const { rows: names } = await tx.query<{ name: string }>(
      `select c.relname as name from pg_class c
        where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p') order by 1`,
    );
    const tables: Record<string, number> = {};
    if (names.length > 0) {
      const counts = names.map((t, i) => `select ${i} as i, count(*)::int as n from public.${quoteIdent(t.name)}`).join(' union all ');
      const { rows } = await tx.query<{ i: number; n: number }>(counts);
      for (const r of rows) tables[names[r.i]!.name] = r.n;
    }
    const { rows: size } = await tx.query<{ bytes: string | number }>('select pg_database_size(current_database()) as bytes');
    const bytes = size[0] ? Number(size[0].bytes) : null;
    return { tables, bytes };
  });
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
