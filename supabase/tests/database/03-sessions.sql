-- Sessions: private ones belong to their owner; team ones are read by the team and written by members,
-- never by viewers or other tenants.
begin;
create extension if not exists pgtap with schema extensions;
-- The migrations take EXECUTE on new functions away from PUBLIC (least privilege), pgTAP's included: give
-- it back to the API roles these tests act as (rolled back with the test).
grant execute on all functions in schema extensions to anon, authenticated;
select plan(8);

select tests.create_user('owner@example.test', '20000000-0000-4000-8000-000000000001');
select tests.create_user('viewer@example.test', '20000000-0000-4000-8000-000000000002');
select tests.create_user('other@example.test', '20000000-0000-4000-8000-000000000003');

set local role authenticated;
select tests.act_as('20000000-0000-4000-8000-000000000001', 'aal2');
select public.create_team('Team S');
select public.invite_member((select id from public.teams where name = 'Team S'), 'viewer@example.test', 'viewer');
select tests.act_as('20000000-0000-4000-8000-000000000002');
select public.accept_invitation((select id from public.list_my_invitations()));
select tests.act_as('20000000-0000-4000-8000-000000000001', 'aal2');
select public.ensure_project('file:///s', 's', 'github.com/org/s', (select id from public.teams where name = 'Team S'));
select public.create_session((select id from public.projects where git_remote = 'github.com/org/s'), 'shared', null, 'team');
select public.create_session((select id from public.projects where git_remote = 'github.com/org/s'), 'private');
select public.append_message((select id from public.sessions where title = 'shared'), 'user', 'hello team');
select public.append_message((select id from public.sessions where title = 'private'), 'user', 'my secret');
-- Ids kept for the other users, who cannot look them up.
select set_config('test.shared', (select id::text from public.sessions where title = 'shared'), true);
select set_config('test.project', (select id::text from public.projects where git_remote = 'github.com/org/s'), true);

-- The viewer reads the shared session, not the private one, and cannot post.
select tests.act_as('20000000-0000-4000-8000-000000000002');
select results_eq($$ select title from public.sessions $$, $$ values ('shared') $$, 'a viewer sees only the shared session');
select results_eq($$ select content from public.messages $$, $$ values ('hello team') $$, 'a viewer reads only shared messages');
select throws_ok($$ select public.append_message(current_setting('test.shared')::uuid, 'user', 'hi') $$, '42501', 'you can read this session but not post in it', 'a viewer cannot post');
select throws_like($$ insert into public.messages (session_id, role, content) values (current_setting('test.shared')::uuid, 'user', 'x') $$, '%row-level security%', 'nor insert a message directly');

-- Another tenant sees nothing and cannot move their session into the team project.
select tests.act_as('20000000-0000-4000-8000-000000000003');
select is_empty($$ select id from public.sessions $$, 'another tenant sees no session');
select throws_ok($$ select public.get_session(current_setting('test.shared')::uuid) $$, 'P0002', 'session not found', 'get_session refuses an invisible session');
select public.create_session(null, 'mine');
select throws_like($$ update public.sessions set project_id = current_setting('test.project')::uuid where title = 'mine' $$, '%row-level security%', 'a session cannot be moved into another tenant''s project');

-- anon has no access at all.
reset role;
set local role anon;
select tests.act_as_anon();
select throws_ok($$ select id from public.sessions $$, '42501', 'permission denied for table sessions', 'anon cannot read sessions');

reset role;
select * from finish();
rollback;
