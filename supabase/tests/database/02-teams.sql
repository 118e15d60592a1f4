-- Team roles: managing members needs owner or admin with aal2; only owners make owners; a team keeps an owner.
begin;
create extension if not exists pgtap with schema extensions;
-- The migrations take EXECUTE on new functions away from PUBLIC (least privilege), pgTAP's included: give
-- it back to the API roles these tests act as (rolled back with the test).
grant execute on all functions in schema extensions to anon, authenticated;
select plan(11);

select tests.create_user('owner@example.test', '10000000-0000-4000-8000-000000000001');
select tests.create_user('admin@example.test', '10000000-0000-4000-8000-000000000002');
select tests.create_user('member@example.test', '10000000-0000-4000-8000-000000000003');
select tests.create_user('outsider@example.test', '10000000-0000-4000-8000-000000000004');

-- The owner, with a second factor, builds the team.
set local role authenticated;
select tests.act_as('10000000-0000-4000-8000-000000000001', 'aal2');
select lives_ok($$ select public.create_team('Team T') $$, 'a signed-in user creates a team');
select lives_ok($$ select public.invite_member((select id from public.teams where name = 'Team T'), 'admin@example.test', 'admin') $$, 'the owner invites an admin');
select lives_ok($$ select public.invite_member((select id from public.teams where name = 'Team T'), 'member@example.test', 'member') $$, 'the owner invites a member');
select throws_ok($$ select public.leave_team((select id from public.teams where name = 'Team T')) $$, 'CR003', 'a team must keep at least one owner', 'the last owner cannot leave');

-- Each invitee joins by accepting; the admin, without a second factor, cannot invite.
select tests.act_as('10000000-0000-4000-8000-000000000003');
select lives_ok($$ select public.accept_invitation((select id from public.list_my_invitations())) $$, 'the member accepts their invitation');
select tests.act_as('10000000-0000-4000-8000-000000000002');
select lives_ok($$ select public.accept_invitation((select id from public.list_my_invitations())) $$, 'the admin accepts their invitation');
select throws_ok($$ select public.invite_member((select id from public.teams where name = 'Team T'), 'outsider@example.test') $$, 'CR002', 'managing team members requires a second factor (aal2)', 'aal1 cannot manage members');

-- The admin with a second factor still cannot make owners.
select tests.act_as('10000000-0000-4000-8000-000000000002', 'aal2');
select throws_ok($$ select public.set_member_role((select id from public.teams where name = 'Team T'), '10000000-0000-4000-8000-000000000002', 'owner') $$, 'CR004', 'only an owner can grant or take away the owner role', 'an admin cannot make themself owner');

-- A member cannot escalate by writing the table directly: the row is simply not theirs to change.
select tests.act_as('10000000-0000-4000-8000-000000000003', 'aal2');
select is_empty($$ update public.team_members set role = 'owner' where user_id = auth.uid() returning 1 $$, 'a member cannot promote themself');

-- The outsider sees neither the team nor its members.
select tests.act_as('10000000-0000-4000-8000-000000000004', 'aal2');
select is_empty($$ select id from public.teams where name = 'Team T' $$, 'an outsider does not see the team');
select is_empty($$ select user_id from public.team_members $$, 'an outsider sees no memberships');

reset role;
select * from finish();
rollback;
