-- =====================================================================================================
-- The team model gateway (Edge Function `model-gateway`): per-team settings (allowed models, monthly token
-- budgets for the team and for each member, a request rate per member), admission and usage accounting done
-- by the function as service_role, and the usage report team admins read. The provider key is a function
-- secret and never in the database.
--
-- Usage that counts is written only by the gateway: api_usage gains `source`, which no client can write
-- (it is outside the column-level INSERT grant), so a member's own rows (record_usage, direct inserts) are
-- 'client' rows that neither budgets nor the team's usage report count.
-- =====================================================================================================

alter table public.api_usage
  add column source text not null default 'client' check (source in ('client', 'gateway'));
comment on column public.api_usage.source is
  'gateway: written by the model gateway from the provider''s usage report (counts for budgets and reports); client: reported by a member''s own daemon (counts for nothing).';
create index api_usage_gateway_team_idx on public.api_usage (team_id, created_at desc) where source = 'gateway';
create index api_usage_gateway_user_idx on public.api_usage (user_id, team_id, created_at desc) where source = 'gateway';

create table public.model_gateways (
  team_id uuid primary key references public.teams (id) on delete cascade,
  enabled boolean not null default true,
  -- Models members may ask for (chat and embeddings); an empty list allows none.
  allowed_models text[] not null default '{}'
    check (cardinality(allowed_models) <= 100 and array_position(allowed_models, null) is null),
  -- The models members' daemons use by default (each one of allowed_models, or null: chat uses the member's
  -- own choice if allowed, embeddings stay as the member configured them).
  chat_model text check (chat_model is null or chat_model = any (allowed_models)),
  embedding_model text check (embedding_model is null or embedding_model = any (allowed_models)),
  -- Tokens (prompt + completion) per calendar month (UTC); null is no limit.
  team_monthly_tokens bigint check (team_monthly_tokens is null or team_monthly_tokens >= 0),
  member_monthly_tokens bigint check (member_monthly_tokens is null or member_monthly_tokens >= 0),
  -- Requests per member in any 60 seconds; null is no limit.
  member_requests_per_minute integer check (member_requests_per_minute is null or member_requests_per_minute >= 1),
  updated_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.model_gateways is
  'Per-team settings of the model gateway Edge Function; members read them, owners and admins set them at aal2 (set_model_gateway).';

create trigger model_gateways_set_updated_at before update on public.model_gateways
  for each row execute function private.set_updated_at();

alter table public.model_gateways enable row level security;
create policy "Team members can read their team's model gateway" on public.model_gateways
  for select to authenticated
  using (team_id in (select private.team_ids_with_role('viewer')));

revoke all on table public.model_gateways from anon, authenticated;
grant select on table public.model_gateways to authenticated;

-- The team's gateway settings as the caller may read them (members: RLS), or no row.
create or replace function public.get_model_gateway(p_team_id uuid)
returns setof public.model_gateways
language sql
stable
set search_path = ''
as $$
  select g.* from public.model_gateways g where g.team_id = p_team_id;
$$;

