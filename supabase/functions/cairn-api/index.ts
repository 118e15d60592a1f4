/**
 * cairn-api: Cairn's knowledge base and shared sessions for scripts and CI, with a personal API key
 * (docs/api-keys.md). Deployed with `verify_jwt = false` (config.toml): the caller presents no Supabase JWT
 * but `Authorization: Bearer cairn_<64 hex>`.
 *
 *   POST /cairn-api/search            {query, project, limit?, pathPrefix?, glob?, language?, kind?}
 *   GET  /cairn-api/projects          the projects the key may read
 *   GET  /cairn-api/sessions/<id>.md  a shared (team) session as Markdown
 *
 * Each request resolves the key first (private.authenticate_api_key, as service_role: an unknown, revoked or
 * expired key is refused with 401, every accepted use is counted in api_usage), then runs the SQL API *as the
 * key's owner* over SUPABASE_DB_URL: one transaction with `set local role authenticated` and the owner's
 * claims in `request.jwt.claims`, exactly as PostgREST and the daemon's SQL store do, so Row Level Security
 * decides as it does for the owner in the editor. The key's project list narrows that further. The search is
 * the daemon's (supabase/functions/_shared/kb-query.ts), so the hits are the ones its owner gets.
 */
import postgres from 'npm:postgres@3.4.9';
import {
  LOCAL_HASH_ID,
  kbSearchArgs,
  localHashEmbed,
  searchHit,
  searchLimit,
  vectorText,
  type KbSearchRow,
  type SearchHit,
} from '../_shared/kb-query.ts';
import { sessionMarkdown } from '../_shared/session-markdown.ts';

const FUNCTION_NAME = 'cairn-api';
const KEY = /^cairn_[0-9a-f]{64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KINDS = new Set(['file', 'document', 'url', 'faq']);
const MAX_BODY_BYTES = 64 * 1024;
const MESSAGE_PAGE = 200;

const dbUrl = Deno.env.get('SUPABASE_DB_URL');
// prepare: false, as Supabase's transaction pooler (and any pooler) cannot keep named statements.
const sql = dbUrl ? postgres(dbUrl, { prepare: false, max: 4, idle_timeout: 20, connect_timeout: 10, onnotice: () => {} }) : null;

type Tx = postgres.TransactionSql;

/** The owner and scope of an accepted key. */
interface KeyOwner {
  keyId: string;
  userId: string;
  email: string | null;
  /** Null: every project the owner can read. */
  projectIds: string[] | null;
}

/** An answer other than 200, with a stable `error` code and a sentence for people. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers } });
}

function errorResponse(e: ApiError): Response {
  const headers: Record<string, string> = e.status === 401 ? { 'www-authenticate': 'Bearer realm="cairn-api"' } : {};
  return json(e.status, { error: e.code, message: e.message }, headers);
}

/** SQLSTATEs of the SQL API (docs/sql-api.md) to HTTP answers; anything else is the server's fault. */
function fromDbError(err: unknown): ApiError {
  const code = (err as { code?: unknown })?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'P0002') return new ApiError(404, 'not_found', message);
  if (code === '42501') return new ApiError(403, 'forbidden', message);
  if (code === '28000') return new ApiError(401, 'invalid_api_key', message);
  if (typeof code === 'string' && (code.startsWith('22') || code === '23514' || code === '23502')) return new ApiError(400, 'invalid_request', message);
  console.error(`cairn-api: database error ${typeof code === 'string' ? code : ''}: ${message}`);
  return new ApiError(500, 'internal', 'The server could not answer; try again later.');
}

/** The key from `Authorization: Bearer <key>`, resolved, its use counted; 401 for anything else. */
async function authenticate(req: Request, db: postgres.Sql, endpoint: string): Promise<KeyOwner> {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.get('authorization') ?? '');
  if (!m) throw new ApiError(401, 'missing_api_key', 'Send the API key as `Authorization: Bearer <key>`.');
  const key = m[1]!;
  const refused = new ApiError(401, 'invalid_api_key', 'The API key is unknown, revoked or expired.');
  if (!KEY.test(key)) throw refused;
  const rows = await db.begin(async (tx) => {
    await tx.unsafe('set local role service_role');
    return await tx.unsafe<Array<{ key_id: string; user_id: string; email: string | null; project_ids: string[] | null }>>(
      'select key_id::text, user_id::text, email, project_ids::text[] as project_ids from private.authenticate_api_key($1, $2)',
      [key, endpoint],
    );
  });
  const row = rows[0];
  if (!row) throw refused;
  return { keyId: row.key_id, userId: row.user_id, email: row.email, projectIds: row.project_ids };
}

/**
 * Runs `fn` as the key's owner: the transaction PostgREST runs for a request with the owner's access token
 * (role authenticated, GoTrue-shaped claims, aal1: a key never passes a second factor).
 */
