/**
 * A contract-faithful PostgREST test server for what Cairn uses: `POST|GET /rest/v1/rpc/<fn>` with named
 * arguments, executed against PGlite as the JWT's user (one transaction, `role` and `request.jwt.claims` set
 * locally, as PostgREST does). Follows PostgREST v12: the function is resolved by name and argument names
 * (PGRST202 when nothing matches), arguments are passed through `json_to_record` with the function's own
 * argument types, set-returning functions answer with a JSON array, composite ones with an object, scalar
 * ones with the value and void ones with 204; `Prefer: return=minimal|count=exact|tx=commit|rollback`;
 * `Accept: application/vnd.pgrst.object+json` (PGRST116 when not exactly one row); SQL errors become
 * `{code, details, hint, message}` with PostgREST's SQLSTATE to HTTP status mapping; JWT errors are PGRST301.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PGliteInterface, Transaction } from '@electric-sql/pglite';
import { asUser } from './as-user.js';
import { verifyJwt, JwtError, type AccessTokenClaims } from './jwt.js';
import { BadJson, bearer, isObject, readJson, sendEmpty, sendJson } from './http.js';

export const POSTGREST_VERSION_FOLLOWED = 'v12.2 (docs/references/errors.rst, api.rst functions)';

export interface PostgrestServerOptions {
  db: PGliteInterface;
  jwtSecret: string;
  anonKey: string;
  /** Schemas exposed (PostgREST's db-schemas); the first is the default. */
  schemas?: string[];
}

interface PgError {
  code: string;
  message: string;
  detail?: string;
  hint?: string;
}