-- Sets the team's gateway (owners and admins, second factor). Security definer: the only write path, so the
-- row's attribution and timestamps stay the server's.
create or replace function public.set_model_gateway(
  p_team_id uuid,
  p_allowed_models text[],
  p_team_monthly_tokens bigint default null,
  p_member_monthly_tokens bigint default null,
  p_member_requests_per_minute integer default null,
  p_enabled boolean default true,
  p_chat_model text default null,
  p_embedding_model text default null
)
returns public.model_gateways
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_row public.model_gateways;
begin
  perform private.require_uid();
  if not private.has_team_role(p_team_id, 'admin') then
    raise exception using errcode = '42501', message = 'only team owners and admins can configure the model gateway';
  end if;
  if not private.is_aal2() then
    raise exception using errcode = 'CR002', message = 'configuring the model gateway requires a second factor (aal2)';
  end if;
  if p_allowed_models is null or exists (
    select 1 from unnest(p_allowed_models) m where m is null or char_length(m) not between 1 and 200
  ) then
    raise exception using errcode = '22023', message = 'allowed models must be model names of 1 to 200 characters';
  end if;
  if (p_chat_model is not null and not (p_chat_model = any (p_allowed_models)))
     or (p_embedding_model is not null and not (p_embedding_model = any (p_allowed_models))) then
    raise exception using errcode = '22023', message = 'the default chat and embedding models must be allowed models';
  end if;
  insert into public.model_gateways as g (team_id, enabled, allowed_models, chat_model, embedding_model,
                                          team_monthly_tokens, member_monthly_tokens, member_requests_per_minute,
                                          updated_by)
  values (p_team_id, coalesce(p_enabled, true), p_allowed_models, p_chat_model, p_embedding_model,
          p_team_monthly_tokens, p_member_monthly_tokens, p_member_requests_per_minute, auth.uid())
  on conflict (team_id) do update
    set enabled = excluded.enabled, allowed_models = excluded.allowed_models,
        chat_model = excluded.chat_model, embedding_model = excluded.embedding_model,
        team_monthly_tokens = excluded.team_monthly_tokens, member_monthly_tokens = excluded.member_monthly_tokens,
        member_requests_per_minute = excluded.member_requests_per_minute, updated_by = excluded.updated_by
  returning * into v_row;
  return v_row;
end;
$$;

