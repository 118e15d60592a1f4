-- =====================================================================================================
-- Deleting an account (Supabase Auth's admin API deletes the auth.users row). What the person kept for
-- themselves goes with them; what they gave a team stays the team's:
-- - their private sessions are deleted (in a team project too);
-- - their shared sessions stay the team's, with no owner (sessions.owner_id is set null);
-- - their messages in other people's sessions stay, written by a deleted user (messages.author_id null);
-- - a team they are the only member of is deleted; a team with other members needs another owner first
--   (the last owner cannot leave, private.keep_one_owner);
-- - their personal projects and agents are deleted; their team projects and agents stay with their teams
--   (the foreign keys set owner_id null).
-- Both trigger functions are security definer: they run as Auth deletes the user.
-- =====================================================================================================

create or replace function private.before_account_deleted()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  delete from public.sessions s where s.owner_id = old.id and s.visibility = 'private';
  delete from public.teams t
  where t.id in (select tm.team_id from public.team_members tm where tm.user_id = old.id)
    and not exists (select 1 from public.team_members tm where tm.team_id = t.id and tm.user_id <> old.id);
  return old;
end;
$$;
revoke all on function private.before_account_deleted() from public;

create trigger on_auth_user_deleted before delete on auth.users
  for each row execute function private.before_account_deleted();

create or replace function private.delete_personal_rows()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  delete from public.projects where owner_id = old.id and team_id is null;
  delete from public.agents where owner_id = old.id and team_id is null;
  return old;
end;
$$;
revoke all on function private.delete_personal_rows() from public;

create trigger on_auth_user_deleted_delete_personal_rows before delete on auth.users
  for each row execute function private.delete_personal_rows();

-- -----------------------------------------------------------------------------------------------------
-- Deleting one's own account: `delete_my_account()`, the user's own act (the extension's "Cairn: Delete My
-- Account", or any client of the SQL API). What goes and what stays is the rule above; a team whose only
-- member they are goes with them (no one else could reach it). It refuses, and changes nothing:
-- - CR002 when the user has a verified second factor (auth.mfa_factors) and this session did not prove it
--   (aal1): a stolen password alone must not erase an account, as it cannot remove the factor either;
-- - CR003 when they are the last owner of a team that has other members: they make another member owner
--   first (or remove the others). The teams they own are locked first, as private.keep_one_owner locks
--   them, so a co-owner stepping down at the same moment cannot leave such a team with no owner.
-- Audited: each team that keeps members records the departure in its log (table_name 'accounts', the
-- account's id and the role it had; no email or name: the person's data goes with them), beside the
-- membership row's own deletion.
-- -----------------------------------------------------------------------------------------------------
create or replace function public.delete_my_account()
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_uid();
begin
  if not private.is_aal2()
     and exists (select 1 from auth.mfa_factors f where f.user_id = v_uid and f.status = 'verified') then
    raise exception using errcode = 'CR002', message = 'deleting an account that has a second factor requires it (aal2)';
  end if;
  perform 1 from public.teams t
  where t.id in (select tm.team_id from public.team_members tm where tm.user_id = v_uid and tm.role = 'owner')
  order by t.id
  for no key update;
  if exists (
    select 1 from public.team_members me
    where me.user_id = v_uid and me.role = 'owner'
      and exists (select 1 from public.team_members o where o.team_id = me.team_id and o.user_id <> v_uid)
      and not exists (select 1 from public.team_members o where o.team_id = me.team_id and o.user_id <> v_uid and o.role = 'owner')
  ) then
    raise exception using errcode = 'CR003', message = 'a team must keep an owner: make another member owner of each team you alone own, then delete your account';
  end if;
  insert into public.audit_log (team_id, actor_id, action, table_name, record_id, old_values)
  select tm.team_id, v_uid, 'delete', 'accounts', v_uid::text, jsonb_build_object('user_id', v_uid, 'role', tm.role)
  from public.team_members tm
  where tm.user_id = v_uid
    and exists (select 1 from public.team_members o where o.team_id = tm.team_id and o.user_id <> v_uid);
  delete from auth.users u where u.id = v_uid;
end;
$$;
revoke all on function public.delete_my_account() from public, anon;
grant execute on function public.delete_my_account() to authenticated;