interface Fn {
  name: string;
  schema: string;
  inputs: { name: string; type: string }[];
  required: number;
  returnsSet: boolean;
  /** 'c' composite, 'p' pseudo (void, record), 'b' base, etc. */
  returnKind: string;
  returnType: string;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: string | null = null,
    readonly hint: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** PostgREST v12's SQLSTATE → HTTP status table. */
export function httpStatusForSqlstate(code: string, authenticated: boolean): number {
  if (code === '42501') return authenticated ? 403 : 401;
  if (code === '23503' || code === '23505') return 409;
  if (code === '25006') return 405;
  if (code === 'P0001') return 400;
  if (code === '42883' || code === '42P01') return 404;
  if (code === '42P17' || code === '53400') return 500;
  if (/^PT\d{3}$/.test(code)) return Number(code.slice(2));
  const two = code.slice(0, 2);
  if (two === '08' || two === '53') return 503;
  if (two === '0L' || two === '0P' || two === '28') return 403;
  if (['09', '25', '2D', '38', '39', '3B', '40', '54', '55', '57', '58', 'F0', 'HV', 'P0', 'XX'].includes(two)) return 500;
  return 400;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export class PostgrestServer {
  private readonly schemas: string[];
  /** The functions called (`/rpc/<fn>`), in the order the requests arrived: tests count round trips with it. */
  readonly calls: string[] = [];

  constructor(private readonly opts: PostgrestServerOptions) {
    this.schemas = opts.schemas ?? ['public'];
  }

  /** Handles a request under /rest/v1; `path` is the rest after that prefix. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL, path: string): Promise<void> {
    try {
      const rpc = /^\/rpc\/([^/]+)$/.exec(path);
      if (!rpc) throw new ApiError(404, 'PGRST125', `Invalid path specified in request URL`);
      if (this.calls.length < 100_000) this.calls.push(decodeURIComponent(rpc[1]!));
      if (req.method !== 'POST' && req.method !== 'GET') {
        throw new ApiError(405, 'PGRST101', 'Only GET and POST verbs are allowed for functions');
      }
      await this.callFunction(req, res, url, decodeURIComponent(rpc[1]!));
    } catch (err) {
      if (err instanceof ApiError) {
        return sendJson(res, err.status, { code: err.code, details: err.details, hint: err.hint, message: err.message }, err.headers);
      }
      if (err instanceof BadJson) {
        return sendJson(res, 400, { code: 'PGRST102', details: null, hint: null, message: 'Empty or invalid json' });
      }
      const message = err instanceof Error ? err.message : String(err);
      sendJson(res, 500, { code: 'PGRSTX00', details: null, hint: null, message });
    }
  }

  private async claimsOf(req: IncomingMessage): Promise<AccessTokenClaims> {
    const token = bearer(req);
    if (!token) return { role: 'anon' };
    try {
      return await verifyJwt(this.opts.jwtSecret, token);
    } catch (err) {
      const message = err instanceof JwtError && err.problem === 'expired' ? 'JWT expired' : 'JWSError JWSInvalidSignature';
      throw new ApiError(401, 'PGRST301', message, null, null, {
        'www-authenticate': `Bearer error="invalid_token", error_description="${message}"`,
      });
    }
  }

  private async callFunction(req: IncomingMessage, res: ServerResponse, url: URL, name: string): Promise<void> {
    const claims = await this.claimsOf(req);
    const schema = this.schemaOf(req);
    let args: Record<string, unknown>;
    if (req.method === 'GET') {
      args = {};
      for (const [k, v] of url.searchParams) args[k] = v;
    } else {
      const body = await readJson(req);
      if (!isObject(body)) throw new ApiError(400, 'PGRST102', 'Empty or invalid json');
      args = body;
    }
    const fn = await this.resolve(schema, name, Object.keys(args));
    const prefer = parsePrefer(req.headers.prefer);
    const wantsObject = String(req.headers.accept ?? '').includes('application/vnd.pgrst.object+json');
    const rollback = prefer.get('tx') === 'rollback';

    let result: unknown;
    let rowCount: number | null = null;
    try {
      result = await asUser(
        this.opts.db,
        claims,
        async (tx) => {
          if (req.method === 'GET') await tx.exec('set transaction read only');
          const value = await this.execute(tx, fn, args);
          if (rollback) await tx.rollback();
          return value;
        },
        { method: req.method ?? 'POST', path: `/rpc/${name}`, headers: lowerHeaders(req) },
      );
    } catch (err) {
      throw this.sqlError(err, claims);
    }

    const applied: string[] = [];
    if (rollback) applied.push('tx=rollback');
    const headers: Record<string, string> = {};
    if (fn.returnsSet && Array.isArray(result)) {
      rowCount = result.length;
      if (prefer.get('count') === 'exact') {
        headers['content-range'] = rowCount > 0 ? `0-${rowCount - 1}/${rowCount}` : '*/0';
        applied.push('count=exact');
      } else headers['content-range'] = rowCount > 0 ? `0-${rowCount - 1}/*` : '*/*';
    }
    if (applied.length) headers['preference-applied'] = applied.join(', ');