function asOwner<T>(db: postgres.Sql, owner: KeyOwner, method: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const claims = {
    sub: owner.userId,
    role: 'authenticated',
    aud: 'authenticated',
    email: owner.email,
    aal: 'aal1',
    amr: [{ method: 'api_key', timestamp: Math.floor(Date.now() / 1000) }],
    is_anonymous: false,
    api_key_id: owner.keyId,
  };
  return db.begin(async (tx) => {
    await tx.unsafe('set local role authenticated');
    await tx.unsafe(`select set_config('request.jwt.claims', $1, true), set_config('request.method', $2, true)`, [JSON.stringify(claims), method]);
    return await fn(tx);
  }) as Promise<T>;
}

function inScope(owner: KeyOwner, projectId: string): boolean {
  return owner.projectIds === null || owner.projectIds.includes(projectId);
}

interface ProjectRow {
  id: string;
  name: string;
  team_id: string | null;
}

/** The projects the owner can read (RLS) and the key may read (its list), by name. */
async function readableProjects(tx: Tx, owner: KeyOwner): Promise<ProjectRow[]> {
  const rows = await tx.unsafe<ProjectRow[]>('select id::text, name, team_id::text from public.list_projects()');
  return rows.filter((p) => inScope(owner, p.id)).map((p) => ({ id: p.id, name: p.name, team_id: p.team_id }));
}

/** `project` as an id or a name: the one project it names that the key may read. */
async function pickProject(tx: Tx, owner: KeyOwner, project: string): Promise<ProjectRow> {
  if (UUID.test(project) && !inScope(owner, project.toLowerCase())) {
    throw new ApiError(403, 'project_not_in_key', 'This API key may not read that project; create a key that names it.');
  }
  const projects = await readableProjects(tx, owner);
  const hits = UUID.test(project) ? projects.filter((p) => p.id === project.toLowerCase()) : projects.filter((p) => p.name === project);
  if (hits.length === 0) throw new ApiError(404, 'project_not_found', `No project "${project}" that this key may read.`);
  if (hits.length > 1) throw new ApiError(409, 'ambiguous_project', `Several projects are named "${project}"; give its id (GET /projects).`);
  return hits[0]!;
}

interface SearchBody {
  query: string;
  project: string;
  limit?: number;
  pathPrefix?: string;
  glob?: string;
  language?: string;
  kind?: string;
}

function optionalText(body: Record<string, unknown>, name: string, max: number): string | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length > max) throw new ApiError(400, 'invalid_request', `${name} must be a string of at most ${max} characters`);
  return v;
}

function parseSearch(body: unknown): SearchBody {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ApiError(400, 'invalid_request', 'The body must be a JSON object.');
  const b = body as Record<string, unknown>;
  const query = b.query;
  if (typeof query !== 'string' || query.trim().length === 0 || query.length > 4000) {
    throw new ApiError(400, 'invalid_request', 'query must be a non-empty string of at most 4000 characters');
  }
  const project = b.project;
  if (typeof project !== 'string' || project.length === 0 || project.length > 200) {
    throw new ApiError(400, 'invalid_request', 'project must be a project id or name (GET /projects lists them)');
  }
  const limit = b.limit;
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 100)) {
    throw new ApiError(400, 'invalid_request', 'limit must be an integer from 1 to 100');
  }
  const kind = optionalText(b, 'kind', 20);
  if (kind !== undefined && !KINDS.has(kind)) throw new ApiError(400, 'invalid_request', 'kind must be file, document, url or faq');
  return {
    query,
    project,
    limit: limit as number | undefined,
    pathPrefix: optionalText(b, 'pathPrefix', 1000),
    glob: optionalText(b, 'glob', 1000),
    language: optionalText(b, 'language', 100),
    kind,
  };
}

async function readJson(req: Request): Promise<unknown> {
  const text = await req.text();
  if (new TextEncoder().encode(text).length > MAX_BODY_BYTES) throw new ApiError(413, 'body_too_large', 'The body is over 64 KiB.');
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, 'invalid_request', 'The body is not JSON.');
  }
}

/**
 * The search its owner runs in the editor (daemon/src/kb/search.ts): the project's active model
 * (kb_active_model), the query embedded by the offline hash embedder when that is the model (a provider's
 * model is not reachable from here: words only), one kb_search call in the same transaction.
 */
async function search(tx: Tx, owner: KeyOwner, q: SearchBody): Promise<{ project: { id: string; name: string }; model: string | null; hits: SearchHit[] }> {
  const project = await pickProject(tx, owner, q.project);
  const [active] = await tx.unsafe<Array<{ model: string | null }>>('select public.kb_active_model($1::uuid) as model', [project.id]);
  const model = active?.model ?? null;
  if (!model) return { project: { id: project.id, name: project.name }, model: null, hits: [] };
  const embedding = model === LOCAL_HASH_ID ? vectorText(localHashEmbed(q.query)) : null;
  const args = kbSearchArgs(project.id, model, embedding, { ...q, limit: searchLimit(q.limit) });
  const rows = await tx.unsafe<Array<{ v: KbSearchRow }>>(
    `select to_jsonb(r) as v from public.kb_search(
       p_project_id => $1::uuid, p_query => $2::text, p_query_embedding => $3::text, p_embedding_model => $4::text,
       p_limit => $5::integer, p_path_prefix => $6::text, p_path_glob => $7::text, p_language => $8::text,
       p_kind => $9::text, p_min_similarity => $10::double precision) as r`,
    [
      args.p_project_id,
      args.p_query,
      args.p_query_embedding,
      args.p_embedding_model,
      args.p_limit,
      args.p_path_prefix,
      args.p_path_glob,
      args.p_language,
      args.p_kind,
      args.p_min_similarity,
    ],
  );
  return { project: { id: project.id, name: project.name }, model, hits: rows.map((r) => searchHit(r.v, q.query)) };
}

