// supabase/seed.sql on a migrated database: the development data exists, obeys RLS like app data, can be
// searched, and seeding twice changes nothing.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pgcrypto } from '@electric-sql/pglite/contrib/pgcrypto';
import { vector } from '@electric-sql/pglite-pgvector';
import { pgliteDb } from '../../daemon/src/store/embedded.js';
import { FunctionCatalog, callFunction, runAsUser, userClaims } from '../../daemon/src/store/sql.js';
import { migratedTemplate } from '../support/db.js';

const seed = readFileSync(join(resolve(import.meta.dirname, '..', '..'), 'supabase', 'seed.sql'), 'utf8');
const ada = { id: 'a11ce000-0000-4000-8000-000000000001', email: 'ada@example.com', aal: 'aal1' as const };
const grace = { id: 'b0b00000-0000-4000-8000-000000000002', email: 'grace@example.com', aal: 'aal1' as const };

describe('supabase/seed.sql', function () {
  this.timeout(120_000);
  let db: PGlite;
  const catalog = new FunctionCatalog();
  const rpc = <T>(user: typeof ada, fn: string, args: Record<string, unknown> = {}) =>
    runAsUser(pgliteDb(db), userClaims(user), (tx) => callFunction<T>(tx, catalog, fn, args));
  const counts = async () =>
    (await db.query<{ t: string; n: number }>(
      `select 'sessions' as t, count(*)::int as n from public.sessions union all select 'messages', count(*)::int from public.messages
       union all select 'kb_chunks', count(*)::int from public.kb_chunks union all select 'team_members', count(*)::int from public.team_members
       union all select 'audit_log', count(*)::int from public.audit_log`,
    )).rows;

  before(async () => {
    db = await PGlite.create({ loadDataDir: await migratedTemplate(), extensions: { vector, pgcrypto } });
    await db.exec(seed);
  });
  after(() => db.close());

  it('creates users who can sign in with the documented password, each with a profile', async () => {
    const { rows } = await db.query<{ email: string; ok: boolean; display_name: string }>(
      `select u.email, u.encrypted_password = extensions.crypt('password123', u.encrypted_password) as ok, p.display_name
         from auth.users u join public.profiles p on p.id = u.id order by u.email`,
    );
    assert.deepEqual(rows, [
      { email: 'ada@example.com', ok: true, display_name: 'Ada Lovelace' },
      { email: 'grace@example.com', ok: true, display_name: 'Grace Hopper' },
    ]);
  });

  it('gives Ada a team with Grace as member, and shows Grace only what is shared', async () => {
    const members = await rpc<Array<{ email: string; role: string }>>(ada, 'list_team_members', {
      p_team_id: (await db.query<{ id: string }>(`select id from public.teams where name = 'Acme'`)).rows[0]!.id,
    });
    assert.deepEqual(members.map((m) => [m.email, m.role]), [['ada@example.com', 'owner'], ['grace@example.com', 'member']]);
    const adas = await rpc<Array<{ title: string }>>(ada, 'list_sessions');
    assert.deepEqual(adas.map((s) => s.title).sort(), ['How does sign-in work?', 'Scratch']);
    const graces = await rpc<Array<{ id: string; title: string }>>(grace, 'list_sessions');
    assert.deepEqual(graces.map((s) => s.title), ['How does sign-in work?']);
    const messages = await rpc<Array<{ role: string; seq: number }>>(grace, 'list_messages', { p_session_id: graces[0]!.id });
    assert.deepEqual(messages.map((m) => [m.seq, m.role]), [[1, 'user'], [2, 'assistant'], [3, 'user']]);
  });

  it('indexes a file the team can search', async () => {
    const project = (await rpc<Array<{ id: string }>>(grace, 'list_projects'))[0]!;
    const hits = await rpc<Array<{ uri: string; start_line: number }>>(grace, 'kb_search', {
      p_project_id: project.id,
      p_query: 'OAuth browser',
      p_query_embedding: null,
      p_embedding_model: 'cairn-local-hash-v1-384',
    });
    assert.deepEqual(hits.map((h) => [h.uri, h.start_line]), [['extension/src/auth.ts', 1]]);
  });

  it('can run twice without changing anything', async () => {
    const before = await counts();
    await db.exec(seed);
    assert.deepEqual(await counts(), before);
  });
});
