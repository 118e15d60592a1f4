-- =====================================================================================================
-- Invitations by email. An owner or admin (aal2) invites an address with a role; the invitee becomes a
-- member when they sign in with that (confirmed) email and the daemon calls accept_pending_invitations().
-- =====================================================================================================

create table public.team_invitations (
  id uuid primary key default gen_random_uuid(),
  team_id uuid not null references public.teams (id) on delete cascade,
  -- Lower-cased address the invitation is for.
  email text not null check (email = lower(email) and email ~ '^[^@\s]+@[^@\s]+$' and char_length(email) <= 320),
  role text not null default 'member' check (role in ('owner', 'admin', 'member', 'viewer')),
  invited_by uuid default auth.uid() references auth.users (id) on delete set null,
  -- Set when accepted; accepted invitations are kept as history.
  accepted_at timestamptz,
  accepted_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.team_invitations is 'A pending or accepted invitation of an email address into a team.';
create unique index team_invitations_pending_key on public.team_invitations (team_id, email) where accepted_at is null;
create index team_invitations_email_idx on public.team_invitations (email) where accepted_at is null;

create trigger team_invitations_set_updated_at before update on public.team_invitations
  for each row execute function private.set_updated_at();

alter table public.team_invitations enable row level security;

create policy "Team owners and admins can read their team's invitations" on public.team_invitations
  for select to authenticated
  using (team_id in (select private.team_ids_with_role('admin')));

create policy "Invitees can read the invitations addressed to them" on public.team_invitations
  for select to authenticated
  using (email = lower((select auth.jwt()) ->> 'email'));

create policy "Owners and admins with a second factor can invite" on public.team_invitations
  for insert to authenticated
  with check (
    (select private.is_aal2())
    and private.has_team_role(team_id, 'admin')
    and (role <> 'owner' or private.has_team_role(team_id, 'owner'))
  );

create policy "Owners and admins with a second factor can withdraw invitations" on public.team_invitations
  for delete to authenticated
  using ((select private.is_aal2()) and private.has_team_role(team_id, 'admin'));

revoke all on table public.team_invitations from anon, authenticated;
grant select, insert, delete on table public.team_invitations to authenticated;

-- Invitations belong to their team in the audit log.
create or replace function private.audit_team_id(p_table text, p_row jsonb)
returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_team uuid;
begin
  case p_table
    when 'teams' then v_team := (p_row ->> 'id')::uuid;
    when 'team_members', 'team_invitations', 'projects', 'agents' then v_team := (p_row ->> 'team_id')::uuid;
    when 'sessions', 'kb_sources' then
      select p.team_id into v_team from public.projects p where p.id = (p_row ->> 'project_id')::uuid;
    else v_team := null;
  end case;
  if v_team is not null and not exists (select 1 from public.teams t where t.id = v_team) then
    return null;
  end if;
  return v_team;
end;
$$;

create trigger team_invitations_audit after insert or update or delete on public.team_invitations
  for each row execute function private.audit();


create or replace function public.invite_member(p_team_id uuid, p_email text, p_role text default 'member')
returns public.team_invitations
language plpgsql
set search_path = ''
as $$
declare
  v_email text := lower(btrim(p_email));
  v_row public.team_invitations;
begin
  perform private.require_member_manager(p_team_id);
  if p_role not in ('owner', 'admin', 'member', 'viewer') then
    raise exception using errcode = '22023', message = 'role must be owner, admin, member or viewer';
  end if;
  if p_role = 'owner' and not private.has_team_role(p_team_id, 'owner') then
    raise exception using errcode = '42501', message = 'only an owner can invite an owner';
  end if;
  if v_email is null or v_email !~ '^[^@\s]+@[^@\s]+$' then
    raise exception using errcode = '22023', message = 'that is not an email address';
  end if;
  insert into public.team_invitations (team_id, email, role) values (p_team_id, v_email, p_role) returning * into v_row;
  return v_row;
exception
  when unique_violation then
    raise exception using errcode = '23505', message = format('%s already has a pending invitation to this team', v_email);
end;
$$;

create or replace function public.withdraw_invitation(p_invitation_id uuid)
returns void
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_uid();
  delete from public.team_invitations where id = p_invitation_id and accepted_at is null;
  if not found then
    raise exception using errcode = 'P0002', message = 'invitation not found';
  end if;
end;
$$;

create or replace function public.list_invitations(p_team_id uuid default null)
returns setof public.team_invitations
language sql
stable
set search_path = ''
as $$
  select i.* from public.team_invitations i
  where i.accepted_at is null and (p_team_id is null or i.team_id = p_team_id)
  order by i.created_at desc;
$$;

-- Turns the acting user's pending invitations into memberships. Security definer: the invitee is not yet a
-- member, so the membership policies would refuse the insert; the match is on the JWT's confirmed email.
create or replace function public.accept_pending_invitations()
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_uid();
  v_email text;
  v_inv record;
  v_count integer := 0;
begin
  select lower(u.email) into v_email from auth.users u
  where u.id = v_uid and (u.email_confirmed_at is not null or u.confirmed_at is not null);
  if v_email is null then
    return 0;
  end if;
  for v_inv in
    select i.* from public.team_invitations i where i.email = v_email and i.accepted_at is null for update
  loop
    insert into public.team_members (team_id, user_id, role, invited_by)
    values (v_inv.team_id, v_uid, v_inv.role, v_inv.invited_by)
    on conflict (team_id, user_id) do nothing;
    update public.team_invitations set accepted_at = now(), accepted_by = v_uid where id = v_inv.id;
    v_count := v_count + 1;
  end loop;
  return v_count;
end;
$$;

revoke all on function public.invite_member(uuid, text, text) from public, anon;
revoke all on function public.withdraw_invitation(uuid) from public, anon;
revoke all on function public.list_invitations(uuid) from public, anon;
revoke all on function public.accept_pending_invitations() from public, anon;
grant execute on function public.invite_member(uuid, text, text) to authenticated;
grant execute on function public.withdraw_invitation(uuid) to authenticated;
grant execute on function public.list_invitations(uuid) to authenticated;
grant execute on function public.accept_pending_invitations() to authenticated;
