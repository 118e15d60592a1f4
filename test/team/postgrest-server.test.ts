/**
 * The PostgREST test server's contract, checked over raw HTTP where the exact status, headers and body
 * matter (PostgREST v12: result shapes, Prefer and Accept handling, SQLSTATE → status, JWT errors) and
 * through supabase-js's `rpc` where the client's reading of them matters.
 */
import assert from 'node:assert/strict';
import { signInClient, signUp, startProject, type Person, type Project } from './harness.js';

const FIXTURES = `
create table public.t_notes (id serial primary key, owner uuid not null default auth.uid(), body text not null check (char_length(body) <= 10), tags text[] not null default '{}');
alter table public.t_notes enable row level security;
create policy "Owners read their notes" on public.t_notes for select to authenticated using (owner = (select auth.uid()));
create policy "Owners write their notes" on public.t_notes for insert to authenticated with check (owner = (select auth.uid()));
create unique index on public.t_notes (owner, body);
create function public.t_add(p_body text, p_tags text[] default '{}') returns public.t_notes language sql as $$ insert into public.t_notes (body, tags) values (p_body, p_tags) returning * $$;
create function public.t_list() returns setof public.t_notes language sql stable as $$ select * from public.t_notes order by id $$;
create function public.t_count() returns integer language sql stable as $$ select count(*)::int from public.t_notes $$;
create function public.t_touch() returns void language sql as $$ select 1 $$;
create function public.t_missing() returns void language plpgsql as $$ begin raise exception using errcode = 'P0002', message = 'no such note'; end $$;
create function public.t_forbidden() returns void language plpgsql as $$ begin raise exception using errcode = '42501', message = 'not yours'; end $$;
create function public.t_teapot() returns void language plpgsql as $$ begin raise sqlstate 'PT418' using message = 'short and stout'; end $$;
grant execute on all functions in schema public to anon, authenticated;
-- Supabase's default grants, which the migrations take away from new tables (least privilege): RLS alone decides here.
grant all on public.t_notes to anon, authenticated;
grant usage on sequence public.t_notes_id_seq to authenticated;
`;

