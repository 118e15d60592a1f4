/**
 * A contract-faithful Supabase Storage test server for what `@supabase/storage-js` (through supabase-js's
 * `storage`) asks of it here: upload (`POST`/`PUT /object/<bucket>/<path>`, raw body or multipart, `x-upsert`),
 * download (`GET /object/<bucket>/<path>` and `/object/authenticated/...`), remove (`DELETE /object/<bucket>`
 * with `{prefixes}`, and `DELETE /object/<bucket>/<path>`), list (`POST /object/list/<bucket>`) and info.
 *
 * Follows supabase/storage (storage-api): every object operation runs as the JWT's role with its claims
 * (one transaction, `role` and `request.jwt.claims` set locally, as PostgREST does; test/support/supabase/
 * as-user.ts), so the policies on `storage.objects` decide exactly as on a project; the bucket's limits
 * (`file_size_limit`, `allowed_mime_types`) are read as the service, as storage-api does. Errors have
 * storage-api's body `{statusCode, code, error, message}` and its HTTP status: the body's code for 5xx, 400 for
 * the rest (storage-api's `userStatusCode`). Bytes live in a temporary directory, one file per object id.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PGliteInterface } from '@electric-sql/pglite';
import { asUser } from './as-user.js';
import { verifyJwt, type AccessTokenClaims } from './jwt.js';
import { bearer, isObject, sendJson } from './http.js';

export const STORAGE_API_FOLLOWED = 'supabase/storage v1.x (src/http/routes/object, src/internal/errors/codes.ts)';

/** storage-api's FILE_SIZE_LIMIT default: the global cap when a bucket sets none. */
const GLOBAL_FILE_SIZE_LIMIT = 50 * 1024 * 1024;

export interface StorageServerOptions {
  db: PGliteInterface;
  jwtSecret: string;
}

class StorageError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly error: string = code,
  ) {
    super(message);
  }
}

const ERRORS = {
  noSuchBucket: () => new StorageError(404, 'NoSuchBucket', 'Bucket not found', 'Bucket not found'),
  noSuchKey: () => new StorageError(404, 'NoSuchKey', 'Object not found', 'not_found'),
  invalidJwt: (message: string) => new StorageError(400, 'InvalidJWT', message),
  invalidKey: (key: string) => new StorageError(400, 'InvalidKey', `Invalid key: ${key}`),
  accessDenied: (message: string) => new StorageError(403, 'AccessDenied', message, 'Unauthorized'),
  keyExists: () => new StorageError(409, 'KeyAlreadyExists', 'The resource already exists', 'Duplicate'),
  tooLarge: () => new StorageError(413, 'EntityTooLarge', 'The object exceeded the maximum allowed size', 'Payload too large'),
  mimeType: (type: string) => new StorageError(415, 'InvalidMimeType', `mime type ${type} is not supported`, 'invalid_mime_type'),
  invalidRequest: (message: string) => new StorageError(400, 'InvalidRequest', message),
  notFoundRoute: () => new StorageError(404, 'not_found', 'Route not found'),
  internal: (message: string) => new StorageError(500, 'InternalError', message),
};

