-- Helpers for the pgTAP suites (run with `supabase test db`, and by test/db/pgtap.test.ts), loaded first by
-- name order. They are committed, outside any suite's transaction, so that every suite can call them; each
-- suite still runs in a transaction it rolls back, so the users and rows it makes do not outlive it.
begin;
create extension if not exists pgtap with schema extensions;
create schema if not exists tests;

-- A user as Supabase Auth creates one: confirmed unless p_confirmed is false, with p_id when the suite names
-- it later by id. Call it before `set local role`: only the database owner writes auth.users.
create or replace function tests.create_user(p_email text, p_id uuid default gen_random_uuid(), p_confirmed boolean default true)
returns uuid
language sql
as $$
  insert into auth.users (id, aud, role, email, email_confirmed_at)
  values (p_id, 'authenticated', 'authenticated', p_email, case when p_confirmed then now() end)
  returning id
$$;

-- Acts as p_user from here to the end of the transaction: the claims PostgREST sets for their JWT, at
-- assurance level p_aal ('aal2' once they confirmed a second factor). The suite sets `role authenticated`.
create or replace function tests.act_as(p_user uuid, p_aal text default 'aal1')
returns void
language sql
as $$
  select set_config('request.jwt.claims', jsonb_build_object('sub', p_user, 'role', 'authenticated', 'aal', p_aal)::text, true);
$$;

-- Acts as a caller without a session (the claims of the anon key). The suite sets `role anon`.
create or replace function tests.act_as_anon()
returns void
language sql
as $$
  select set_config('request.jwt.claims', '{"role":"anon"}', true);
$$;

grant usage on schema tests to anon, authenticated;
grant execute on all functions in schema tests to anon, authenticated;
commit;

begin;
select plan(3);
select has_extension('pgtap', 'pgTAP is installed');
select has_function('tests', 'create_user', array['text', 'uuid', 'boolean'], 'tests.create_user is defined');
select has_function('tests', 'act_as', array['uuid', 'text'], 'tests.act_as is defined');
select * from finish();
rollback;