-- The team's usage through the gateway since p_since (default: the start of this month, UTC), by member and
-- model; owners and admins only. Client-reported rows are not in it.
create or replace function public.model_gateway_usage(p_team_id uuid, p_since timestamptz default null)
returns table (
  user_id uuid,
  email text,
  display_name text,
  model text,
  kind text,
  requests bigint,
  prompt_tokens bigint,
  completion_tokens bigint
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform private.require_uid();
  if not private.has_team_role(p_team_id, 'admin') then
    raise exception using errcode = '42501', message = 'only team owners and admins can read the team''s usage';
  end if;
  return query
    select u.user_id, p.email, p.display_name, u.model, u.kind, count(*)::bigint,
           coalesce(sum(u.prompt_tokens), 0)::bigint, coalesce(sum(u.completion_tokens), 0)::bigint
    from public.api_usage u
    left join public.profiles p on p.id = u.user_id
    where u.team_id = p_team_id and u.source = 'gateway'
      and u.created_at >= coalesce(p_since, date_trunc('month', now() at time zone 'utc') at time zone 'utc')
    group by u.user_id, p.email, p.display_name, u.model, u.kind
    order by p.email nulls last, u.model, u.kind;
end;
$$;

-- -----------------------------------------------------------------------------------------------------
-- The gateway's own calls (service_role only; clients cannot execute them).
-- -----------------------------------------------------------------------------------------------------

-- Admits one request of p_user_id to p_team_id's gateway for p_model, or says why not. On admission the
-- request is counted at once (a gateway row with no tokens yet, settled by model_gateway_settle), so the
-- rate limit holds for concurrent requests: they queue on a per-member advisory lock.
-- decision: 'ok' | 'not_member' | 'not_configured' | 'model_not_allowed' | 'member_rate' | 'member_budget'
-- | 'team_budget'; retry_after_seconds for the last three.
create or replace function public.model_gateway_admit(p_user_id uuid, p_team_id uuid, p_model text, p_kind text)
returns table (decision text, usage_id uuid, retry_after_seconds integer, allowed_models text[])
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_gw public.model_gateways;
  v_month timestamptz := date_trunc('month', now() at time zone 'utc') at time zone 'utc';
  v_next_month timestamptz := (date_trunc('month', now() at time zone 'utc') + interval '1 month') at time zone 'utc';
  v_used bigint;
  v_count integer;
  v_oldest timestamptz;
  v_id uuid;
begin
  if not exists (select 1 from public.team_members tm where tm.team_id = p_team_id and tm.user_id = p_user_id) then
    return query select 'not_member'::text, null::uuid, null::integer, null::text[];
    return;
  end if;
  select * into v_gw from public.model_gateways g where g.team_id = p_team_id;
  if not found or not v_gw.enabled then
    return query select 'not_configured'::text, null::uuid, null::integer, null::text[];
    return;
  end if;
  if not (p_model = any (v_gw.allowed_models)) then
    return query select 'model_not_allowed'::text, null::uuid, null::integer, v_gw.allowed_models;
    return;
  end if;
  perform pg_advisory_xact_lock(hashtextextended(p_team_id::text || ':' || p_user_id::text, 0));
  if v_gw.member_requests_per_minute is not null then
    select count(*), min(u.created_at) into v_count, v_oldest
    from (select u2.created_at from public.api_usage u2
          where u2.user_id = p_user_id and u2.team_id = p_team_id and u2.source = 'gateway'
            and u2.created_at > now() - interval '60 seconds'
          order by u2.created_at desc limit v_gw.member_requests_per_minute) u;
    if v_count >= v_gw.member_requests_per_minute then
      return query select 'member_rate'::text, null::uuid,
        greatest(1, ceil(extract(epoch from (v_oldest + interval '60 seconds' - now()))))::integer, null::text[];
      return;
    end if;
  end if;
  if v_gw.member_monthly_tokens is not null then
    select coalesce(sum(u.prompt_tokens + u.completion_tokens), 0) into v_used from public.api_usage u
    where u.user_id = p_user_id and u.team_id = p_team_id and u.source = 'gateway' and u.created_at >= v_month;
    if v_used >= v_gw.member_monthly_tokens then
      return query select 'member_budget'::text, null::uuid,
        greatest(1, ceil(extract(epoch from (v_next_month - now()))))::integer, null::text[];
      return;
    end if;
  end if;
  if v_gw.team_monthly_tokens is not null then
    select coalesce(sum(u.prompt_tokens + u.completion_tokens), 0) into v_used from public.api_usage u
    where u.team_id = p_team_id and u.source = 'gateway' and u.created_at >= v_month;
    if v_used >= v_gw.team_monthly_tokens then
      return query select 'team_budget'::text, null::uuid,
        greatest(1, ceil(extract(epoch from (v_next_month - now()))))::integer, null::text[];
      return;
    end if;
  end if;
  insert into public.api_usage (user_id, team_id, model, kind, source)
  values (p_user_id, p_team_id, p_model, p_kind, 'gateway')
  returning id into v_id;
  return query select 'ok'::text, v_id, null::integer, null::text[];
end;
$$;

-- Writes the provider's usage report onto the admitted request's row.
create or replace function public.model_gateway_settle(p_usage_id uuid, p_prompt_tokens integer, p_completion_tokens integer)
returns void
language sql
security definer
set search_path = ''
as $$
  update public.api_usage
  set prompt_tokens = greatest(0, coalesce(p_prompt_tokens, 0)),
      completion_tokens = greatest(0, coalesce(p_completion_tokens, 0))
  where id = p_usage_id and source = 'gateway';
$$;

revoke all on function public.set_model_gateway(uuid, text[], bigint, bigint, integer, boolean, text, text) from public, anon;
revoke all on function public.model_gateway_usage(uuid, timestamptz) from public, anon;
revoke all on function public.get_model_gateway(uuid) from public, anon;
grant execute on function public.get_model_gateway(uuid) to authenticated;
grant execute on function public.set_model_gateway(uuid, text[], bigint, bigint, integer, boolean, text, text) to authenticated;
grant execute on function public.model_gateway_usage(uuid, timestamptz) to authenticated;
revoke all on function public.model_gateway_admit(uuid, uuid, text, text) from public, anon, authenticated;
revoke all on function public.model_gateway_settle(uuid, integer, integer) from public, anon, authenticated;
grant execute on function public.model_gateway_admit(uuid, uuid, text, text) to service_role;
grant execute on function public.model_gateway_settle(uuid, integer, integer) to service_role;
