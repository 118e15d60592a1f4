-- =====================================================================================================
-- API usage (tokens per model call), API keys (hashed, owner only), and the audit log (written by
-- triggers, read by team owners and admins).
-- =====================================================================================================

create table public.api_usage (
  id bigint generated always as identity primary key,
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  -- The project's team at the time, so team admins can see their team's usage.
  team_id uuid references public.teams (id) on delete set null,
  project_id uuid references public.projects (id) on delete set null,
  session_id uuid references public.sessions (id) on delete set null,
  message_id uuid references public.messages (id) on delete set null,
  model text not null check (char_length(model) between 1 and 200),
  kind text not null default 'chat' check (kind in ('chat', 'embedding', 'summary', 'title')),
  prompt_tokens integer not null default 0 check (prompt_tokens >= 0),
  completion_tokens integer not null default 0 check (completion_tokens >= 0),
  created_at timestamptz not null default now()
);
comment on table public.api_usage is 'Tokens used per model call, for quotas and cost reports.';
create index api_usage_user_time_idx on public.api_usage (user_id, created_at desc);
create index api_usage_team_time_idx on public.api_usage (team_id, created_at desc) where team_id is not null;
create index api_usage_session_id_idx on public.api_usage (session_id);
create index api_usage_message_id_idx on public.api_usage (message_id);
create index api_usage_project_id_idx on public.api_usage (project_id);

alter table public.api_usage enable row level security;

create policy "Users can read their own usage, team admins their team's usage" on public.api_usage
  for select to authenticated
  using (user_id = (select auth.uid()) or team_id in (select private.team_ids_with_role('admin')));

-- Usage may only be charged to the caller and to a team, project and session the caller can read, so nobody
-- can put rows into another tenant's usage report.
create policy "Users can record their own usage" on public.api_usage
  for insert to authenticated
  with check (
    user_id = (select auth.uid())
    and (team_id is null or team_id in (select private.team_ids_with_role('viewer')))
    and (project_id is null or project_id in (select private.readable_project_ids()))
    and (session_id is null or session_id in (select private.readable_session_ids()))
    and (message_id is null or exists (select 1 from public.messages m where m.id = message_id))
  );

revoke all on table public.api_usage from anon, authenticated;
grant select, insert on table public.api_usage to authenticated;

create or replace function public.record_usage(
  p_model text,
  p_prompt_tokens integer,
  p_completion_tokens integer,
  p_kind text default 'chat',
  p_session_id uuid default null,
  p_message_id uuid default null
)
returns public.api_usage
language plpgsql
set search_path = ''
as $$
declare
  v_uid uuid := private.require_uid();
  v_project uuid;
  v_team uuid;
  v_row public.api_usage;
begin
  if p_prompt_tokens < 0 or p_completion_tokens < 0 then
    raise exception using errcode = '22023', message = 'token counts cannot be negative';
  end if;
  if p_session_id is not null then
    select s.project_id into v_project from public.sessions s where s.id = p_session_id;
    if not found then
      raise exception using errcode = 'P0002', message = 'session not found';
    end if;
    select p.team_id into v_team from public.projects p where p.id = v_project;
  end if;
  insert into public.api_usage (user_id, team_id, project_id, session_id, message_id, model, kind, prompt_tokens, completion_tokens)
  values (v_uid, v_team, v_project, p_session_id, p_message_id, p_model, coalesce(p_kind, 'chat'),
          coalesce(p_prompt_tokens, 0), coalesce(p_completion_tokens, 0))
  returning * into v_row;
  return v_row;
end;
$$;

