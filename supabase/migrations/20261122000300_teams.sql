-- =====================================================================================================
-- Teams and their members. Roles, from most to least: owner, admin, member, viewer.
-- Managing members needs owner or admin *and* an aal2 session (TOTP MFA); only owners make owners; a team
-- always keeps at least one owner.
-- =====================================================================================================

create table public.teams (
  id uuid primary key default gen_random_uuid(),
  name text not null check (char_length(btrim(name)) between 1 and 100),
  -- URL-safe handle, unique across the project.
  slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  -- Who created it (becomes its first owner); kept as history if that user is deleted.
  created_by uuid references auth.users (id) on delete set null default auth.uid(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.teams is 'A group of users sharing projects, sessions and a knowledge base.';

create table public.team_members (
  team_id uuid not null references public.teams (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null default 'member' check (role in ('owner', 'admin', 'member', 'viewer')),
  -- Who added this member; null for the creator.
  invited_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (team_id, user_id)
);
comment on table public.team_members is 'Membership of a user in a team, with a role.';
create index team_members_user_id_idx on public.team_members (user_id);

create trigger teams_set_updated_at before update on public.teams
  for each row execute function private.set_updated_at();
create trigger team_members_set_updated_at before update on public.team_members
  for each row execute function private.set_updated_at();

-- -----------------------------------------------------------------------------------------------------
-- Membership helpers for policies (security definer: they read team_members without its policies)
-- -----------------------------------------------------------------------------------------------------
create or replace function private.role_rank(p_role text)
returns integer
language sql
immutable
set search_path = ''
as $$
  select case p_role when 'owner' then 4 when 'admin' then 3 when 'member' then 2 when 'viewer' then 1 else 0 end;
$$;

-- The acting user's role in a team, or null.
create or replace function private.team_role(p_team_id uuid)
returns text
language sql
stable
security definer
set search_path = ''
as $$
  select tm.role from public.team_members tm where tm.team_id = p_team_id and tm.user_id = auth.uid();
$$;

-- True when the acting user's role in the team is at least p_min_role.
create or replace function private.has_team_role(p_team_id uuid, p_min_role text)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(private.role_rank(private.team_role(p_team_id)) >= private.role_rank(p_min_role), false);
$$;

-- Teams where the acting user has at least p_min_role (for `team_id in (select ...)` policies, evaluated
-- once per statement rather than once per row).
create or replace function private.team_ids_with_role(p_min_role text)
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select tm.team_id from public.team_members tm
  where tm.user_id = auth.uid() and private.role_rank(tm.role) >= private.role_rank(p_min_role);
$$;

revoke all on function private.role_rank(text) from public;
revoke all on function private.team_role(uuid) from public;
revoke all on function private.has_team_role(uuid, text) from public;
revoke all on function private.team_ids_with_role(text) from public;
grant execute on function private.role_rank(text) to authenticated, service_role;
grant execute on function private.team_role(uuid) to authenticated, service_role;
grant execute on function private.has_team_role(uuid, text) to authenticated, service_role;
grant execute on function private.team_ids_with_role(text) to authenticated, service_role;

-- -----------------------------------------------------------------------------------------------------
-- RLS: teams
-- -----------------------------------------------------------------------------------------------------
alter table public.teams enable row level security;

create policy "Team members can read their teams" on public.teams
  for select to authenticated
  using (id in (select private.team_ids_with_role('viewer')));

create policy "Signed-in users can create teams they own" on public.teams
  for insert to authenticated
  with check (created_by = (select auth.uid()));

create policy "Team owners and admins can rename their team" on public.teams
  for update to authenticated
  using (id in (select private.team_ids_with_role('admin')))
  with check (id in (select private.team_ids_with_role('admin')));

create policy "Team owners can delete their team with a second factor" on public.teams
  for delete to authenticated
  using (id in (select private.team_ids_with_role('owner')) and (select private.is_aal2()));

revoke all on table public.teams from anon, authenticated;
grant select, insert, update, delete on table public.teams to authenticated;

-- -----------------------------------------------------------------------------------------------------
-- RLS: team_members
-- -----------------------------------------------------------------------------------------------------
alter table public.team_members enable row level security;

create policy "Team members can read the members of their teams" on public.team_members
  for select to authenticated
  using (team_id in (select private.team_ids_with_role('viewer')));

create policy "Owners and admins with a second factor can add members" on public.team_members
  for insert to authenticated
  with check (
    (select private.is_aal2())
    and private.has_team_role(team_id, 'admin')
    and (role <> 'owner' or private.has_team_role(team_id, 'owner'))
  );

create policy "Owners and admins with a second factor can change roles" on public.team_members
  for update to authenticated
  using (
    (select private.is_aal2())
    and private.has_team_role(team_id, 'admin')
    and (role <> 'owner' or private.has_team_role(team_id, 'owner'))
  )
  with check (
    (select private.is_aal2())
    and private.has_team_role(team_id, 'admin')
    and (role <> 'owner' or private.has_team_role(team_id, 'owner'))
  );

create policy "Owners and admins with a second factor can remove members, and anyone can leave" on public.team_members
  for delete to authenticated
  using (
    user_id = (select auth.uid())
    or (
      (select private.is_aal2())
      and private.has_team_role(team_id, 'admin')
      and (role <> 'owner' or private.has_team_role(team_id, 'owner'))
    )
  );

revoke all on table public.team_members from anon, authenticated;
grant select, insert, update, delete on table public.team_members to authenticated;

-- -----------------------------------------------------------------------------------------------------
-- The creator becomes owner; a team always keeps at least one owner.
-- -----------------------------------------------------------------------------------------------------
create or replace function private.add_team_creator_as_owner()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.created_by is not null then
    insert into public.team_members (team_id, user_id, role) values (new.id, new.created_by, 'owner');
  end if;
  return new;
end;
$$;
revoke all on function private.add_team_creator_as_owner() from public;

create trigger teams_add_creator_as_owner after insert on public.teams
  for each row execute function private.add_team_creator_as_owner();

create or replace function private.keep_one_owner()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if old.role = 'owner' and (tg_op = 'DELETE' or new.role <> 'owner' or new.team_id <> old.team_id) then
    -- Deleting the team itself cascades to its members; that is allowed.
    if exists (select 1 from public.teams t where t.id = old.team_id)
       and not exists (
         select 1 from public.team_members tm
         where tm.team_id = old.team_id and tm.role = 'owner' and tm.user_id <> old.user_id
       ) then
      raise exception using errcode = '23514', message = 'a team must keep at least one owner';
    end if;
  end if;
  return case when tg_op = 'DELETE' then old else new end;
end;
$$;
revoke all on function private.keep_one_owner() from public;

create trigger team_members_keep_one_owner before update or delete on public.team_members
  for each row execute function private.keep_one_owner();

-- Membership rows never move between teams or users; change the role or remove and add instead.
create or replace function private.team_members_immutable_keys()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.team_id <> old.team_id or new.user_id <> old.user_id then
    raise exception using errcode = '42501', message = 'a membership cannot move to another team or user';
  end if;
  return new;
end;
$$;
revoke all on function private.team_members_immutable_keys() from public;

create trigger team_members_immutable_keys before update on public.team_members
  for each row execute function private.team_members_immutable_keys();

-- -----------------------------------------------------------------------------------------------------
-- SQL API: teams
-- -----------------------------------------------------------------------------------------------------
create or replace function private.require_member_manager(p_team_id uuid)
returns void
language plpgsql
stable
set search_path = ''
as $$
begin
  perform private.require_uid();
  if not private.has_team_role(p_team_id, 'admin') then
    raise exception using errcode = '42501', message = 'only team owners and admins can manage members';
  end if;
  if not private.is_aal2() then
    raise exception using errcode = '42501', message = 'managing team members requires a second factor (aal2)';
  end if;
end;
$$;
revoke all on function private.require_member_manager(uuid) from public;
grant execute on function private.require_member_manager(uuid) to authenticated;

create or replace function public.create_team(p_name text, p_slug text default null)
returns public.teams
language plpgsql
set search_path = ''
as $$
declare
  v_uid uuid := private.require_uid();
  v_slug text;
  v_row public.teams;
begin
  if p_name is null or char_length(btrim(p_name)) not between 1 and 100 then
    raise exception using errcode = '22023', message = 'team name must be 1 to 100 characters';
  end if;
  v_slug := coalesce(
    p_slug,
    left(trim(both '-' from regexp_replace(lower(p_name), '[^a-z0-9]+', '-', 'g')), 50) || '-' || substr(md5(random()::text), 1, 6)
  );
  if v_slug !~ '^[a-z0-9][a-z0-9-]{1,62}$' then
    raise exception using errcode = '22023', message = 'team slug must be 2 to 63 lowercase letters, digits or dashes';
  end if;
  -- No RETURNING: the row becomes readable only once the trigger has made the creator its owner.
  v_row.id := gen_random_uuid();
  insert into public.teams (id, name, slug, created_by) values (v_row.id, btrim(p_name), v_slug, v_uid);
  select * into v_row from public.teams where id = v_row.id;
  return v_row;
exception
  when unique_violation then
    raise exception using errcode = '23505', message = format('a team with the slug %L already exists', v_slug);
end;
$$;

create or replace function public.rename_team(p_team_id uuid, p_name text)
returns public.teams
language plpgsql
set search_path = ''
as $$
declare
  v_row public.teams;
begin
  perform private.require_uid();
  if p_name is null or char_length(btrim(p_name)) not between 1 and 100 then
    raise exception using errcode = '22023', message = 'team name must be 1 to 100 characters';
  end if;
  if not private.has_team_role(p_team_id, 'admin') then
    raise exception using errcode = '42501', message = 'only team owners and admins can rename the team';
  end if;
  update public.teams set name = btrim(p_name) where id = p_team_id returning * into v_row;
  return v_row;
end;
$$;

create or replace function public.list_teams()
returns table (id uuid, name text, slug text, role text, created_at timestamptz)
language sql
stable
set search_path = ''
as $$
  select t.id, t.name, t.slug, tm.role, t.created_at
  from public.teams t
  join public.team_members tm on tm.team_id = t.id and tm.user_id = auth.uid()
  order by t.name;
$$;

create or replace function public.list_team_members(p_team_id uuid)
returns table (user_id uuid, email text, display_name text, role text, created_at timestamptz)
language sql
stable
set search_path = ''
as $$
  select tm.user_id, p.email, p.display_name, tm.role, tm.created_at
  from public.team_members tm
  left join public.profiles p on p.id = tm.user_id
  where tm.team_id = p_team_id
  order by private.role_rank(tm.role) desc, p.email;
$$;

create or replace function public.add_team_member(p_team_id uuid, p_user_id uuid, p_role text default 'member')
returns public.team_members
language plpgsql
set search_path = ''
as $$
declare
  v_row public.team_members;
begin
  perform private.require_member_manager(p_team_id);
  if p_role not in ('owner', 'admin', 'member', 'viewer') then
    raise exception using errcode = '22023', message = 'role must be owner, admin, member or viewer';
  end if;
  if p_role = 'owner' and not private.has_team_role(p_team_id, 'owner') then
    raise exception using errcode = '42501', message = 'only an owner can add an owner';
  end if;
  insert into public.team_members (team_id, user_id, role, invited_by)
  values (p_team_id, p_user_id, p_role, auth.uid())
  returning * into v_row;
  return v_row;
exception
  when unique_violation then
    raise exception using errcode = '23505', message = 'that user is already a member of the team';
  when foreign_key_violation then
    raise exception using errcode = 'P0002', message = 'no such user';
end;
$$;

create or replace function public.set_member_role(p_team_id uuid, p_user_id uuid, p_role text)
returns public.team_members
language plpgsql
set search_path = ''
as $$
declare
  v_row public.team_members;
begin
  perform private.require_member_manager(p_team_id);
  if p_role not in ('owner', 'admin', 'member', 'viewer') then
    raise exception using errcode = '22023', message = 'role must be owner, admin, member or viewer';
  end if;
  if (p_role = 'owner' or private.team_role(p_team_id) <> 'owner' and exists (
        select 1 from public.team_members tm where tm.team_id = p_team_id and tm.user_id = p_user_id and tm.role = 'owner'))
     and not private.has_team_role(p_team_id, 'owner') then
    raise exception using errcode = '42501', message = 'only an owner can grant or take away the owner role';
  end if;
  update public.team_members set role = p_role
  where team_id = p_team_id and user_id = p_user_id
  returning * into v_row;
  if not found then
    raise exception using errcode = 'P0002', message = 'that user is not a member of the team';
  end if;
  return v_row;
end;
$$;

create or replace function public.remove_team_member(p_team_id uuid, p_user_id uuid)
returns void
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_member_manager(p_team_id);
  if exists (select 1 from public.team_members tm where tm.team_id = p_team_id and tm.user_id = p_user_id and tm.role = 'owner')
     and not private.has_team_role(p_team_id, 'owner') then
    raise exception using errcode = '42501', message = 'only an owner can remove an owner';
  end if;
  delete from public.team_members where team_id = p_team_id and user_id = p_user_id;
  if not found then
    raise exception using errcode = 'P0002', message = 'that user is not a member of the team';
  end if;
end;
$$;

create or replace function public.leave_team(p_team_id uuid)
returns void
language plpgsql
set search_path = ''
as $$
declare
  v_uid uuid := private.require_uid();
begin
  delete from public.team_members where team_id = p_team_id and user_id = v_uid;
  if not found then
    raise exception using errcode = 'P0002', message = 'you are not a member of that team';
  end if;
end;
$$;

revoke all on function public.create_team(text, text) from public, anon;
revoke all on function public.rename_team(uuid, text) from public, anon;
revoke all on function public.list_teams() from public, anon;
revoke all on function public.list_team_members(uuid) from public, anon;
revoke all on function public.add_team_member(uuid, uuid, text) from public, anon;
revoke all on function public.set_member_role(uuid, uuid, text) from public, anon;
revoke all on function public.remove_team_member(uuid, uuid) from public, anon;
revoke all on function public.leave_team(uuid) from public, anon;
grant execute on function public.create_team(text, text) to authenticated;
grant execute on function public.rename_team(uuid, text) to authenticated;
grant execute on function public.list_teams() to authenticated;
grant execute on function public.list_team_members(uuid) to authenticated;
grant execute on function public.add_team_member(uuid, uuid, text) to authenticated;
grant execute on function public.set_member_role(uuid, uuid, text) to authenticated;
grant execute on function public.remove_team_member(uuid, uuid) to authenticated;
grant execute on function public.leave_team(uuid) to authenticated;

-- Teammates can see each other's profiles (names on shared sessions).
create policy "Users can read the profiles of their teammates" on public.profiles
  for select to authenticated
  using (id in (
    select tm.user_id from public.team_members tm where tm.team_id in (select private.team_ids_with_role('viewer'))
  ));
