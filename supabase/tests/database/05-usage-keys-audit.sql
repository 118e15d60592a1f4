-- API keys are their owner's alone and never stored in clear; usage cannot be charged to another tenant;
-- team changes land in the audit log with who made them, readable by the team's owners and admins only.
begin;
create extension if not exists pgtap with schema extensions;
-- The migrations take EXECUTE on new functions away from PUBLIC (least privilege), pgTAP's included: give
-- it back to the API roles these tests act as (rolled back with the test).
grant execute on all functions in schema extensions to anon, authenticated;
select plan(7);

select tests.create_user('owner@example.test', '50000000-0000-4000-8000-000000000001');
select tests.create_user('member@example.test', '50000000-0000-4000-8000-000000000002');
select tests.create_user('other@example.test', '50000000-0000-4000-8000-000000000003');

set local role authenticated;
select tests.act_as('50000000-0000-4000-8000-000000000001', 'aal2');
select set_config('test.team', (select id::text from public.create_team('Team U')), true);
select public.invite_member(current_setting('test.team')::uuid, 'member@example.test', 'member');
select tests.act_as('50000000-0000-4000-8000-000000000002');
select public.accept_invitation((select id from public.list_my_invitations()));
select tests.act_as('50000000-0000-4000-8000-000000000001', 'aal2');
select public.rename_team(current_setting('test.team')::uuid, 'Team U renamed');
select results_eq(
  $$ select action, actor_id::text from public.list_audit_log(current_setting('test.team')::uuid) where table_name = 'teams' and action = 'update' $$,
  $$ values ('update'::text, '50000000-0000-4000-8000-000000000001'::text) $$,
  'renaming the team is audited with its actor'
);
select isnt_empty($$ select key from public.create_api_key('cli') where key ~ '^cairn_[0-9a-f]{64}$' $$,
  'the server makes the key and shows it once');
select is_empty($$ select 1 from public.api_keys where key_hash !~ '^[0-9a-f]{64}$' or key_hash like 'cairn_%' $$,
  'only the key''s hash is stored');

-- The member does not see the owner's key or the audit log.
select tests.act_as('50000000-0000-4000-8000-000000000002');
select is_empty($$ select id from public.api_keys $$, 'a teammate sees no one else''s API keys');
select throws_ok($$ select * from public.list_audit_log(current_setting('test.team')::uuid) $$, 'CR004',
  'only team owners and admins can read the audit log', 'a member cannot read the audit log');

-- Another user cannot charge usage to the team.
select tests.act_as('50000000-0000-4000-8000-000000000003');
select throws_like(
  $$ insert into public.api_usage (team_id, model) values (current_setting('test.team')::uuid, 'm') $$,
  '%row-level security%', 'usage cannot be charged to another tenant''s team'
);
select lives_ok($$ select public.record_usage('m', 10, 2) $$, 'usage is recorded for oneself');

reset role;
select * from finish();
rollback;
