-- =====================================================================================================
-- Personal API keys for scripts and CI, used through the Edge Function `cairn-api`
-- (supabase/functions/cairn-api, docs/api-keys.md). A key belongs to one user, reads only the projects it
-- names (or every project its owner can read, when it names none), may expire, and is revoked for good.
-- The function resolves a presented key through private.authenticate_api_key (service role only) and then
-- runs the SQL API as the key's owner (role authenticated, the owner's claims), so RLS decides exactly as
-- for the owner. Every use is counted in api_usage (kind 'api', the key in api_key_id).
-- The keys themselves (with their projects and expiry) and create_api_key are in
-- 20261122001000_usage_keys_audit.sql; this file adds what the function needs: revocation for good, the
-- use count in api_usage, list_api_keys and private.authenticate_api_key.
-- =====================================================================================================

-- -----------------------------------------------------------------------------------------------------
-- api_keys: what a key may read, and until when
-- -----------------------------------------------------------------------------------------------------
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
-- list_api_keys (create_api_key, with projects and expiry, is in 20261122001000_usage_keys_audit.sql)
-- -----------------------------------------------------------------------------------------------------
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

revoke all on function public.list_api_keys() from public, anon;
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
