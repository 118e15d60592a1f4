-- =====================================================================================================
-- Sessions (conversations) and their messages. A private session and its messages belong to their owner;
-- a team session (visibility 'team', in a team project) is read by the team's members and written by
-- members with role member or above; viewers read only.
--
-- In a team project, what a session's creator may do follows their role in the team *now*: removed (or
-- left), nothing, not even their own private sessions there; viewer, read only; member and above, what an
-- owner may. Their shared sessions stay the team's. Their private sessions in the team project stay theirs
-- but unreadable while they are not a member (the team's data does not leave with them, nor is it read by
-- anyone else), and come back if they rejoin; deleting their account deletes them. A creator's account
-- deleted: their private sessions go with it, their shared ones stay the team's with no owner.
-- =====================================================================================================

create table public.sessions (
  id uuid primary key default gen_random_uuid(),
  -- The project it belongs to; a session without a project is always private.
  project_id uuid references public.projects (id) on delete cascade,
  -- Who started it. Only the owner can share, unshare or delete it. Null once the creator's account is
  -- deleted (then only a shared session remains: private ones are deleted with the account).
  owner_id uuid default auth.uid() references auth.users (id) on delete set null,
  -- The agent that answers; falls back to the built-in default agent when null or deleted.
  agent_id uuid references public.agents (id) on delete set null,
  title text not null default 'New chat' check (char_length(title) between 1 and 200),
  visibility text not null default 'private' check (visibility in ('private', 'team')),
  -- Set when archived; archived sessions are hidden from the default listing.
  archived_at timestamptz,
  -- Time of the newest message (or creation), for listing most recent first; kept by trigger.
  last_message_at timestamptz not null default now(),
  message_count integer not null default 0 check (message_count >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint sessions_team_needs_project check (visibility = 'private' or project_id is not null)
);
comment on table public.sessions is 'A conversation with an agent, private to its owner or shared with the project team.';
create index sessions_project_recent_idx on public.sessions (project_id, last_message_at desc, id);
create index sessions_owner_recent_idx on public.sessions (owner_id, last_message_at desc, id);
create index sessions_agent_id_idx on public.sessions (agent_id);

create trigger sessions_set_updated_at before update on public.sessions
  for each row execute function private.set_updated_at();

create table public.messages (
  id uuid primary key default gen_random_uuid(),
  session_id uuid not null references public.sessions (id) on delete cascade,
  -- Order within the session, 1, 2, 3, ...; assigned by the server (trigger below) under a lock, never by a client.
  seq integer not null check (seq > 0),
  -- What a person writes (user), or what their daemon's model and tools answered for them (assistant, tool),
  -- attributed to author_id either way. No 'system': system prompts come only from the agent definition.
  role text not null check (role in ('user', 'assistant', 'tool')),
  content text not null default '' check (octet_length(content) <= 1048576),
  -- An assistant reply is 'streaming' while it is generated, then complete, cancelled or failed.
  status text not null default 'complete' check (status in ('streaming', 'complete', 'cancelled', 'failed')),
  -- The user who wrote it, or on whose behalf the agent answered: auth.uid(), never written by a client.
  author_id uuid default auth.uid() references auth.users (id) on delete set null,
  -- Tool name for role 'tool'.
  name text check (name is null or char_length(name) <= 200),
  -- Tool calls requested by an assistant message: [{id, name, args}].
  tool_calls jsonb check (tool_calls is null or jsonb_typeof(tool_calls) = 'array'),
  -- For role 'tool': the id of the call it answers.
  tool_call_id text check (tool_call_id is null or char_length(tool_call_id) <= 200),
  -- Model, usage, error and other details; never secrets.
  metadata jsonb not null default '{}'::jsonb check (jsonb_typeof(metadata) = 'object'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (session_id, seq)
);
comment on table public.messages is 'One message of a session, in order; tool calls and results included.';
create index messages_author_streaming_idx on public.messages (author_id) where status = 'streaming';

create trigger messages_set_updated_at before update on public.messages
  for each row execute function private.set_updated_at();

-- -----------------------------------------------------------------------------------------------------
-- Visibility helpers
-- -----------------------------------------------------------------------------------------------------
-- Team projects where the acting user has at least p_min_role.
create or replace function private.team_project_ids(p_min_role text)
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select p.id from public.projects p
  where p.team_id in (select private.team_ids_with_role(p_min_role));
$$;

-- Owners read their sessions in projects they can still read (personal ones, and their teams' at any
-- role); team members read the team's shared sessions.
create or replace function private.readable_session_ids()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select s.id from public.sessions s
  where (s.owner_id = auth.uid() and (s.project_id is null or s.project_id in (select private.readable_project_ids())))
     or (s.visibility = 'team' and s.project_id in (select private.team_project_ids('viewer')));
$$;

-- Owners write their sessions in projects they can still write to (personal ones, and their teams' as
-- member or above); members (and above) write the team's shared sessions.
create or replace function private.can_write_session(p_session_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1 from public.sessions s
    where s.id = p_session_id
      and ((s.owner_id = auth.uid() and (s.project_id is null or s.project_id in (select private.writable_project_ids())))
           or (s.visibility = 'team' and s.project_id in (select private.team_project_ids('member'))))
  );
$$;

revoke all on function private.team_project_ids(text) from public;
revoke all on function private.readable_session_ids() from public;
revoke all on function private.can_write_session(uuid) from public;
grant execute on function private.team_project_ids(text) to authenticated, service_role;
grant execute on function private.readable_session_ids() to authenticated, service_role;
grant execute on function private.can_write_session(uuid) to authenticated, service_role;

-- -----------------------------------------------------------------------------------------------------
-- RLS: sessions
-- -----------------------------------------------------------------------------------------------------
alter table public.sessions enable row level security;

create policy "Owners can read their sessions in projects they can read, team members the team's shared sessions" on public.sessions
  for select to authenticated
  using (
    (owner_id = (select auth.uid()) and (project_id is null or project_id in (select private.readable_project_ids())))
    or (visibility = 'team' and project_id in (select private.team_project_ids('viewer')))
  );

-- A session may only name an agent its writer can read (agents' RLS applies inside the check).
create policy "Users can start sessions in projects they can write to" on public.sessions
  for insert to authenticated
  with check (
    owner_id = (select auth.uid())
    and (project_id is null or project_id in (select private.writable_project_ids()))
    and (visibility = 'private' or project_id in (select private.team_project_ids('member')))
    and (agent_id is null or exists (select 1 from public.agents a where a.id = agent_id))
  );

create policy "Owners and team members (member or above) can update sessions in projects they can write to" on public.sessions
  for update to authenticated
  using (
    (owner_id = (select auth.uid()) and (project_id is null or project_id in (select private.writable_project_ids())))
    or (visibility = 'team' and project_id in (select private.team_project_ids('member')))
  )
  with check (
    (project_id is null or project_id in (select private.writable_project_ids()))
    and (visibility = 'private' or project_id in (select private.team_project_ids('member')))
  );

-- Team owners and admins may delete the team's shared sessions too: the team keeps them when their creator
-- leaves, and someone must be able to clear them up.
create policy "Owners can delete their sessions in projects they can write to, team admins shared sessions" on public.sessions
  for delete to authenticated
  using (
    (owner_id = (select auth.uid()) and (project_id is null or project_id in (select private.writable_project_ids())))
    or (visibility = 'team' and project_id in (select private.team_project_ids('admin')))
  );

-- Ids, owner, counters and timestamps are the server's (owner_id from the default auth.uid()).
revoke all on table public.sessions from anon, authenticated;
grant select, delete on table public.sessions to authenticated;
grant insert (project_id, agent_id, title, visibility), update (project_id, agent_id, title, visibility, archived_at)
  on table public.sessions to authenticated;

-- Only the owner shares, unshares or moves a session; nobody changes its owner. The one exception is the
-- foreign key's SET NULL when the owner's account is deleted, which runs as the table's owner, never as a
-- client role.
create or replace function private.sessions_guard()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.owner_id is distinct from old.owner_id
     and not (new.owner_id is null and current_user not in ('authenticated', 'anon')) then
    raise exception using errcode = '42501', message = 'a session cannot change owner';
  end if;
  if (new.visibility <> old.visibility or new.project_id is distinct from old.project_id)
     and old.owner_id is distinct from auth.uid() and auth.uid() is not null then
    raise exception using errcode = '42501', message = 'only the owner can share, unshare or move a session';
  end if;
  -- A new agent must be one the writer can read (RLS applies here); an unchanged one need not be, so
  -- teammates can still rename a shared session answered by its owner's personal agent.
  if new.agent_id is distinct from old.agent_id and new.agent_id is not null and auth.uid() is not null
     and not exists (select 1 from public.agents a where a.id = new.agent_id) then
    raise exception using errcode = 'P0002', message = 'agent not found';
  end if;
  return new;
end;
$$;
revoke all on function private.sessions_guard() from public;

create trigger sessions_guard before update on public.sessions
  for each row execute function private.sessions_guard();

-- -----------------------------------------------------------------------------------------------------
-- RLS: messages
-- -----------------------------------------------------------------------------------------------------
alter table public.messages enable row level security;

create policy "Users can read the messages of sessions they can read" on public.messages
  for select to authenticated
  using (session_id in (select private.readable_session_ids()));

create policy "Users can post in sessions they can write to" on public.messages
  for insert to authenticated
  with check (author_id = (select auth.uid()) and private.can_write_session(session_id));

create policy "Authors can finish their own messages in sessions they can write to" on public.messages
  for update to authenticated
  using (author_id = (select auth.uid()) and private.can_write_session(session_id))
  with check (author_id = (select auth.uid()) and private.can_write_session(session_id));

-- Ids, order (seq), author and timestamps are the server's; only a streaming message's content, status and
-- metadata change afterwards.
revoke all on table public.messages from anon, authenticated;
grant select on table public.messages to authenticated;
grant insert (session_id, role, content, status, name, tool_calls, tool_call_id, metadata),
  update (content, status, metadata)
  on table public.messages to authenticated;

-- Places each new message last in its session, one writer per session at a time, so seq has no gaps or
-- duplicates and no client picks it (a message at seq 2147483647 would stop everyone's append_message).
-- Security definer: it must see every message of the session to find the last one.
create or replace function private.messages_assign_seq()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform pg_advisory_xact_lock(hashtextextended(new.session_id::text, 0));
  -- A statement of its own, so it sees what the writer this lock waited for committed.
  select coalesce(max(m.seq), 0) + 1 into new.seq from public.messages m where m.session_id = new.session_id;
  return new;
end;
$$;
revoke all on function private.messages_assign_seq() from public;

create trigger messages_assign_seq before insert on public.messages
  for each row execute function private.messages_assign_seq();

-- Messages never move between sessions or change their place or author. The author becomes null only through
-- the foreign key's SET NULL when their account is deleted (run as the table's owner, never a client role):
-- the team keeps the history, shown as written by a deleted user.
create or replace function private.messages_guard()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.session_id <> old.session_id or new.seq <> old.seq or new.role <> old.role
     or (new.author_id is distinct from old.author_id
         and not (new.author_id is null and current_user not in ('authenticated', 'anon'))) then
    raise exception using errcode = '42501', message = 'a message cannot move, change its author or its role';
  end if;
  -- History is immutable once a reply has ended, for direct table writes as for update_message.
  if old.status <> 'streaming' and auth.uid() is not null and not (new.author_id is null and old.author_id is not null) then
    raise exception using errcode = '22023', message = format('the message is %s; only a streaming message can change', old.status);
  end if;
  return new;
end;
$$;
revoke all on function private.messages_guard() from public;

create trigger messages_guard before update on public.messages
  for each row execute function private.messages_guard();

-- The session's recency and count follow its messages (security definer: a member posting in a team
-- session may not otherwise update the session row's counters).
create or replace function private.touch_session()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.sessions
  set last_message_at = greatest(last_message_at, new.created_at), message_count = message_count + 1
  where id = new.session_id;
  return new;
end;
$$;
revoke all on function private.touch_session() from public;

create trigger messages_touch_session after insert on public.messages
  for each row execute function private.touch_session();

-- -----------------------------------------------------------------------------------------------------
-- SQL API: sessions
-- -----------------------------------------------------------------------------------------------------
create or replace function private.require_session(p_session_id uuid)
returns public.sessions
language plpgsql
stable
set search_path = ''
as $$
declare
  v_row public.sessions;
begin
  perform private.require_uid();
  select * into v_row from public.sessions where id = p_session_id;
  if not found then
    raise exception using errcode = 'P0002', message = 'session not found';
  end if;
  return v_row;
end;
$$;
revoke all on function private.require_session(uuid) from public;
grant execute on function private.require_session(uuid) to authenticated;

create or replace function public.create_session(
  p_project_id uuid default null,
  p_title text default null,
  p_agent_id uuid default null,
  p_visibility text default 'private'
)
returns public.sessions
language plpgsql
set search_path = ''
as $$
declare
  v_uid uuid := private.require_uid();
  v_row public.sessions;
begin
  if p_visibility not in ('private', 'team') then
    raise exception using errcode = '22023', message = 'visibility must be private or team';
  end if;
  if p_title is not null and char_length(btrim(p_title)) not between 1 and 200 then
    raise exception using errcode = '22023', message = 'title must be 1 to 200 characters';
  end if;
  if p_project_id is not null and not private.can_write_project(p_project_id) then
    raise exception using errcode = '42501', message = 'you cannot start sessions in that project';
  end if;
  if p_visibility = 'team' and (p_project_id is null or p_project_id not in (select private.team_project_ids('member'))) then
    raise exception using errcode = '42501', message = 'only team projects can have team sessions, started by members';
  end if;
  if p_agent_id is not null and not exists (select 1 from public.agents a where a.id = p_agent_id) then
    raise exception using errcode = 'P0002', message = 'agent not found';
  end if;
  insert into public.sessions (project_id, agent_id, title, visibility)
  values (p_project_id, p_agent_id, coalesce(btrim(p_title), 'New chat'), p_visibility)
  returning * into v_row;
  return v_row;
end;
$$;

create or replace function public.list_sessions(
  p_project_id uuid default null,
  p_limit integer default 50,
  p_before timestamptz default null,
  p_include_archived boolean default false
)
returns setof public.sessions
language plpgsql
stable
set search_path = ''
as $$
begin
  perform private.require_uid();
  if p_limit is null or p_limit not between 1 and 500 then
    raise exception using errcode = '22023', message = 'limit must be between 1 and 500';
  end if;
  return query
    select s.* from public.sessions s
    where (p_project_id is null or s.project_id = p_project_id)
      and (p_include_archived or s.archived_at is null)
      and (p_before is null or s.last_message_at < p_before)
    order by s.last_message_at desc, s.id
    limit p_limit;
end;
$$;

create or replace function public.get_session(p_session_id uuid)
returns public.sessions
language sql
stable
set search_path = ''
as $$
  select * from private.require_session(p_session_id);
$$;

create or replace function public.rename_session(p_session_id uuid, p_title text)
returns public.sessions
language plpgsql
set search_path = ''
as $$
declare
  v_row public.sessions;
begin
  perform private.require_session(p_session_id);
  if p_title is null or char_length(btrim(p_title)) not between 1 and 200 then
    raise exception using errcode = '22023', message = 'title must be 1 to 200 characters';
  end if;
  update public.sessions set title = btrim(p_title) where id = p_session_id returning * into v_row;
  if not found then
    raise exception using errcode = '42501', message = 'you cannot rename this session';
  end if;
  return v_row;
end;
$$;

create or replace function public.archive_session(p_session_id uuid, p_archived boolean default true)
returns public.sessions
language plpgsql
set search_path = ''
as $$
declare
  v_row public.sessions;
begin
  perform private.require_session(p_session_id);
  update public.sessions
  set archived_at = case when p_archived then coalesce(archived_at, now()) else null end
  where id = p_session_id
  returning * into v_row;
  if not found then
    raise exception using errcode = '42501', message = 'you cannot archive this session';
  end if;
  return v_row;
end;
$$;

create or replace function public.share_session(p_session_id uuid, p_visibility text)
returns public.sessions
language plpgsql
set search_path = ''
as $$
declare
  v_session public.sessions := private.require_session(p_session_id);
  v_row public.sessions;
begin
  if p_visibility not in ('private', 'team') then
    raise exception using errcode = '22023', message = 'visibility must be private or team';
  end if;
  if v_session.owner_id is distinct from auth.uid() or (v_session.project_id is not null and not private.can_write_project(v_session.project_id)) then
    raise exception using errcode = '42501', message = 'only the owner can share or unshare a session';
  end if;
  if p_visibility = 'team' and (v_session.project_id is null
       or v_session.project_id not in (select private.team_project_ids('member'))) then
    raise exception using errcode = '42501', message = 'only sessions of a team project can be shared with the team';
  end if;
  update public.sessions set visibility = p_visibility where id = p_session_id returning * into v_row;
  return v_row;
end;
$$;

create or replace function public.delete_session(p_session_id uuid)
returns void
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_session(p_session_id);
  delete from public.sessions where id = p_session_id;
  if not found then
    raise exception using errcode = '42501', message = 'only the owner (or, for a shared session, a team owner or admin) can delete a session';
  end if;
end;
$$;

-- -----------------------------------------------------------------------------------------------------
-- SQL API: messages
-- -----------------------------------------------------------------------------------------------------
create or replace function public.append_message(
  p_session_id uuid,
  p_role text,
  p_content text,
  p_status text default 'complete',
  p_metadata jsonb default '{}'::jsonb,
  p_tool_calls jsonb default null,
  p_tool_call_id text default null,
  p_name text default null
)
returns public.messages
language plpgsql
set search_path = ''
as $$
declare
  v_row public.messages;
begin
  perform private.require_session(p_session_id);
  if not private.can_write_session(p_session_id) then
    raise exception using errcode = '42501', message = 'you can read this session but not post in it';
  end if;
  if p_role is null or p_role not in ('user', 'assistant', 'tool') then
    raise exception using errcode = '22023', message = 'role must be user, assistant or tool';
  end if;
  if p_status is null or p_status not in ('streaming', 'complete', 'cancelled', 'failed') then
    raise exception using errcode = '22023', message = 'status must be streaming, complete, cancelled or failed';
  end if;
  if p_content is null then
    raise exception using errcode = '22023', message = 'content is required';
  end if;
  if octet_length(p_content) > 1048576 then
    raise exception using errcode = '22001', message = 'message content is over 1 MiB';
  end if;
  if p_metadata is not null and jsonb_typeof(p_metadata) <> 'object' then
    raise exception using errcode = '22023', message = 'metadata must be a JSON object';
  end if;
  if p_tool_calls is not null and jsonb_typeof(p_tool_calls) <> 'array' then
    raise exception using errcode = '22023', message = 'tool_calls must be a JSON array';
  end if;
  -- seq and author_id are the server's (trigger and default).
  insert into public.messages (session_id, role, content, status, name, tool_calls, tool_call_id, metadata)
  values (p_session_id, p_role, p_content, p_status, p_name, p_tool_calls, p_tool_call_id, coalesce(p_metadata, '{}'::jsonb))
  returning * into v_row;
  return v_row;
end;
$$;

create or replace function public.update_message(
  p_message_id uuid,
  p_content text default null,
  p_status text default null,
  p_metadata jsonb default null
)
returns public.messages
language plpgsql
set search_path = ''
as $$
declare
  v_row public.messages;
begin
  perform private.require_uid();
  select * into v_row from public.messages where id = p_message_id;
  if not found then
    raise exception using errcode = 'P0002', message = 'message not found';
  end if;
  if v_row.status <> 'streaming' then
    raise exception using errcode = '22023', message = format('the message is %s; only a streaming message can change', v_row.status);
  end if;
  if p_status is not null and p_status not in ('streaming', 'complete', 'cancelled', 'failed') then
    raise exception using errcode = '22023', message = 'status must be streaming, complete, cancelled or failed';
  end if;
  if p_content is not null and octet_length(p_content) > 1048576 then
    raise exception using errcode = '22001', message = 'message content is over 1 MiB';
  end if;
  if p_metadata is not null and jsonb_typeof(p_metadata) <> 'object' then
    raise exception using errcode = '22023', message = 'metadata must be a JSON object';
  end if;
  update public.messages set
    content = coalesce(p_content, content),
    status = coalesce(p_status, status),
    metadata = metadata || coalesce(p_metadata, '{}'::jsonb)
  where id = p_message_id
  returning * into v_row;
  if not found then
    raise exception using errcode = '42501', message = 'you cannot change this message';
  end if;
  return v_row;
end;
$$;

create or replace function public.list_messages(
  p_session_id uuid,
  p_after_seq integer default 0,
  p_limit integer default 200
)
returns setof public.messages
language plpgsql
stable
set search_path = ''
as $$
begin
  perform private.require_session(p_session_id);
  if p_limit is null or p_limit not between 1 and 1000 then
    raise exception using errcode = '22023', message = 'limit must be between 1 and 1000';
  end if;
  return query
    select m.* from public.messages m
    where m.session_id = p_session_id and m.seq > coalesce(p_after_seq, 0)
    order by m.seq
    limit p_limit;
end;
$$;

-- Replies left 'streaming' by a crash become 'failed', so nothing acknowledged is ever silently missing.
-- Without p_stale_after_seconds every streaming reply of the caller is failed, as a lone embedded daemon
-- does at start. When the same user may run several daemons (team mode: two machines), only replies
-- untouched for longer than p_stale_after_seconds: a live reply is saved at least every 30 seconds (its
-- content as it grows, or a heartbeat), so one untouched for longer belongs to a daemon that is gone.
create or replace function public.fail_streaming_messages(p_reason text default 'interrupted', p_stale_after_seconds integer default null)
returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_uid uuid := private.require_uid();
  v_count integer;
begin
  if p_stale_after_seconds is not null and p_stale_after_seconds < 0 then
    raise exception using errcode = '22023', message = 'p_stale_after_seconds must not be negative';
  end if;
  update public.messages
  set status = 'failed', metadata = metadata || jsonb_build_object('error', coalesce(p_reason, 'interrupted'))
  where author_id = v_uid and status = 'streaming'
    and (p_stale_after_seconds is null or updated_at < now() - make_interval(secs => p_stale_after_seconds));
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;

-- What the caller may do in a session they can read, so a client can offer only what will work (a viewer's
-- chat shows the conversation without an input box): 'owner' (their own session, in a project they can
-- still write to), 'write' (a team session, role member or above) or 'read' (a team session as a viewer,
-- and a creator's own session once their role in the team is viewer). In a team project this follows the
-- caller's role now, not who started the session. Not visible (a removed member's own sessions there
-- included): P0002, as get_session.
create or replace function public.session_access(p_session_id uuid)
returns text
language plpgsql
stable
set search_path = ''
as $$
declare
  v_uid uuid := private.require_uid();
  v_owner uuid;
begin
  select s.owner_id into v_owner from public.sessions s where s.id = p_session_id;
  if not found then
    raise exception using errcode = 'P0002', message = 'session not found';
  end if;
  if not private.can_write_session(p_session_id) then
    return 'read';
  end if;
  return case when v_owner = v_uid then 'owner' else 'write' end;
end;
$$;

revoke all on function public.create_session(uuid, text, uuid, text) from public, anon;
revoke all on function public.list_sessions(uuid, integer, timestamptz, boolean) from public, anon;
revoke all on function public.get_session(uuid) from public, anon;
revoke all on function public.rename_session(uuid, text) from public, anon;
revoke all on function public.archive_session(uuid, boolean) from public, anon;
revoke all on function public.share_session(uuid, text) from public, anon;
revoke all on function public.delete_session(uuid) from public, anon;
revoke all on function public.append_message(uuid, text, text, text, jsonb, jsonb, text, text) from public, anon;
revoke all on function public.update_message(uuid, text, text, jsonb) from public, anon;
revoke all on function public.list_messages(uuid, integer, integer) from public, anon;
revoke all on function public.fail_streaming_messages(text, integer) from public, anon;
revoke all on function public.session_access(uuid) from public, anon;
grant execute on function public.create_session(uuid, text, uuid, text) to authenticated;
grant execute on function public.list_sessions(uuid, integer, timestamptz, boolean) to authenticated;
grant execute on function public.get_session(uuid) to authenticated;
grant execute on function public.rename_session(uuid, text) to authenticated;
grant execute on function public.archive_session(uuid, boolean) to authenticated;
grant execute on function public.share_session(uuid, text) to authenticated;
grant execute on function public.delete_session(uuid) to authenticated;
grant execute on function public.append_message(uuid, text, text, text, jsonb, jsonb, text, text) to authenticated;
grant execute on function public.update_message(uuid, text, text, jsonb) to authenticated;
grant execute on function public.list_messages(uuid, integer, integer) to authenticated;
grant execute on function public.fail_streaming_messages(text, integer) to authenticated;
grant execute on function public.session_access(uuid) to authenticated;