-- -----------------------------------------------------------------------------------------------------
-- API keys: only the SHA-256 hash is stored; the key itself is shown once, by whoever generated it.
-- -----------------------------------------------------------------------------------------------------
create table public.api_keys (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  name text not null check (char_length(btrim(name)) between 1 and 100),
  -- First characters of the key, to recognise it in a list (e.g. 'cairn_ab12').
  prefix text not null check (char_length(prefix) between 4 and 16),
  -- Lowercase hex SHA-256 of the key.
  key_hash text not null unique check (key_hash ~ '^[0-9a-f]{64}$'),
  last_used_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.api_keys is 'Personal API keys for scripts; hashed, visible only to their owner.';
create index api_keys_owner_id_idx on public.api_keys (owner_id);

create trigger api_keys_set_updated_at before update on public.api_keys
  for each row execute function private.set_updated_at();

alter table public.api_keys enable row level security;

create policy "Users can read their own API keys" on public.api_keys
  for select to authenticated using (owner_id = (select auth.uid()));
create policy "Users can create their own API keys" on public.api_keys
  for insert to authenticated with check (owner_id = (select auth.uid()));
create policy "Users can revoke their own API keys" on public.api_keys
  for update to authenticated using (owner_id = (select auth.uid())) with check (owner_id = (select auth.uid()));
create policy "Users can delete their own API keys" on public.api_keys
  for delete to authenticated using (owner_id = (select auth.uid()));

revoke all on table public.api_keys from anon, authenticated;
grant select, insert, update, delete on table public.api_keys to authenticated;

create or replace function public.create_api_key(p_name text, p_key_hash text, p_prefix text)
returns public.api_keys
language plpgsql
set search_path = ''
as $$
declare
  v_row public.api_keys;
begin
  perform private.require_uid();
  if p_key_hash is null or p_key_hash !~ '^[0-9a-f]{64}$' then
    raise exception using errcode = '22023', message = 'key_hash must be a lowercase hex SHA-256 digest, never the key itself';
  end if;
  insert into public.api_keys (name, prefix, key_hash) values (btrim(p_name), p_prefix, p_key_hash) returning * into v_row;
  return v_row;
end;
$$;

create or replace function public.revoke_api_key(p_key_id uuid)
returns void
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_uid();
  update public.api_keys set revoked_at = coalesce(revoked_at, now()) where id = p_key_id;
  if not found then
    raise exception using errcode = 'P0002', message = 'API key not found';
  end if;
end;
$$;

-- -----------------------------------------------------------------------------------------------------
-- Audit log
-- -----------------------------------------------------------------------------------------------------
create table public.audit_log (
  id bigint generated always as identity primary key,
  -- The team the row belongs to (null for personal rows); who may read the entry follows from it.
  team_id uuid references public.teams (id) on delete cascade,
  -- auth.uid() of whoever made the change; null for the service role or a migration.
  actor_id uuid references auth.users (id) on delete set null,
  action text not null check (action in ('insert', 'update', 'delete')),
  table_name text not null,
  record_id text,
  -- Row values before and after, with secrets (key hashes) removed.
  old_values jsonb,
  new_values jsonb,
  created_at timestamptz not null default now()
);
comment on table public.audit_log is 'Who changed what and when, written by triggers on the tables that matter.';
create index audit_log_team_time_idx on public.audit_log (team_id, created_at desc);
create index audit_log_actor_time_idx on public.audit_log (actor_id, created_at desc);

alter table public.audit_log enable row level security;

create policy "Team owners and admins can read their team's audit log" on public.audit_log
  for select to authenticated
  using (team_id in (select private.team_ids_with_role('admin')));

create policy "Users can read the audit entries of their personal rows" on public.audit_log
  for select to authenticated
  using (team_id is null and actor_id = (select auth.uid()));

revoke all on table public.audit_log from anon, authenticated;
grant select on table public.audit_log to authenticated;

-- Resolves the team a row belongs to, by table.
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
    when 'team_members', 'projects', 'agents' then v_team := (p_row ->> 'team_id')::uuid;
    when 'sessions', 'kb_sources' then
      select p.team_id into v_team from public.projects p where p.id = (p_row ->> 'project_id')::uuid;
    else v_team := null;
  end case;
  -- A row whose team was just deleted (cascade) is logged as personal.
  if v_team is not null and not exists (select 1 from public.teams t where t.id = v_team) then
    return null;
  end if;
  return v_team;
end;
$$;

create or replace function private.audit()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_old jsonb := case when tg_op in ('UPDATE', 'DELETE') then to_jsonb(old) - 'key_hash' - 'fts' - 'embedding' end;
  v_new jsonb := case when tg_op in ('INSERT', 'UPDATE') then to_jsonb(new) - 'key_hash' - 'fts' - 'embedding' end;
  v_row jsonb := coalesce(v_new, v_old);
begin
  -- Only last_message_at/message_count moved (a message was posted): not an audited change.
  if tg_op = 'UPDATE' and tg_table_name = 'sessions'
     and (v_old - 'last_message_at' - 'message_count' - 'updated_at') = (v_new - 'last_message_at' - 'message_count' - 'updated_at') then
    return null;
  end if;
  insert into public.audit_log (team_id, actor_id, action, table_name, record_id, old_values, new_values)
  values (
    private.audit_team_id(tg_table_name, v_row),
    auth.uid(),
    lower(tg_op),
    tg_table_name,
    coalesce(v_row ->> 'id', concat_ws(':', v_row ->> 'team_id', v_row ->> 'user_id')),
    v_old,
    v_new
  );
  return null;
end;
$$;
revoke all on function private.audit_team_id(text, jsonb) from public;
revoke all on function private.audit() from public;

create trigger teams_audit after insert or update or delete on public.teams
  for each row execute function private.audit();
create trigger team_members_audit after insert or update or delete on public.team_members
  for each row execute function private.audit();
create trigger projects_audit after insert or update or delete on public.projects
  for each row execute function private.audit();
create trigger sessions_audit after insert or update or delete on public.sessions
  for each row execute function private.audit();
create trigger agents_audit after insert or update or delete on public.agents
  for each row execute function private.audit();
create trigger api_keys_audit after insert or update or delete on public.api_keys
  for each row execute function private.audit();
-- Knowledge-base sources: additions and removals (re-indexing a changed file is not an audited event).
create trigger kb_sources_audit after insert or delete on public.kb_sources
  for each row execute function private.audit();

create or replace function public.list_audit_log(p_team_id uuid, p_limit integer default 100, p_before timestamptz default null)
returns setof public.audit_log
language plpgsql
stable
set search_path = ''
as $$
begin
  perform private.require_uid();
  if not private.has_team_role(p_team_id, 'admin') then
    raise exception using errcode = '42501', message = 'only team owners and admins can read the audit log';
  end if;
  if p_limit is null or p_limit not between 1 and 1000 then
    raise exception using errcode = '22023', message = 'limit must be between 1 and 1000';
  end if;
  return query
    select a.* from public.audit_log a
    where a.team_id = p_team_id and (p_before is null or a.created_at < p_before)
    order by a.created_at desc, a.id desc
    limit p_limit;
end;
$$;

revoke all on function public.record_usage(text, integer, integer, text, uuid, uuid) from public, anon;
revoke all on function public.create_api_key(text, text, text) from public, anon;
revoke all on function public.revoke_api_key(uuid) from public, anon;
revoke all on function public.list_audit_log(uuid, integer, timestamptz) from public, anon;
grant execute on function public.record_usage(text, integer, integer, text, uuid, uuid) to authenticated;
grant execute on function public.create_api_key(text, text, text) to authenticated;
grant execute on function public.revoke_api_key(uuid) to authenticated;
grant execute on function public.list_audit_log(uuid, integer, timestamptz) to authenticated;
