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
