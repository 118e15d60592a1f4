-- =====================================================================================================
-- Personal API keys for scripts and CI, used through the Edge Function `cairn-api`
-- (supabase/functions/cairn-api, docs/api-keys.md). A key belongs to one user, reads only the projects it
-- names (or every project its owner can read, when it names none), may expire, and is revoked for good.
-- The function resolves a presented key through private.authenticate_api_key (service role only) and then
-- runs the SQL API as the key's owner (role authenticated, the owner's claims), so RLS decides exactly as
-- for the owner. Every use is counted in api_usage (kind 'api', the key in api_key_id).
-- Extends api_keys, api_usage, create_api_key and the api_keys audit trigger of
-- 20261122000800_usage_keys_audit.sql.
-- =====================================================================================================

-- -----------------------------------------------------------------------------------------------------
-- api_keys: what a key may read, and until when
-- -----------------------------------------------------------------------------------------------------
alter table public.api_keys
  -- The projects the key may read; null: every project its owner can read, now and later. Set at creation.
  add column project_ids uuid[] check (project_ids is null or cardinality(project_ids) between 1 and 100),
  -- After this instant the key is refused; null: it does not expire. Set at creation.
  add column expires_at timestamptz,
  add constraint api_keys_expires_after_creation check (expires_at is null or expires_at > created_at);
comment on column public.api_keys.project_ids is 'Projects the key may read; null = every project its owner can read.';
comment on column public.api_keys.expires_at is 'The key is refused from this instant on; null = no expiry.';
comment on column public.api_keys.last_used_at is 'Last request the key authenticated (cairn-api).';

-- A revoked key stays revoked: the owner's UPDATE grant on revoked_at can set it, never clear or move it
-- (a leaked key that was revoked must not come back), and the server's clock says when it happened.
create or replace function private.keep_api_key_revoked()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if old.revoked_at is not null then
    if new.revoked_at is distinct from old.revoked_at then
      raise exception using errcode = '22023', message = 'a revoked API key cannot be restored';
    end if;
  elsif new.revoked_at is not null then
    new.revoked_at := now();
  end if;
  return new;
end;
$$;
revoke all on function private.keep_api_key_revoked() from public;

create trigger api_keys_keep_revoked before update of revoked_at on public.api_keys
  for each row execute function private.keep_api_key_revoked();

-- Recording a use (last_used_at) is not an audited change: only creation, renaming, revocation, deletion.
drop trigger api_keys_audit on public.api_keys;
create trigger api_keys_audit after insert or delete or update of name, revoked_at on public.api_keys
  for each row execute function private.audit();

-- -----------------------------------------------------------------------------------------------------
-- api_usage: one row per request a key authenticates
-- -----------------------------------------------------------------------------------------------------
alter table public.api_usage
  -- The API key that made the request (kind 'api'); null for model calls. Written by the server only.
  add column api_key_id uuid references public.api_keys (id) on delete set null;
comment on column public.api_usage.api_key_id is 'The API key of a cairn-api request (kind api); model then names the endpoint.';
create index api_usage_api_key_id_idx on public.api_usage (api_key_id) where api_key_id is not null;

-- Written by the server, like the gateway's rows (20261207000100_model_gateway.sql): source 'api'. They carry
-- no tokens, so budgets, which count source 'gateway', never see them.
alter table public.api_usage drop constraint api_usage_source_check;
alter table public.api_usage add constraint api_usage_source_check check (source in ('client', 'gateway', 'api'));

alter table public.api_usage drop constraint api_usage_kind_check;
alter table public.api_usage add constraint api_usage_kind_check
  check (kind in ('chat', 'embedding', 'summary', 'title', 'api'));
alter table public.api_usage add constraint api_usage_key_only_on_api_rows check (api_key_id is null or (kind = 'api' and source = 'api'));

-- Clients record model calls only; 'api' rows come from private.authenticate_api_key, so nobody can add
-- uses to a key's count or forge API traffic in a report.
create policy "Clients cannot record API requests" on public.api_usage
  as restrictive for insert to authenticated
  with check (kind <> 'api');

-- -----------------------------------------------------------------------------------------------------
-- create_api_key: name, projects, expiry (replaces create_api_key(p_name) of 20261122000800)
-- -----------------------------------------------------------------------------------------------------
drop function public.create_api_key(text);

