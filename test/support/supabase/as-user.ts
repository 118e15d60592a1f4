/**
 * Runs SQL against PGlite as a JWT's user, the way PostgREST v12 does for every request: one transaction,
 * `role` set to the JWT's role and `request.jwt.claims` (plus request.method/path/headers) set locally, so
 * `auth.uid()`, `auth.jwt()` and Row Level Security see exactly what they see behind a real project.
 */
import type { PGliteInterface, Transaction } from '@electric-sql/pglite';
import type { AccessTokenClaims } from './jwt.js';

export interface RequestContext {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
}

export async function asUser<T>(
  db: PGliteInterface,
  claims: AccessTokenClaims,
  work: (tx: Transaction) => Promise<T>,
  request: RequestContext = {},
): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.query(
      `select set_config('role', $1, true), set_config('request.jwt.claims', $2, true),
              set_config('request.method', $3, true), set_config('request.path', $4, true),
              set_config('request.headers', $5, true), set_config('request.cookies', '{}', true)`,
      [claims.role, JSON.stringify(claims), request.method ?? 'POST', request.path ?? '/', JSON.stringify(request.headers ?? {})],
    );
    return work(tx);
  });
}