    if (wantsObject) {
      const rows = Array.isArray(result) ? result : [result];
      if (rows.length !== 1) {
        throw new ApiError(406, 'PGRST116', 'JSON object requested, multiple (or no) rows returned', `The result contains ${rows.length} rows`);
      }
      result = rows[0];
    }
    if (prefer.get('return') === 'minimal' || (fn.returnType === 'void' && !fn.returnsSet)) {
      if (prefer.get('return') === 'minimal') headers['preference-applied'] = [...applied, 'return=minimal'].join(', ');
      return sendEmpty(res, 204, headers);
    }
    sendJson(res, 200, result, headers);
  }

  private schemaOf(req: IncomingMessage): string {
    const asked = (req.method === 'GET' ? req.headers['accept-profile'] : req.headers['content-profile']) as string | undefined;
    if (!asked) return this.schemas[0]!;
    if (!this.schemas.includes(asked)) {
      throw new ApiError(406, 'PGRST106', 'The schema must be one of the following: ' + this.schemas.join(', '));
    }
    return asked;
  }

  /** PostgREST's schema-cache lookup: an overload whose named inputs cover the given keys and every required input. */
  private async resolve(schema: string, name: string, keys: string[]): Promise<Fn> {
    const { rows } = await this.opts.db.query<{
      proname: string;
      proretset: boolean;
      typtype: string;
      rettype: string;
      argnames: string[] | null;
      argmodes: string[] | null;
      argtypes: string[];
      nargs: number;
      ndefaults: number;
    }>(
      `select p.proname, p.proretset, t.typtype, format_type(p.prorettype, null) as rettype,
              p.proargnames as argnames, p.proargmodes::text[] as argmodes,
              array(select format_type(x, null) from unnest(p.proargtypes) as x) as argtypes,
              p.pronargs as nargs, p.pronargdefaults as ndefaults
         from pg_proc p
         join pg_namespace n on n.oid = p.pronamespace
         join pg_type t on t.oid = p.prorettype
        where n.nspname = $1 and p.proname = $2 and p.prokind = 'f'`,
      [schema, name],
    );
    const candidates: Fn[] = rows.map((r) => {
      const names = r.argnames ?? [];
      const modes = r.argmodes;
      const inputNames = modes ? names.filter((_, i) => ['i', 'b', 'v'].includes(modes[i]!)) : names.slice(0, r.nargs);
      return {
        name: r.proname,
        schema,
        inputs: r.argtypes.map((type, i) => ({ name: inputNames[i] ?? '', type })),
        required: r.nargs - r.ndefaults,
        returnsSet: r.proretset,
        returnKind: r.typtype,
        returnType: r.rettype,
      };
    });
    const match = candidates.find(
      (fn) =>
        keys.every((k) => fn.inputs.some((a) => a.name === k)) &&
        fn.inputs.slice(0, fn.required).every((a) => keys.includes(a.name)),
    );
    if (match) return match;
    const sig = keys.join(', ');
    throw new ApiError(
      404,
      'PGRST202',
      `Could not find the function ${schema}.${name}${keys.length ? `(${sig})` : ' without parameters'} in the schema cache`,
      `Searched for the function ${schema}.${name}${keys.length ? ` with parameters ${sig}` : ' without parameters'} or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.`,
      candidates.length ? `Perhaps you meant to call the function ${schema}.${name}(${candidates[0]!.inputs.map((a) => a.name).join(', ')})` : null,
    );
  }

  private async execute(tx: Transaction, fn: Fn, args: Record<string, unknown>): Promise<unknown> {
    const given = fn.inputs.filter((a) => a.name in args);
    const target = `${quoteIdent(fn.schema)}.${quoteIdent(fn.name)}`;
    const call = `${target}(${given.map((a) => `${quoteIdent(a.name)} := _args.${quoteIdent(a.name)}`).join(', ')})`;
    const from = given.length
      ? `from json_to_record($1::json) as _args(${given.map((a) => `${quoteIdent(a.name)} ${a.type}`).join(', ')})`
      : '';
    const params = given.length ? [JSON.stringify(args)] : [];
    let sql: string;
    if (fn.returnsSet) {
      sql = `select coalesce(json_agg(_r), '[]'::json) as body ${from ? `${from}, lateral` : 'from'} ${call} as _r`;
    } else if (fn.returnKind === 'c') {
      sql = `select case when _r is null then null else to_json(_r) end as body ${from ? `${from}, lateral` : 'from'} ${call} as _r`;
    } else {
      sql = `select to_json(${call}) as body ${from}`;
    }
    const { rows } = await tx.query<{ body: unknown }>(sql, params);
    return rows[0]?.body ?? null;
  }

  private sqlError(err: unknown, claims: AccessTokenClaims): ApiError {
    if (err instanceof ApiError) return err;
    const pg = err as Partial<PgError>;
    if (typeof pg.code === 'string' && typeof pg.message === 'string') {
      return new ApiError(httpStatusForSqlstate(pg.code, claims.role !== 'anon'), pg.code, pg.message, pg.detail ?? null, pg.hint ?? null);
    }
    return new ApiError(500, 'PGRSTX00', err instanceof Error ? err.message : String(err));
  }
}

function parsePrefer(header: string | string[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  for (const part of text.split(',')) {
    const [k, v] = part.trim().split('=');
    if (k) out.set(k.trim(), (v ?? '').trim());
  }
  return out;
}

function lowerHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (k === 'authorization' || k === 'apikey' || k === 'cookie') continue;
    if (typeof v === 'string') out[k] = v;
  }
  return out;
}