-- A new key for the caller: 'cairn_' and 64 hex digits from two random uuids (244 random bits), hashed with
-- SHA-256 for storage. The key is in the result once and nowhere else. Security definer, as clients cannot
-- write api_keys.key_hash; the owner is always the caller, and every project named must be one they read.
create or replace function public.create_api_key(
  p_name text,
  p_project_ids uuid[] default null,
  p_expires_at timestamptz default null,
  out id uuid,
  out name text,
  out prefix text,
  out key text,
  out project_ids uuid[],
  out expires_at timestamptz,
  out created_at timestamptz
)
language plpgsql
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  v_uid uuid := private.require_uid();
  v_key text := 'cairn_' || replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '');
  v_projects uuid[];
  v_row public.api_keys;
begin
  if p_name is null or char_length(btrim(p_name)) not between 1 and 100 then
    raise exception using errcode = '22023', message = 'key name must be 1 to 100 characters';
  end if;
  if p_project_ids is not null then
    v_projects := array(select distinct u from unnest(p_project_ids) as u where u is not null order by u);
    if cardinality(v_projects) not between 1 and 100 then
      raise exception using errcode = '22023',
        message = 'name 1 to 100 projects the key may read, or none for every project you can read';
    end if;
    if exists (select 1 from unnest(v_projects) as u where u not in (select private.readable_project_ids())) then
      raise exception using errcode = 'P0002', message = 'project not found';
    end if;
  end if;
  if p_expires_at is not null and p_expires_at <= now() then
    raise exception using errcode = '22023', message = 'the expiry must be in the future';
  end if;
  insert into public.api_keys (owner_id, name, prefix, key_hash, project_ids, expires_at)
  values (v_uid, btrim(p_name), left(v_key, 10), encode(sha256(convert_to(v_key, 'UTF8')), 'hex'), v_projects, p_expires_at)
  returning * into v_row;
  id := v_row.id;
  name := v_row.name;
  prefix := v_row.prefix;
  key := v_key;
  project_ids := v_row.project_ids;
  expires_at := v_row.expires_at;
  created_at := v_row.created_at;
end;
$$;

-- The caller's keys, newest first, with how often each was used (never the key or its hash).
create or replace function public.list_api_keys()
returns table (
  id uuid,
  name text,
  prefix text,
  project_ids uuid[],
  expires_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz,
  use_count bigint
)
language sql
stable
set search_path = ''
as $$
  select k.id, k.name, k.prefix, k.project_ids, k.expires_at, k.last_used_at, k.revoked_at, k.created_at,
         (select count(*) from public.api_usage u where u.api_key_id = k.id and u.user_id = k.owner_id)
  from public.api_keys k
  where k.owner_id = (select auth.uid())
  order by k.created_at desc, k.id;
$$;

revoke all on function public.create_api_key(text, uuid[], timestamptz) from public, anon;
revoke all on function public.list_api_keys() from public, anon;
grant execute on function public.create_api_key(text, uuid[], timestamptz) to authenticated;
grant execute on function public.list_api_keys() to authenticated;

-- -----------------------------------------------------------------------------------------------------
-- Resolving a presented key (the Edge Function, as service_role; never a client)
-- -----------------------------------------------------------------------------------------------------
-- The owner and scope of a live key, and the use counted: nothing for an unknown, malformed, revoked or
-- expired key, or an owner who is banned or deleted, all alike. The caller then acts as that user.
-- Security definer: it reads every user's key hashes and writes api_usage rows for the key's owner.
create or replace function private.authenticate_api_key(p_key text, p_endpoint text)
returns table (key_id uuid, user_id uuid, email text, project_ids uuid[])
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_key public.api_keys;
  v_email text;
begin
  if p_key is null or p_key !~ '^cairn_[0-9a-f]{64}$' then
    return;
  end if;
  if p_endpoint is null or char_length(p_endpoint) not between 1 and 200 then
    raise exception using errcode = '22023', message = 'endpoint must be 1 to 200 characters';
  end if;
  -- The row lock orders this use after a revocation that committed first, and a revocation after it.
  select k.* into v_key from public.api_keys k
  where k.key_hash = encode(sha256(convert_to(p_key, 'UTF8')), 'hex')
    and k.revoked_at is null
    and (k.expires_at is null or k.expires_at > now())
  for update;
  if not found then
    return;
  end if;
  select u.email into v_email from auth.users u
  where u.id = v_key.owner_id and u.deleted_at is null and (u.banned_until is null or u.banned_until <= now());
  if not found then
    return;
  end if;
  update public.api_keys k set last_used_at = now() where k.id = v_key.id;
  insert into public.api_usage (user_id, api_key_id, model, kind, source) values (v_key.owner_id, v_key.id, p_endpoint, 'api', 'api');
  return query select v_key.id, v_key.owner_id, v_email, v_key.project_ids;
end;
$$;
revoke all on function private.authenticate_api_key(text, text) from public, anon, authenticated;
grant execute on function private.authenticate_api_key(text, text) to service_role;