function iso(v: string): string {
  return new Date(v).toISOString();
}

/** A team session the key may read, as the MCP session resource renders it; 404 for anything else. */
async function sessionAsMarkdown(tx: Tx, owner: KeyOwner, sessionId: string): Promise<string> {
  const notFound = new ApiError(404, 'session_not_found', 'No shared session with that id that this key may read.');
  if (!UUID.test(sessionId)) throw notFound;
  let session: { id: string; title: string; visibility: string; archived_at: string | null; last_message_at: string; project_id: string | null };
  try {
    const [row] = await tx.unsafe<Array<{ v: typeof session }>>('select to_jsonb(s) as v from public.get_session($1::uuid) as s', [sessionId]);
    if (!row?.v) throw notFound;
    session = row.v;
  } catch (e) {
    if ((e as { code?: string }).code === 'P0002') throw notFound;
    throw e;
  }
  // Only what the team shares: a private session stays in its owner's editor, even for their own key.
  if (session.visibility !== 'team' || !session.project_id) throw notFound;
  if (!inScope(owner, session.project_id)) throw new ApiError(403, 'project_not_in_key', "This API key may not read that session's project.");
  const [access] = await tx.unsafe<Array<{ a: string }>>('select public.session_access($1::uuid) as a', [sessionId]);
  const messages: Array<{ seq: number; role: string; content: string; status: string; createdAt: string }> = [];
  for (let after = 0; ; ) {
    const page = await tx.unsafe<Array<{ v: { seq: number; role: string; content: string; status: string; created_at: string } }>>(
      'select to_jsonb(m) as v from public.list_messages(p_session_id => $1::uuid, p_after_seq => $2::integer, p_limit => $3::integer) as m',
      [sessionId, after, MESSAGE_PAGE],
    );
    for (const { v } of page) messages.push({ seq: v.seq, role: v.role, content: v.content, status: v.status, createdAt: iso(v.created_at) });
    if (page.length < MESSAGE_PAGE) break;
    after = page[page.length - 1]!.v.seq;
  }
  return sessionMarkdown(
    { id: session.id, title: session.title, visibility: session.visibility, archived: session.archived_at !== null, updatedAt: iso(session.last_message_at) },
    messages,
    access?.a ?? 'read',
  );
}

/** The route under the function's name: `/cairn-api/search` (as Supabase passes it) or `/search`. */
function routeOf(url: URL): string {
  const path = url.pathname.replace(/\/+$/, '');
  const prefix = `/${FUNCTION_NAME}`;
  return path === prefix ? '/' : path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : path || '/';
}

async function handle(req: Request): Promise<Response> {
  const route = routeOf(new URL(req.url));
  const session = /^\/sessions\/([^/]+)\.md$/.exec(route);
  let endpoint: string;
  if (route === '/search' && req.method === 'POST') endpoint = 'search';
  else if (route === '/projects' && req.method === 'GET') endpoint = 'projects';
  else if (session && req.method === 'GET') endpoint = 'sessions';
  else if (req.method === 'OPTIONS') return new Response(null, { status: 204, headers: { allow: 'GET, POST, OPTIONS' } });
  else return json(404, { error: 'no_route', message: 'Routes: POST /search, GET /projects, GET /sessions/<id>.md' });
  if (!sql) return json(500, { error: 'internal', message: 'SUPABASE_DB_URL is not set for this function.' });
  try {
    // Validate the body before the key is counted, so a malformed request costs no use.
    const body = endpoint === 'search' ? parseSearch(await readJson(req)) : null;
    const owner = await authenticate(req, sql, `${FUNCTION_NAME}/${endpoint}`);
    if (body) return json(200, await asOwner(sql, owner, 'POST', (tx) => search(tx, owner, body)));
    if (endpoint === 'projects') {
      const projects = await asOwner(sql, owner, 'GET', (tx) => readableProjects(tx, owner));
      return json(200, { projects: projects.map((p) => ({ id: p.id, name: p.name, teamId: p.team_id })) });
    }
    const markdown = await asOwner(sql, owner, 'GET', (tx) => sessionAsMarkdown(tx, owner, session![1]!));
    return new Response(markdown, { status: 200, headers: { 'content-type': 'text/markdown; charset=utf-8' } });
  } catch (e) {
    return errorResponse(e instanceof ApiError ? e : fromDbError(e));
  }
}

Deno.serve(handle);