describe('PostgREST test server (rpc)', function () {
  this.timeout(60_000);
  let project: Project;
  let kim: Person;

  before(async () => {
    project = await startProject();
    await project.tdb!.db.exec(FIXTURES);
    kim = await signUp(project, 'kim');
  });
  after(async () => project?.close());

  const call = (fn: string, body: unknown, headers: Record<string, string> = {}, token?: string) =>
    fetch(`${project.url}/rest/v1/rpc/${fn}`, {
      method: 'POST',
      headers: {
        apikey: project.anonKey,
        authorization: `Bearer ${token ?? kim.session().accessToken}`,
        'content-type': 'application/json',
        ...headers,
      },
      body: JSON.stringify(body),
    });

  it('returns an object for a composite, an array for a set, the value for a scalar and 204 for void', async () => {
    const added = await call('t_add', { p_body: 'first', p_tags: ['a', 'b'] });
    assert.equal(added.status, 200);
    const note = await added.json();
    assert.equal(note.body, 'first');
    assert.deepEqual(note.tags, ['a', 'b']);
    assert.equal(note.owner, kim.id, 'the function ran as the JWT\'s user');
    const list = await call('t_list', {});
    assert.equal(list.headers.get('content-range'), '0-0/*');
    assert.deepEqual((await list.json()).map((n: { body: string }) => n.body), ['first']);
    assert.equal(await (await call('t_count', {})).json(), 1);
    const touched = await call('t_touch', {});
    assert.equal(touched.status, 204);
  });

  it('applies RLS per caller: another user and anon see none of kim\'s notes', async () => {
    const lee = await signUp(project, 'lee');
    assert.deepEqual(await (await call('t_list', {}, {}, lee.session().accessToken)).json(), []);
    assert.deepEqual(await (await call('t_list', {}, {}, project.anonKey)).json(), []);
  });

  it('honours Prefer tx=rollback, count=exact and return=minimal, and Accept for a single object', async () => {
    const rolled = await call('t_add', { p_body: 'ghost' }, { prefer: 'tx=rollback' });
    assert.equal(rolled.status, 200);
    assert.equal(rolled.headers.get('preference-applied'), 'tx=rollback');
    const counted = await call('t_list', {}, { prefer: 'count=exact' });
    assert.equal(counted.headers.get('content-range'), '0-0/1', 'the rolled-back note is not there');
    const minimal = await call('t_add', { p_body: 'second' }, { prefer: 'return=minimal' });
    assert.equal(minimal.status, 204);
    const single = await call('t_list', {}, { accept: 'application/vnd.pgrst.object+json' });
    assert.equal(single.status, 406);
    assert.deepEqual(await single.json(), {
      code: 'PGRST116',
      details: 'The result contains 2 rows',
      hint: null,
      message: 'JSON object requested, multiple (or no) rows returned',
    });
  });

  it('maps SQLSTATEs to PostgREST v12 statuses with {code, details, hint, message}', async () => {
    const cases: [string, unknown, number, string][] = [
      ['t_add', { p_body: 'far too long for ten' }, 400, '23514'],
      ['t_add', { p_body: 'first' }, 409, '23505'],
      ['t_missing', {}, 500, 'P0002'],
      ['t_forbidden', {}, 403, '42501'],
      ['t_teapot', {}, 418, 'PT418'],
      ['t_add', { p_body: 7, p_nope: 1 }, 404, 'PGRST202'],
    ];
    for (const [fn, args, status, code] of cases) {
      const res = await call(fn, args);
      const body = await res.json();
      assert.equal(res.status, status, `${fn} ${JSON.stringify(args)}: ${JSON.stringify(body)}`);
      assert.equal(body.code, code);
      assert.deepEqual(Object.keys(body).sort(), ['code', 'details', 'hint', 'message']);
    }
    const anon = await call('t_forbidden', {}, {}, project.anonKey);
    assert.equal(anon.status, 401, 'insufficient_privilege without a user is 401');
  });

  it('refuses expired and forged JWTs with PGRST301, and calls without an apikey at the gateway', async () => {
    const expired = await project.servers!.signToken({ sub: kim.id, role: 'authenticated' }, Math.floor(Date.now() / 1000) - 10);
    const res = await call('t_count', {}, {}, expired);
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /invalid_token/);
    assert.deepEqual(await res.json(), { code: 'PGRST301', details: null, hint: null, message: 'JWT expired' });
    const forged = kim.session().accessToken.slice(0, -4) + 'AAAA';
    assert.equal((await (await call('t_count', {}, {}, forged)).json()).code, 'PGRST301');
    const noKey = await fetch(`${project.url}/rest/v1/rpc/t_count`, { method: 'POST', body: '{}' });
    assert.equal(noKey.status, 401);
    assert.equal((await noKey.json()).message, 'No API key found in request');
  });

  it('calls a function with GET and query-string arguments, read-only', async () => {
    const get = (query: string) =>
      fetch(`${project.url}/rest/v1/rpc/${query}`, { headers: { apikey: project.anonKey, authorization: `Bearer ${kim.session().accessToken}` } });
    const counted = await get('t_count');
    assert.equal(counted.status, 200);
    assert.equal(typeof (await counted.json()), 'number');
    const write = await get('t_add?p_body=via-get');
    assert.equal(write.status, 405, 'a write through GET fails as a read-only transaction (25006)');
    assert.equal((await write.json()).code, '25006');
  });

  it('reads the same answers through supabase-js rpc', async () => {
    const client = signInClient(project);
    await client.auth.signInWithPassword({ email: kim.email, password: kim.password });
    const { data, error } = await client.rpc('t_list');
    assert.equal(error, null);
    assert.equal((data as unknown[]).length, 2);
    const missing = await client.rpc('t_nothing_here');
    assert.equal(missing.error?.code, 'PGRST202');
    assert.equal(missing.status, 404);
    const one = await client.rpc('t_add', { p_body: 'third' }).single();
    assert.equal((one.data as { body: string }).body, 'third');
  });
});