/** storage-api's `isValidKey`: the characters an object name may use. */
function isValidKey(key: string): boolean {
  return key.length > 0 && key.length <= 1024 && /^(\w|\/|!|-|\.|\*|'|\(|\)| |&|\$|@|=|;|:|\+|,|\?)*$/.test(key);
}

interface Bucket {
  id: string;
  file_size_limit: string | number | null;
  allowed_mime_types: string[] | null;
}

interface ObjectRow {
  id: string;
  name: string;
  bucket_id: string;
  owner: string | null;
  created_at: string;
  updated_at: string;
  last_accessed_at: string;
  metadata: Record<string, unknown> | null;
}

export class StorageServer {
  private dir: string | null = null;

  constructor(private readonly opts: StorageServerOptions) {}

  async start(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'cairn-storage-'));
  }

  async close(): Promise<void> {
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
    this.dir = null;
  }

  /** Handles a request under /storage/v1; `path` is the rest after that prefix. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL, path: string): Promise<void> {
    try {
      const claims = await this.claimsOf(req);
      const method = req.method ?? 'GET';
      let m: RegExpExecArray | null;
      if (method === 'POST' && (m = /^\/object\/list\/([^/]+)$/.exec(path))) {
        return await this.list(req, res, claims, decodeURIComponent(m[1]!));
      }
      if (method === 'GET' && (m = /^\/object\/info\/(?:authenticated\/)?([^/]+)\/(.+)$/.exec(path))) {
        return await this.info(res, claims, decodeURIComponent(m[1]!), decodeURIComponent(m[2]!));
      }
      if ((method === 'GET' || method === 'HEAD') && (m = /^\/object\/(?:authenticated\/)?([^/]+)\/(.+)$/.exec(path))) {
        return await this.download(res, claims, decodeURIComponent(m[1]!), decodeURIComponent(m[2]!), method === 'HEAD');
      }
      if ((method === 'POST' || method === 'PUT') && (m = /^\/object\/([^/]+)\/(.+)$/.exec(path))) {
        const upsert = method === 'PUT' || String(req.headers['x-upsert'] ?? '') === 'true';
        return await this.upload(req, res, claims, decodeURIComponent(m[1]!), decodeURIComponent(m[2]!), { upsert, update: method === 'PUT' });
      }
      if (method === 'DELETE' && (m = /^\/object\/([^/]+)$/.exec(path))) {
        return await this.removeMany(req, res, claims, decodeURIComponent(m[1]!));
      }
      if (method === 'DELETE' && (m = /^\/object\/([^/]+)\/(.+)$/.exec(path))) {
        return await this.removeOne(res, claims, decodeURIComponent(m[1]!), decodeURIComponent(m[2]!));
      }
      throw ERRORS.notFoundRoute();
    } catch (err) {
      const e = err instanceof StorageError ? err : ERRORS.internal(err instanceof Error ? err.message : String(err));
      // storage-api answers 400 for every client error and puts the real status in the body.
      sendJson(res, e.statusCode >= 500 ? e.statusCode : 400, { statusCode: String(e.statusCode), code: e.code, error: e.error, message: e.message });
    }
  }

  private async claimsOf(req: IncomingMessage): Promise<AccessTokenClaims> {
    const token = bearer(req);
    if (!token) throw ERRORS.invalidJwt('No authorization header was provided');
    try {
      return await verifyJwt(this.opts.jwtSecret, token);
    } catch (err) {
      throw ERRORS.invalidJwt(err instanceof Error && /expired/i.test(err.message) ? 'jwt expired' : 'invalid signature');
    }
  }

  /** The bucket as the service sees it (storage-api reads limits with its own role, not the caller's). */
  private async bucket(id: string): Promise<Bucket> {
    const { rows } = await this.opts.db.query<Bucket>(`select id, file_size_limit, allowed_mime_types from storage.buckets where id = $1`, [id]);
    if (!rows[0]) throw ERRORS.noSuchBucket();
    return rows[0];
  }

  private file(id: string): string {
    if (!this.dir) throw ERRORS.internal('storage server not started');
    return join(this.dir, id);
  }

  /** Runs `work` as the caller, mapping the database's refusals as storage-api does. */
  private async asCaller<T>(claims: AccessTokenClaims, method: string, path: string, work: Parameters<typeof asUser<T>>[2]): Promise<T> {
    try {
      return await asUser(this.opts.db, claims, work, { method, path });
    } catch (err) {
      if (err instanceof StorageError) throw err;
      const code = (err as { code?: string }).code;
      if (code === '42501') throw ERRORS.accessDenied((err as Error).message);
      if (code === '23505') throw ERRORS.keyExists();
      throw ERRORS.internal((err as Error).message);
    }
  }

  private async upload(
    req: IncomingMessage,
    res: ServerResponse,
    claims: AccessTokenClaims,
    bucketId: string,
    rawName: string,
    mode: { upsert: boolean; update: boolean },
  ): Promise<void> {
    const name = rawName.replace(/^\/+|\/+$/g, '');
    if (!isValidKey(name)) throw ERRORS.invalidKey(name);
    const bucket = await this.bucket(bucketId);
    const limit = Math.min(bucket.file_size_limit !== null ? Number(bucket.file_size_limit) : GLOBAL_FILE_SIZE_LIMIT, GLOBAL_FILE_SIZE_LIMIT);
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit + 64 * 1024) throw ERRORS.tooLarge();
    const raw = await readRaw(req, limit + 64 * 1024);
    const contentType = String(req.headers['content-type'] ?? 'application/octet-stream');
    let bytes: Buffer;
    let mimetype: string;
    let cacheControl = String(req.headers['cache-control'] ?? 'no-cache');
    let userMetadata: unknown = null;
    if (contentType.startsWith('multipart/form-data')) {
      const form = await new Request('http://storage.local/', { method: 'POST', headers: { 'content-type': contentType }, body: new Uint8Array(raw) }).formData();
      let file: File | null = null;
      for (const [, value] of form) if (typeof value !== 'string') file = value;
      if (!file) throw ERRORS.invalidRequest('No content provided');
      bytes = Buffer.from(await file.arrayBuffer());
      mimetype = file.type || 'text/plain;charset=UTF-8';
      const cc = form.get('cacheControl');
      if (typeof cc === 'string') cacheControl = `max-age=${cc}`;
      const meta = form.get('metadata');
      if (typeof meta === 'string') userMetadata = JSON.parse(meta);
    } else {
      bytes = raw;
      mimetype = contentType;
      const meta = req.headers['x-metadata'];
      if (typeof meta === 'string') userMetadata = JSON.parse(Buffer.from(meta, 'base64').toString('utf8'));
    }
    if (bytes.length > limit) throw ERRORS.tooLarge();
    const bare = mimetype.split(';')[0]!.trim().toLowerCase();
    if (bucket.allowed_mime_types && bucket.allowed_mime_types.length > 0) {
      const ok = bucket.allowed_mime_types.some((allowed) => {
        const a = allowed.toLowerCase();
        return a.endsWith('/*') ? bare.startsWith(a.slice(0, -1)) : a === bare;
      });
      if (!ok) throw ERRORS.mimeType(mimetype);
    }
    const version = randomUUID();
    const metadata = {
      eTag: `"${createHash('md5').update(bytes).digest('hex')}"`,
      size: bytes.length,
      mimetype,
      cacheControl,
      lastModified: new Date().toISOString(),
      contentLength: bytes.length,
      httpStatusCode: 200,
    };
    const owner = claims.role === 'authenticated' && typeof claims.sub === 'string' ? claims.sub : null;
    const row = await this.asCaller(claims, req.method ?? 'POST', `/object/${bucketId}/${name}`, async (tx) => {
      const values = `($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7)`;
      const params = [bucketId, name, owner, owner, JSON.stringify(metadata), userMetadata === null ? null : JSON.stringify(userMetadata), version];
      let sql: string;
      if (mode.update) {
        sql = `update storage.objects set owner = $3, owner_id = $4, metadata = $5::jsonb, user_metadata = $6::jsonb, version = $7, updated_at = now()
                where bucket_id = $1 and name = $2 returning id`;
      } else if (mode.upsert) {
        sql = `insert into storage.objects (bucket_id, name, owner, owner_id, metadata, user_metadata, version) values ${values}
               on conflict (bucket_id, name) do update set owner = excluded.owner, owner_id = excluded.owner_id, metadata = excluded.metadata,
               user_metadata = excluded.user_metadata, version = excluded.version, updated_at = now() returning id`;
      } else {
        sql = `insert into storage.objects (bucket_id, name, owner, owner_id, metadata, user_metadata, version) values ${values} returning id`;
      }
      const { rows } = await tx.query<{ id: string }>(sql, params);
      if (!rows[0]) throw mode.update ? ERRORS.noSuchKey() : ERRORS.accessDenied('new row violates row-level security policy');
      // The bytes land before the row commits: a failed write rolls the row back.
      await writeFile(this.file(rows[0].id), bytes);
      return rows[0];
    });
    sendJson(res, 200, { Id: row.id, Key: `${bucketId}/${name}` });
  }

  private async findVisible(claims: AccessTokenClaims, bucketId: string, name: string, method: string): Promise<ObjectRow> {
    const rows = await this.asCaller(claims, method, `/object/${bucketId}/${name}`, async (tx) => {
      const r = await tx.query<ObjectRow>(
        `select id, name, bucket_id, owner, created_at, updated_at, last_accessed_at, metadata from storage.objects where bucket_id = $1 and name = $2`,
        [bucketId, name],
      );
      return r.rows;
    });
    if (!rows[0]) throw ERRORS.noSuchKey();
    return rows[0];
  }

  private async download(res: ServerResponse, claims: AccessTokenClaims, bucketId: string, name: string, head: boolean): Promise<void> {
    await this.bucket(bucketId);
    const obj = await this.findVisible(claims, bucketId, name, head ? 'HEAD' : 'GET');
    const bytes = await readFile(this.file(obj.id)).catch(() => null);
    if (!bytes) throw ERRORS.noSuchKey();
    const meta = obj.metadata ?? {};
    res.writeHead(200, {
      'content-type': String(meta.mimetype ?? 'application/octet-stream'),
      'content-length': bytes.length,
      'cache-control': String(meta.cacheControl ?? 'no-cache'),
      etag: String(meta.eTag ?? ''),
      'last-modified': new Date(String(meta.lastModified ?? obj.updated_at)).toUTCString(),
    });
    res.end(head ? undefined : bytes);
  }

  private async info(res: ServerResponse, claims: AccessTokenClaims, bucketId: string, name: string): Promise<void> {
    await this.bucket(bucketId);
    const obj = await this.findVisible(claims, bucketId, name, 'GET');
    const meta = obj.metadata ?? {};
    sendJson(res, 200, {
      id: obj.id,
      name: obj.name,
      bucket_id: obj.bucket_id,
      version: null,
      size: meta.size ?? null,
      content_type: meta.mimetype ?? null,
      cache_control: meta.cacheControl ?? null,
      etag: meta.eTag ?? null,
      metadata: null,
      created_at: obj.created_at,
      last_modified: meta.lastModified ?? obj.updated_at,
    });
  }

  private async removeMany(req: IncomingMessage, res: ServerResponse, claims: AccessTokenClaims, bucketId: string): Promise<void> {
    const body = await readJsonBody(req);
    const prefixes = isObject(body) ? body.prefixes : undefined;
    if (!Array.isArray(prefixes) || prefixes.length < 1 || prefixes.length > 1000 || !prefixes.every((p) => typeof p === 'string')) {
      throw ERRORS.invalidRequest('body/prefixes must be an array of 1 to 1000 object names');
    }
    await this.bucket(bucketId);
    const deleted = await this.asCaller(claims, 'DELETE', `/object/${bucketId}`, async (tx) => {
      const r = await tx.query<ObjectRow>(
        `delete from storage.objects where bucket_id = $1 and name = any($2::text[])
         returning id, name, bucket_id, owner, created_at, updated_at, last_accessed_at, metadata`,
        [bucketId, prefixes],
      );
      return r.rows;
    });
    await Promise.all(deleted.map((o) => rm(this.file(o.id), { force: true })));
    sendJson(res, 200, deleted);
  }

  private async removeOne(res: ServerResponse, claims: AccessTokenClaims, bucketId: string, name: string): Promise<void> {
    await this.bucket(bucketId);
    const deleted = await this.asCaller(claims, 'DELETE', `/object/${bucketId}/${name}`, async (tx) => {
      const r = await tx.query<{ id: string }>(`delete from storage.objects where bucket_id = $1 and name = $2 returning id`, [bucketId, name]);
      return r.rows;
    });
    if (!deleted[0]) throw ERRORS.noSuchKey();
    await rm(this.file(deleted[0].id), { force: true });
    sendJson(res, 200, { message: 'Successfully deleted' });
  }

  /**
   * storage-api's `storage.search`: one level below `prefix`, folders (id null) and files, as the caller sees
   * them; a folder shows only when an object the caller may read lies under it.
   */
  private async list(req: IncomingMessage, res: ServerResponse, claims: AccessTokenClaims, bucketId: string): Promise<void> {
    const body = await readJsonBody(req);
    if (!isObject(body)) throw ERRORS.invalidRequest('body must be an object');
    const prefix = typeof body.prefix === 'string' ? body.prefix.replace(/^\/+|\/+$/g, '') : '';
    const limit = typeof body.limit === 'number' ? Math.max(1, Math.min(1000, body.limit)) : 100;
    const offset = typeof body.offset === 'number' ? Math.max(0, body.offset) : 0;
    const search = typeof body.search === 'string' ? body.search.toLowerCase() : '';
    const sortBy = isObject(body.sortBy) ? body.sortBy : {};
    const column = ['name', 'updated_at', 'created_at', 'last_accessed_at'].includes(String(sortBy.column)) ? String(sortBy.column) : 'name';
    const desc = String(sortBy.order ?? 'asc').toLowerCase() === 'desc';
    await this.bucket(bucketId);
    const base = prefix ? `${prefix}/` : '';
    const rows = await this.asCaller(claims, 'POST', `/object/list/${bucketId}`, async (tx) => {
      const r = await tx.query<ObjectRow>(
        `select id, name, bucket_id, owner, created_at, updated_at, last_accessed_at, metadata from storage.objects
          where bucket_id = $1 and starts_with(name, $2)`,
        [bucketId, base],
      );
      return r.rows;
    });
    const entries = new Map<string, Record<string, unknown>>();
    for (const o of rows) {
      const rest = o.name.slice(base.length);
      const slash = rest.indexOf('/');
      const entry = slash === -1 ? rest : rest.slice(0, slash);
      if (!entry || (search && !entry.toLowerCase().includes(search))) continue;
      if (slash === -1) {
        entries.set(entry, { name: entry, id: o.id, updated_at: o.updated_at, created_at: o.created_at, last_accessed_at: o.last_accessed_at, metadata: o.metadata });
      } else if (!entries.has(entry)) {
        entries.set(entry, { name: entry, id: null, updated_at: null, created_at: null, last_accessed_at: null, metadata: null });
      }
    }
    const sorted = [...entries.values()].sort((a, b) => {
      const x = String(a[column] ?? '');
      const y = String(b[column] ?? '');
      return (x < y ? -1 : x > y ? 1 : 0) * (desc ? -1 : 1);
    });
    sendJson(res, 200, sorted.slice(offset, offset + limit));
  }
}

async function readRaw(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.resume();
      throw ERRORS.tooLarge();
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, size);
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const text = (await readRaw(req, 1024 * 1024)).toString('utf8');
  if (!text.trim()) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw ERRORS.invalidRequest('Body is not valid JSON');
  }
}
