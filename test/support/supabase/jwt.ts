/**
 * JWTs as Supabase issues them: HS256 with the project's JWT secret, the claims GoTrue v2 puts in an access
 * token (sub, role, aud, email, aal, amr, session_id, exp) and the anon key, which is itself a JWT with
 * `role: anon`. Shared by the three test servers so a token from the auth server is accepted by PostgREST
 * and Realtime exactly as on a real project.
 */
import { SignJWT, jwtVerify, errors as joseErrors, type JWTPayload } from 'jose';

export interface AccessTokenClaims extends JWTPayload {
  sub?: string;
  role: string;
  aud?: string | string[];
  email?: string;
  aal?: 'aal1' | 'aal2';
  amr?: { method: string; timestamp: number }[];
  session_id?: string;
  is_anonymous?: boolean;
  app_metadata?: Record<string, unknown>;
  user_metadata?: Record<string, unknown>;
}

export type JwtProblem = 'expired' | 'invalid';

export class JwtError extends Error {
  constructor(readonly problem: JwtProblem, message: string) {
    super(message);
    this.name = 'JwtError';
  }
}

function key(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

export async function signJwt(secret: string, claims: AccessTokenClaims, expiresAt: number): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  return new SignJWT({ ...claims, iat, exp: expiresAt })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(key(secret));
}

/** Verifies signature and expiry; throws JwtError with the problem a server reports. */
export async function verifyJwt(secret: string, token: string): Promise<AccessTokenClaims> {
  try {
    const { payload } = await jwtVerify(token, key(secret), { algorithms: ['HS256'] });
    if (typeof payload.role !== 'string') throw new JwtError('invalid', 'JWT has no role claim');
    return payload as AccessTokenClaims;
  } catch (err) {
    if (err instanceof JwtError) throw err;
    if (err instanceof joseErrors.JWTExpired) throw new JwtError('expired', 'JWT expired');
    throw new JwtError('invalid', err instanceof Error ? err.message : 'invalid JWT');
  }
}

/** The anon key of a project: a long-lived JWT with role anon, as `supabase status` prints it. */
export async function makeAnonKey(secret: string): Promise<string> {
  const tenYears = Math.floor(Date.now() / 1000) + 10 * 365 * 24 * 3600;
  return signJwt(secret, { role: 'anon', iss: 'supabase-test' }, tenYears);
}

/** The service-role key: a long-lived JWT with role service_role. Server-side only (tests confirm and delete users with it); the daemon never holds it. */
export async function makeServiceRoleKey(secret: string): Promise<string> {
  const tenYears = Math.floor(Date.now() / 1000) + 10 * 365 * 24 * 3600;
  return signJwt(secret, { role: 'service_role', iss: 'supabase-test' }, tenYears);
}
