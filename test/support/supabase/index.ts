/**
 * Starts the four Supabase test servers behind one HTTP listener on 127.0.0.1 (port 0), the way a project
 * URL serves `/auth/v1`, `/rest/v1`, `/realtime/v1` and `/storage/v1` behind its API gateway, all against one PGlite, so
 * `createClient(url, anonKey)` from the real `@supabase/supabase-js` talks to them unchanged.
 *
 * The gateway part checks the `apikey` (Kong's 401 bodies) on REST, Storage and Realtime; the auth routes that a
 * browser opens (authorize, the fake consent, callback) need none, as on Supabase. The service-role key is
 * accepted too, for what tests do as the project's administrator (confirming or deleting users through the
 * Auth admin API); nothing under test holds it.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { PGliteInterface } from '@electric-sql/pglite';
import { AuthServer } from './auth-server.js';
import { PostgrestServer } from './postgrest-server.js';
import { RealtimeServer } from './realtime-server.js';
import { StorageServer } from './storage-server.js';
import { apiKey, sendJson } from './http.js';
import { makeAnonKey, makeServiceRoleKey, signJwt, verifyJwt, type AccessTokenClaims } from './jwt.js';

export { AuthServer } from './auth-server.js';
export { PostgrestServer, httpStatusForSqlstate } from './postgrest-server.js';
export { RealtimeServer } from './realtime-server.js';
export { StorageServer } from './storage-server.js';

export interface SupabaseTestServersOptions {
  /** A bootstrapped and migrated database (see test/support/db.ts). */
  db: PGliteInterface;
  jwtSecret?: string;
  accessTokenTtlSeconds?: number;
  refreshTokenReuseIntervalSeconds?: number;
  /** GoTrue's SITE_URL and URI_ALLOW_LIST (see AuthServerOptions). */
  siteUrl?: string;
  redirectAllowList?: string[];
  /** Email confirmations (supabase/config.toml `enable_confirmations`); default true, as configured. */
  enableConfirmations?: boolean;
}

export interface SupabaseTestServers {
  /** Project URL, e.g. http://127.0.0.1:43123. */
  url: string;
  anonKey: string;
  /** For the tests' administrator only (the Auth admin API: confirm, delete users). */
  serviceRoleKey: string;
  jwtSecret: string;
  db: PGliteInterface;
  auth: AuthServer;
  rest: PostgrestServer;
  realtime: RealtimeServer;
  /** Storage (needs the `storage` schema in the database: test/support/db.ts `freshDb(dir, { storage: true })`). */
  storage: StorageServer;
  /** While offline, every connection is reset at once, as when the network is down. */
  setOffline(offline: boolean): void;
  /** While down, Realtime drops its sockets and refuses new ones; REST and Auth keep working. */
  setRealtimeDown(down: boolean): void;
  /** Signs an access token for arbitrary claims (e.g. an already-expired one). */
  signToken(claims: AccessTokenClaims, expiresAt: number): Promise<string>;
  /**
   * Routes `/functions/v1/<name>/...` to an Edge Function served at `origin` (test/support/deno.ts), as the
   * project's functions route does: the path the function sees is `/<name>/...`, and with `verifyJwt` (the
   * default, config.toml `verify_jwt`) a request without a valid JWT of the project is answered 401 first.
   */
  addFunction(name: string, origin: string, opts?: { verifyJwt?: boolean }): void;
  close(): Promise<void>;
}

const BROWSER_AUTH_ROUTES = new Set(['/authorize', '/callback']);

