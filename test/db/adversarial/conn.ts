// One database connection as the suite drives it, raw (no wrapping transaction), for PGlite and for `pg`:
// each case opens and rolls back its own transaction, and reads a failing statement's whole error
// (message, detail, hint, where), which the stores' error mapping would cut.
import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';

export interface Conn {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: T[] }>;
  /** Several statements in one round trip (simple query protocol): the rows of the last one. */
  exec<T = Record<string, unknown>>(text: string): Promise<T[]>;
}

export function pgliteConn(db: PGlite): Conn {
  return {
    query: async <T>(text: string, params?: unknown[]) => ({ rows: (await db.query<T>(text, params)).rows }),
    exec: async <T>(text: string) => {
      const results = await db.exec(text);
      return (results.at(-1)?.rows ?? []) as T[];
    },
  };
}

export function pgConn(client: pg.Client): Conn {
  return {
    query: async <T>(text: string, params?: unknown[]) => ({ rows: (await client.query(text, params as unknown[] | undefined)).rows as T[] }),
    exec: async <T>(text: string) => {
      const r = (await client.query(text)) as unknown as pg.QueryResult | pg.QueryResult[];
      return (Array.isArray(r) ? (r.at(-1)?.rows ?? []) : r.rows) as T[];
    },
  };
}

/** Every text a database error carries, where a leak could hide. */
export function errorText(err: unknown): string {
  const e = err as Record<string, unknown>;
  return ['message', 'detail', 'hint', 'where', 'internalQuery', 'schema', 'table', 'column', 'constraint', 'dataType']
    .map((k) => (typeof e[k] === 'string' ? (e[k] as string) : ''))
    .join('\n');
}
