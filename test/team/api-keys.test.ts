/**
 * Personal API keys and the Edge Function cairn-api: the function runs unchanged under Deno
 * (test/support/deno.ts) against the project's PGlite over pglite-socket (its SUPABASE_DB_URL), behind the
 * test project's /functions/v1 route with verify_jwt off, as config.toml deploys it. A script with a key gets
 * what its owner gets in the editor and nothing more: the same search hits as the daemon's, nothing of another
 * team, only the projects the key names, and nothing once the key is revoked or expired. Every accepted use is
 * counted in api_usage.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { ConfigHolder, configFromEnv } from '../../daemon/src/config.js';
import { LocalHashEmbedder } from '../../daemon/src/kb/embed.js';
import { indexWorkspace } from '../../daemon/src/kb/indexer.js';
import { searchKnowledgeBase } from '../../daemon/src/kb/search.js';
import { chooseProject } from '../../daemon/src/workspace/project.js';
import { toMessage, toSession, type SessionRow } from '../../daemon/src/chat/rows.js';
import type { MessageRow } from '../../daemon/src/chat/rows.js';
import { sessionMarkdown } from '../../daemon/src/mcp/tools.js';
import type { Store } from '../../daemon/src/store/types.js';
import { startEdgeFunction, type EdgeFunction } from '../support/deno.js';
import { DaemonClient, DaemonResponseError } from '../../daemon/src/protocol/client/client.js';
import { signUp, startProject, storeFor, type Project } from './harness.js';
import { buildTeam, leaveAll, type Team } from './scenarios.js';
import { startDaemon } from '../../daemon/src/host/daemon.js';
import { subsystems } from '../../daemon/src/host/run.js';
import { rpcUntyped } from '../support/db.js';

const BILLING = `export function computeQuarterlyTaxRebate(amountCents: number): number {
  // The rebate is seven percent, rounded to the cent.
  return Math.round(amountCents * 0.07);
}
`;
const README = '# Shop\n\nInvoices, rebates and the quarterly tax report live in src/billing.\n';
const RIVAL = '# Rival\n\nOur quarterly tax rebate secret: RIVAL-ONLY-MARKER.\n';
const PERSONAL = '# Notes\n\nMy own quarterly tax rebate scratchpad: PERSONAL-ONLY-MARKER.\n';

interface CreatedKey {
  id: string;
  key: string;
  project_ids: string[] | null;
  expires_at: string | null;
}

async function folder(dir: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), text);
  }
}

describe('API keys through the cairn-api Edge Function (Deno, PGlite over a socket)', function () {
  this.timeout(180_000);
  let project: Project;
  let team: Team;
  let socket: PGLiteSocketServer;
  let fn: EdgeFunction;
  let tmp: string;
  let dirA: string;
  let personalProjectId: string;
  let rivalProjectId: string;
  const config = configFromEnv({});

  const api = (path: string, key: string | null, init: RequestInit = {}) =>
    fetch(`${project.url}/functions/v1/cairn-api${path}`, {
      ...init,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), 'content-type': 'application/json', ...(init.headers ?? {}) },
    });
  const search = (key: string | null, body: Record<string, unknown>) => api('/search', key, { method: 'POST', body: JSON.stringify(body) });
  const createKey = (store: Store, args: Record<string, unknown>) => rpcUntyped<CreatedKey>(store, 'create_api_key', args);
  const indexAs = async (store: Store, dir: string, home: string, choice: { projectId: string | null; personal?: boolean }) => {
    await chooseProject(store, dir, choice);
    const run = await indexWorkspace({ store, config, home, embedder: new LocalHashEmbedder() }, dir);
    assert.equal(run.errors.length, 0, JSON.stringify(run.errors));
    return run.projectId;
  };

  before(async () => {
    project = await startProject();
    team = await buildTeam({ project, person: (name) => signUp(project, name) }, 'shop');
    tmp = await mkdtemp(join(tmpdir(), 'cairn-api-keys-'));
    // The owner's clone of the team repository, and a personal folder; the outsider's own team and project.
    dirA = join(tmp, 'ann', 'shop');
    await folder(dirA, { 'src/billing/invoice.ts': BILLING, 'README.md': README });
    const annHome = join(tmp, 'ann-home');
    await indexAs(team.owner.store, dirA, annHome, { projectId: team.projectId });
    const dirP = join(tmp, 'ann', 'notes');
    await folder(dirP, { 'NOTES.md': PERSONAL });
    personalProjectId = await indexAs(team.owner.store, dirP, annHome, { projectId: null, personal: true });
    const rivalTeam = await rpcUntyped<{ id: string }>(team.outsider.store, 'create_team', { p_name: 'Rival' });
    const rival = await rpcUntyped<{ id: string }>(team.outsider.store, 'ensure_project', {
      p_root_uri: 'file:///work/rival',
      p_name: 'rival',
      p_git_remote: 'github.com/example/rival',
      p_team_id: rivalTeam.id,
    });
    rivalProjectId = rival.id;
    const dirR = join(tmp, 'olga', 'rival');
    await folder(dirR, { 'README.md': RIVAL });
    assert.equal(await indexAs(team.outsider.store, dirR, join(tmp, 'olga-home'), { projectId: rivalProjectId }), rivalProjectId);
    // PGlite has one session: the change feeds' in-process queries must not interleave with the socket's.
    for (const m of [team.owner, team.member, team.viewer, team.outsider]) await m.stop();

    socket = new PGLiteSocketServer({ db: project.tdb!.db, host: '127.0.0.1', port: 0, maxConnections: 4 });
    await socket.start();
    fn = await startEdgeFunction('cairn-api', {
      SUPABASE_URL: project.url,
      SUPABASE_ANON_KEY: project.anonKey,
      SUPABASE_DB_URL: `postgresql://postgres:postgres@${socket.getServerConn()}/postgres`,
    });
    project.servers!.addFunction('cairn-api', fn.origin, { verifyJwt: false });
  });

  after(async () => {
    await fn?.stop();
    await socket?.stop();
    if (team) await leaveAll([team.owner, team.member, team.viewer, team.outsider]);
    await project?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('a script with a key gets the search hits its owner gets in the daemon, by project id or name', async () => {
    const { key } = await createKey(team.owner.store, { p_name: 'CI docs job' });
    assert.match(key, /^cairn_[0-9a-f]{64}$/);
    for (const query of ['quarterly tax rebate', 'computeQuarterlyTaxRebate', 'invoices']) {
      const inEditor = await searchKnowledgeBase(team.owner.store, new ConfigHolder(config), { root: dirA, query, limit: 5 });
      assert.ok(inEditor.length > 0, `the owner finds something for "${query}"`);
      const res = await search(key, { query, project: team.projectId, limit: 5 });
      const body = (await res.json()) as { hits: unknown[]; model: string; project: { id: string; name: string } };
      assert.equal(res.status, 200, JSON.stringify(body) + fn.output().slice(-2000));
      assert.deepEqual(body.hits, inEditor, `same hits for "${query}"`);
      assert.equal(body.model, 'cairn-local-hash-v1-384');
      const byName = (await (await search(key, { query, project: 'shop', limit: 5 })).json()) as { hits: unknown[]; project: { id: string } };
      assert.equal(byName.project.id, team.projectId);
      assert.deepEqual(byName.hits, inEditor);
    }
  });

  it('sees nothing of another team: its project is not found and never listed', async () => {
    const { key } = await createKey(team.owner.store, { p_name: 'everything I can read' });
    const res = await search(key, { query: 'quarterly tax rebate', project: rivalProjectId });
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error: string }).error, 'project_not_found');
    assert.equal((await search(key, { query: 'rebate', project: 'rival' })).status, 404);
    const listed = (await (await api('/projects', key)).json()) as { projects: Array<{ id: string }> };
    assert.deepEqual(listed.projects.map((p) => p.id).sort(), [team.projectId, personalProjectId].sort(), 'the owner\'s two projects, not the rival\'s');
    const hits = (await (await search(key, { query: 'RIVAL-ONLY-MARKER quarterly tax rebate', project: team.projectId })).json()) as { hits: Array<{ snippet: string }> };
    assert.ok(hits.hits.every((h) => !h.snippet.includes('RIVAL-ONLY-MARKER')));
  });

  it('a key scoped to project A cannot read project B of the same owner', async () => {
    const { key, project_ids } = await createKey(team.owner.store, { p_name: 'team only', p_project_ids: [team.projectId] });
    assert.deepEqual(project_ids, [team.projectId]);
    const a = await search(key, { query: 'quarterly tax rebate', project: team.projectId });
    assert.equal(a.status, 200);
    const b = await search(key, { query: 'scratchpad', project: personalProjectId });
    assert.equal(b.status, 403);
    assert.equal(((await b.json()) as { error: string }).error, 'project_not_in_key');
    const listed = (await (await api('/projects', key)).json()) as { projects: Array<{ id: string }> };
    assert.deepEqual(listed.projects.map((p) => p.id), [team.projectId]);
    // A key cannot be scoped to a project its owner cannot read.
    await assert.rejects(createKey(team.owner.store, { p_name: 'theirs', p_project_ids: [rivalProjectId] }), /project not found/);
  });

  it('is refused at once after revocation, and after expiry; a revoked key cannot be restored', async () => {
    const { id, key } = await createKey(team.owner.store, { p_name: 'to revoke' });
    assert.equal((await search(key, { query: 'rebate', project: team.projectId })).status, 200);
    await team.owner.store.rpc('revoke_api_key', { p_key_id: id });
    const refused = await search(key, { query: 'rebate', project: team.projectId });
    assert.equal(refused.status, 401);
    assert.equal(((await refused.json()) as { error: string }).error, 'invalid_api_key');
    assert.equal((await api('/projects', key)).status, 401);
    // The owner's UPDATE grant on revoked_at cannot bring it back.
    await assert.rejects(
      project.tdb!.db.transaction(async (tx) => {
        await tx.query('set local role authenticated');
        await tx.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ sub: team.owner.person.id, role: 'authenticated' })]);
        await tx.query('update public.api_keys set revoked_at = null where id = $1', [id]);
      }),
      /cannot be restored/,
    );
    assert.equal((await search(key, { query: 'rebate', project: team.projectId })).status, 401);

    const soon = await createKey(team.owner.store, { p_name: 'short-lived', p_expires_at: new Date(Date.now() + 1500).toISOString() });
    assert.equal((await search(soon.key, { query: 'rebate', project: team.projectId })).status, 200);
    await new Promise((r) => setTimeout(r, Math.max(0, new Date(soon.expires_at!).getTime() - Date.now()) + 100));
    assert.equal((await search(soon.key, { query: 'rebate', project: team.projectId })).status, 401);
    await assert.rejects(createKey(team.owner.store, { p_name: 'past', p_expires_at: new Date(Date.now() - 1000).toISOString() }), /expiry must be in the future/);
  });

  it('refuses a missing, malformed or unknown key alike, and counts every accepted use in api_usage', async () => {
    assert.equal((await search(null, { query: 'rebate', project: team.projectId })).status, 401);
    assert.equal((await search('cairn_nope', { query: 'rebate', project: team.projectId })).status, 401);
    assert.equal((await search(`cairn_${'0'.repeat(64)}`, { query: 'rebate', project: team.projectId })).status, 401);
    const { id, key } = await createKey(team.member.store, { p_name: 'counted' });
    for (let i = 0; i < 3; i++) assert.equal((await search(key, { query: 'rebate', project: team.projectId })).status, 200);
    assert.equal((await api('/projects', key)).status, 200);
    const keys = await rpcUntyped<Array<{ id: string; use_count: number; last_used_at: string | null }>>(team.member.store, 'list_api_keys');
    const mine = keys.find((k) => k.id === id)!;
    assert.equal(Number(mine.use_count), 4);
    assert.ok(mine.last_used_at);
    const { rows: usage } = await project.tdb!.db.query<{ kind: string; source: string; model: string; user_id: string; tokens: number }>(
      `select kind, source, model, user_id::text as user_id, prompt_tokens + completion_tokens as tokens
         from public.api_usage where api_key_id = $1 order by created_at`,
      [id],
    );
    assert.deepEqual(usage.map((u) => [u.kind, u.source, u.model, u.user_id, u.tokens]), [
      ...Array(3).fill(['api', 'api', 'cairn-api/search', team.member.person.id, 0]),
      ['api', 'api', 'cairn-api/projects', team.member.person.id, 0],
    ]);
    // A client cannot add uses to a key's count (nor forge API traffic) through record_usage.
    await assert.rejects(team.member.store.rpc('record_usage', { p_model: 'cairn-api/search', p_prompt_tokens: 0, p_completion_tokens: 0, p_kind: 'api' }));
  });

  it('reads a shared session as Markdown, as the MCP resource renders it; a private one is not found', async () => {
    const { key } = await createKey(team.member.store, { p_name: 'sessions' });
    const owner = team.owner.store;
    const shared = await rpcUntyped<SessionRow>(owner, 'create_session', { p_project_id: team.projectId, p_title: 'Rebate rounding' });
    await owner.rpc('append_message', { p_session_id: shared.id, p_role: 'user', p_content: 'Why round the rebate to the cent?' });
    await owner.rpc('append_message', { p_session_id: shared.id, p_role: 'assistant', p_content: 'Because **invoices** are in cents.' });
    await owner.rpc('share_session', { p_session_id: shared.id, p_visibility: 'team' });
    const res = await api(`/sessions/${shared.id}.md`, key);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/markdown/);
    const member = team.member.store;
    const expected = sessionMarkdown(
      toSession(await rpcUntyped<SessionRow>(member, 'get_session', { p_session_id: shared.id })),
      (await rpcUntyped<MessageRow[]>(member, 'list_messages', { p_session_id: shared.id })).map(toMessage),
      await rpcUntyped<string>(member, 'session_access', { p_session_id: shared.id }),
    );
    assert.equal(await res.text(), expected);

    const own = await rpcUntyped<SessionRow>(member, 'create_session', { p_project_id: team.projectId, p_title: 'My private one' });
    assert.equal((await api(`/sessions/${own.id}.md`, key)).status, 404, 'a private session, even the key owner\'s, is not served');
    const { key: outsiderKey } = await createKey(team.outsider.store, { p_name: 'outsider' });
    assert.equal((await api(`/sessions/${shared.id}.md`, outsiderKey)).status, 404, 'another team\'s session is not found');
  });
  it('auth/createApiKey, auth/listApiKeys, auth/revokeApiKey at the daemon\'s JSON-RPC boundary, in team mode, end to end', async () => {
    // A daemon in this process acting as the member in the team project, as after a sign-in hand-over.
    // Its change feed stays off: a Realtime join runs in-process queries on the PGlite the socket shares
    // (see before()), and live updates are not what this checks.
    const store = await storeFor(project, team.member.person);
    const acting = {
      store: new Proxy(store, {
        get(target, prop) {
          if (prop === 'onChange') return async () => async () => undefined;
          const v = Reflect.get(target, prop, target) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      }),
    };
    const home = await mkdtemp(join(tmp, 'daemon-home-'));
    const started = await startDaemon({ home, env: { CAIRN_HOME: home }, openStore: async () => acting.store, subsystems });
    assert.equal(started.kind, 'started');
    const daemon = started.kind === 'started' ? started.daemon : null;
    const client = await DaemonClient.connect(daemon!.info);
    try {
      const expiresAt = new Date(Date.now() + 30 * 86_400_000).toISOString();
      const created = await client.request('auth/createApiKey', { name: ' CI docs job ', projectIds: [team.projectId], expiresAt });
      assert.match(created.key, /^cairn_[0-9a-f]{64}$/);
      assert.equal(created.prefix, created.key.slice(0, 10));
      assert.deepEqual(
        { name: created.name, projectIds: created.projectIds, expiresAt: created.expiresAt, revokedAt: created.revokedAt, uses: created.uses },
        { name: 'CI docs job', projectIds: [team.projectId], expiresAt, revokedAt: null, uses: 0 },
      );
      assert.equal((await search(created.key, { query: 'rebate', project: 'shop' })).status, 200, 'the new key works at once');

      const refusals: Array<[Record<string, unknown>, string]> = [
        [{ name: 'past', expiresAt: new Date(Date.now() - 60_000).toISOString() }, 'InvalidInput'],
        [{ name: 'not mine', projectIds: [rivalProjectId] }, 'NotFound'],
        [{ name: '' }, 'InvalidParams'],
        [{ name: 'none', projectIds: [] }, 'InvalidParams'],
      ];
      const before = await client.request('auth/listApiKeys', {});
      for (const [params, code] of refusals) {
        const err = await client.request('auth/createApiKey', params as never).then(() => null, (e: unknown) => e);
        assert.ok(err instanceof DaemonResponseError && err.codeName === code, `${JSON.stringify(params)}: ${String(err)}`);
      }
      const listed = await client.request('auth/listApiKeys', {});
      assert.equal(listed.length, before.length, 'a refused key is not created');
      const mine = listed.find((k) => k.id === created.id)!;
      assert.equal(mine.uses, 1);
      assert.ok(mine.lastUsedAt);
      assert.ok(!JSON.stringify(listed).includes(created.key), 'the key is never listed');

      assert.deepEqual(await client.request('auth/revokeApiKey', { keyId: created.id }), { revoked: true });
      assert.equal((await search(created.key, { query: 'rebate', project: 'shop' })).status, 401, 'refused at its next request');
      assert.ok((await client.request('auth/listApiKeys', {})).find((k) => k.id === created.id)?.revokedAt);
      const unknown = await client.request('auth/revokeApiKey', { keyId: 'ffffffff-ffff-4fff-8fff-ffffffffffff' }).then(() => null, (e: unknown) => e);
      assert.ok(unknown instanceof DaemonResponseError && unknown.codeName === 'NotFound');
    } finally {
      await client.close();
      await daemon?.shutdown('test over');
    }
  });
});