export async function startSupabaseTestServers(opts: SupabaseTestServersOptions): Promise<SupabaseTestServers> {
  const jwtSecret = opts.jwtSecret ?? randomBytes(32).toString('hex');
  const anonKey = await makeAnonKey(jwtSecret);
  const serviceRoleKey = await makeServiceRoleKey(jwtSecret);
  let baseUrl = '';
  let offline = false;
  let realtimeDown = false;
  const auth = new AuthServer({
    db: opts.db,
    jwtSecret,
    baseUrl: () => baseUrl,
    ...(opts.accessTokenTtlSeconds !== undefined ? { accessTokenTtlSeconds: opts.accessTokenTtlSeconds } : {}),
    ...(opts.refreshTokenReuseIntervalSeconds !== undefined ? { refreshTokenReuseIntervalSeconds: opts.refreshTokenReuseIntervalSeconds } : {}),
    ...(opts.siteUrl ? { siteUrl: opts.siteUrl } : {}),
    ...(opts.redirectAllowList ? { redirectAllowList: opts.redirectAllowList } : {}),
    ...(opts.enableConfirmations !== undefined ? { enableConfirmations: opts.enableConfirmations } : {}),
  });
  const rest = new PostgrestServer({ db: opts.db, jwtSecret, anonKey });
  const realtime = new RealtimeServer({ db: opts.db, jwtSecret, anonKey });
  await realtime.start();
  const storage = new StorageServer({ db: opts.db, jwtSecret });
  await storage.start();

  const functions = new Map<string, { origin: string; verifyJwt: boolean }>();
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    if (offline) return void req.socket.destroy();
    const url = new URL(req.url ?? '/', baseUrl);
    const path = url.pathname;
    if (path.startsWith('/auth/v1/') || path === '/auth/v1') {
      const sub = path.slice('/auth/v1'.length) || '/';
      const browser = BROWSER_AUTH_ROUTES.has(sub) || sub.startsWith('/fake-provider/');
      if (!browser && !gatewayAllows(req.headers, url, [anonKey, serviceRoleKey], res)) return;
      void auth.handle(req, res, url, sub);
      return;
    }
    if (path.startsWith('/rest/v1/')) {
      if (!gatewayAllows(req.headers, url, [anonKey, serviceRoleKey], res)) return;
      void rest.handle(req, res, url, path.slice('/rest/v1'.length));
      return;
    }
    if (path.startsWith('/storage/v1/')) {
      if (!gatewayAllows(req.headers, url, [anonKey, serviceRoleKey], res)) return;
      void storage.handle(req, res, url, path.slice('/storage/v1'.length));
      return;
    }
    const fn = /^\/functions\/v1\/([^/?]+)/.exec(path);
    if (fn) {
      const target = functions.get(fn[1]!);
      if (!target) return sendJson(res, 404, { code: 'NOT_FOUND', message: 'Requested function was not found' });
      void forwardToFunction(req, res, target, jwtSecret, req.url!.slice('/functions/v1'.length));
      return;
    }
    sendJson(res, 404, { message: 'no Route matched with those values' });
  });
  server.on('connection', (s) => {
    if (offline) return void s.destroy();
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', baseUrl);
    if (offline || realtimeDown || url.pathname !== '/realtime/v1/websocket') return void socket.destroy();
    realtime.upgrade(req, socket, head, url);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('test server has no TCP address');
  baseUrl = `http://127.0.0.1:${address.port}`;

  return {
    url: baseUrl,
    anonKey,
    serviceRoleKey,
    jwtSecret,
    db: opts.db,
    auth,
    rest,
    realtime,
    storage,
    setOffline(value: boolean) {
      offline = value;
      if (value) {
        realtime.dropAllSockets();
        for (const s of sockets) s.destroy();
      }
    },
    setRealtimeDown(value: boolean) {
      realtimeDown = value;
      if (value) realtime.dropAllSockets();
    },
    signToken: (claims, expiresAt) => signJwt(jwtSecret, claims, expiresAt),
    addFunction(name, origin, fnOpts = {}) {
      functions.set(name, { origin, verifyJwt: fnOpts.verifyJwt ?? true });
    },
    async close() {
      await realtime.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await storage.close();
    },
  };
}

/** Kong's key-auth in front of a Supabase project: 401 without a known `apikey`. */
function gatewayAllows(
  headers: Record<string, string | string[] | undefined>,
  url: URL,
  keys: string[],
  res: import('node:http').ServerResponse,
): boolean {
  const key = apiKey({ headers } as import('node:http').IncomingMessage, url);
  if (!key) {
    sendJson(res, 401, { message: 'No API key found in request', hint: 'No `apikey` request header or url param was found.' });
    return false;
  }
  if (!keys.includes(key)) {
    sendJson(res, 401, { message: 'Invalid API key', hint: 'Double check your Supabase `anon` or `service_role` API key.' });
    return false;
  }
  return true;
}

/**
 * The functions route in front of the Edge Runtime: `verify_jwt` checks the bearer token's signature and
 * expiry (401 `Invalid JWT` / `Missing authorization header`; CORS preflights pass), then the request is
 * relayed with its body and the response streamed back as it comes (SSE stays incremental).
 */
async function forwardToFunction(
  req: IncomingMessage,
  res: ServerResponse,
  target: { origin: string; verifyJwt: boolean },
  jwtSecret: string,
  path: string,
): Promise<void> {
  if (target.verifyJwt && req.method !== 'OPTIONS') {
    const auth = String(req.headers.authorization ?? '');
    const m = /^Bearer\s+(.+)$/i.exec(auth);
    if (!m) return sendJson(res, 401, { code: 401, message: 'Missing authorization header' });
    try {
      await verifyJwt(jwtSecret, m[1]!);
    } catch {
      return sendJson(res, 401, { code: 401, message: 'Invalid JWT' });
    }
  }
  const up = new URL(target.origin);
  const headers = { ...req.headers, host: up.host };
  const out = httpRequest({ host: up.hostname, port: up.port, method: req.method, path, headers }, (fnRes) => {
    res.writeHead(fnRes.statusCode ?? 502, fnRes.headers);
    fnRes.pipe(res);
  });
  out.on('error', () => {
    if (!res.headersSent) sendJson(res, 503, { code: 'BOOT_ERROR', message: 'Function failed to start (please check logs)' });
    else res.destroy();
  });
  res.on('close', () => {
    if (!res.writableFinished) out.destroy();
  });
  req.pipe(out);
}
