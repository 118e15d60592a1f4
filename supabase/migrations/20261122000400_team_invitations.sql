-- =====================================================================================================
-- Invitations by email. Joining a team is always the invitee's own act: an owner or admin (aal2) invites an
-- address with a role; the person who signs in with that address, once Auth has confirmed it, sees the
-- invitation (who invites, to which team, with which role) and accepts or declines it. Nothing accepts on
-- anyone's behalf, and nothing else adds a member. An invitation is bound to one address, used once
-- (accepted or declined), and expires after 7 days.
-- =====================================================================================================

create table public.team_invitations (
  id uuid primary key default gen_random_uuid(),
  team_id uuid not null references public.teams (id) on delete cascade,
  -- Lower-cased address the invitation is for; only a user whose confirmed email this is may answer it.
  email text not null check (email = lower(email) and email ~ '^[^@\s]+@[^@\s]+$' and char_length(email) <= 320),
  role text not null default 'member' check (role in ('owner', 'admin', 'member', 'viewer')),
  -- Who invited: auth.uid(), never written by a client.
  invited_by uuid default auth.uid() references auth.users (id) on delete set null,
  -- Unanswered after this, the invitation can no longer be accepted (the team may invite again).
  expires_at timestamptz not null default now() + interval '7 days',
  -- Set when accepted; answered invitations are kept as history.
  accepted_at timestamptz,
  accepted_by uuid references auth.users (id) on delete set null,
  -- Set when the invitee declined.
  declined_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint team_invitations_answered_once check (accepted_at is null or declined_at is null)
);
comment on table public.team_invitations is 'An invitation of an email address into a team: pending, accepted, declined or expired.';
-- One unanswered invitation per address and team (an expired one is replaced by the next invitation).
create unique index team_invitations_pending_key on public.team_invitations (team_id, email)
  where accepted_at is null and declined_at is null;
create index team_invitations_email_idx on public.team_invitations (email) where accepted_at is null and declined_at is null;

create trigger team_invitations_set_updated_at before update on public.team_invitations
  for each row execute function private.set_updated_at();

-- The acting user's email address once Auth has confirmed it (null before): what invitations are matched on.
-- The JWT's `email` claim is not enough: with confirmations off, or before the link is followed, anyone can
-- claim an address at sign-up.
create or replace function private.confirmed_email()
returns text
language sql
stable
security definer
set search_path = ''
as $$
  select lower(u.email) from auth.users u where u.id = auth.uid() and u.email_confirmed_at is not null;
$$;
revoke all on function private.confirmed_email() from public;
grant execute on function private.confirmed_email() to authenticated;

alter table public.team_invitations enable row level security;

create policy "Team owners and admins can read their team's invitations" on public.team_invitations
  for select to authenticated
  using (team_id in (select private.team_ids_with_role('admin')));

create policy "Invitees can read the invitations addressed to their confirmed email" on public.team_invitations
  for select to authenticated
  using (email = (select private.confirmed_email()));

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

-- Ids, inviter (the default auth.uid()), acceptance and timestamps are the server's.
revoke all on table public.team_invitations from anon, authenticated;
grant select, delete on table public.team_invitations to authenticated;
grant insert (team_id, email, role) on table public.team_invitations to authenticated;

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
    raise exception using errcode = 'CR004', message = 'only an owner can invite an owner';
  end if;
  if v_email is null or v_email !~ '^[^@\s]+@[^@\s]+$' then
    raise exception using errcode = '22023', message = 'that is not an email address';
  end if;
  -- An expired, unanswered invitation to the same address gives way to the new one.
  delete from public.team_invitations i
  where i.team_id = p_team_id and i.email = v_email and i.accepted_at is null and i.declined_at is null
    and i.expires_at <= now();
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
  delete from public.team_invitations where id = p_invitation_id and accepted_at is null and declined_at is null;
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
  where i.accepted_at is null and i.declined_at is null and (p_team_id is null or i.team_id = p_team_id)
  order by i.created_at desc;
$$;

-- The invitations waiting for the acting user's answer: addressed to their confirmed email, unanswered and
-- unexpired, with what they need to decide (the team's name, who invites, the role). Security definer: the
-- invitee is not a member yet, so the team and the inviter's profile are not otherwise readable to them.
create or replace function public.list_my_invitations()
returns table (
  id uuid, team_id uuid, team_name text, role text, invited_by uuid, inviter_email text, inviter_name text,
  created_at timestamptz, expires_at timestamptz
)
language sql
stable
security definer
set search_path = ''
as $$
  select i.id, i.team_id, t.name, i.role, i.invited_by, p.email, p.display_name, i.created_at, i.expires_at
  from public.team_invitations i
  join public.teams t on t.id = i.team_id
  left join public.profiles p on p.id = i.invited_by
  where auth.uid() is not null
    and i.email = private.confirmed_email()
    and i.accepted_at is null and i.declined_at is null and i.expires_at > now()
  order by i.created_at desc;
$$;

-- The acting user's own invitation, locked for the answer. Anything that is not a pending invitation to their
-- confirmed address is "not found", whether it exists or not, so ids probe nothing.
create or replace function private.my_pending_invitation(p_invitation_id uuid)
returns public.team_invitations
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_email text;
  v_row public.team_invitations;
begin
  perform private.require_uid();
  v_email := private.confirmed_email();
  if v_email is null then
    raise exception using errcode = '42501', message = 'confirm your email address before answering an invitation';
  end if;
  select * into v_row from public.team_invitations i
  where i.id = p_invitation_id and i.email = v_email and i.accepted_at is null and i.declined_at is null
  for update;
  if not found then
    raise exception using errcode = 'P0002', message = 'invitation not found';
  end if;
  if v_row.expires_at <= now() then
    raise exception using errcode = '22023', message = 'this invitation has expired; ask the team for a new one';
  end if;
  return v_row;
end;
$$;
revoke all on function private.my_pending_invitation(uuid) from public;

-- Accepting makes the acting user a member with the invited role (an existing membership is kept as it is).
-- Security definer: the invitee is not yet a member, and team_members has no insert policy at all.
create or replace function public.accept_invitation(p_invitation_id uuid)
returns public.team_members
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_inv public.team_invitations := private.my_pending_invitation(p_invitation_id);
  v_row public.team_members;
begin
  insert into public.team_members (team_id, user_id, role, invited_by)
  values (v_inv.team_id, auth.uid(), v_inv.role, v_inv.invited_by)
  on conflict (team_id, user_id) do nothing;
  update public.team_invitations set accepted_at = now(), accepted_by = auth.uid() where id = v_inv.id;
  select * into v_row from public.team_members tm where tm.team_id = v_inv.team_id and tm.user_id = auth.uid();
  return v_row;
end;
$$;

create or replace function public.decline_invitation(p_invitation_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_inv public.team_invitations := private.my_pending_invitation(p_invitation_id);
begin
  update public.team_invitations set declined_at = now() where id = v_inv.id;
end;
$$;

revoke all on function public.invite_member(uuid, text, text) from public, anon;
revoke all on function public.withdraw_invitation(uuid) from public, anon;
revoke all on function public.list_invitations(uuid) from public, anon;
revoke all on function public.list_my_invitations() from public, anon;
revoke all on function public.accept_invitation(uuid) from public, anon;
revoke all on function public.decline_invitation(uuid) from public, anon;
grant execute on function public.invite_member(uuid, text, text) to authenticated;
grant execute on function public.withdraw_invitation(uuid) to authenticated;
grant execute on function public.list_invitations(uuid) to authenticated;
grant execute on function public.list_my_invitations() to authenticated;
grant execute on function public.accept_invitation(uuid) to authenticated;
grant execute on function public.decline_invitation(uuid) to authenticated;
