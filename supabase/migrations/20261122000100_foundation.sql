-- =====================================================================================================
-- Foundation: extensions, the private schema for security-definer helpers, shared trigger functions.
-- Every later migration builds on these. On a Supabase project `auth`, the roles and `extensions` exist;
-- in the embedded store the daemon's bootstrap (daemon/src/store/bootstrap.sql) provides them first.
-- =====================================================================================================

create extension if not exists vector with schema extensions;

-- Helpers that RLS policies call. Not exposed through PostgREST (only `public` is), each `security definer`
-- with an empty search_path, so they can read membership without recursing into the policies that use them.
create schema if not exists private;
grant usage on schema private to authenticated, service_role;

-- -----------------------------------------------------------------------------------------------------
-- Least privilege below the policies. Supabase's default privileges give anon and authenticated every
-- privilege on whatever `postgres` creates in `public` (TRUNCATE, TRIGGER, REFERENCES and MAINTAIN on
-- tables, USAGE and UPDATE on sequences, EXECUTE on functions), and Postgres gives EXECUTE on every new
-- function to PUBLIC. Through raw SQL (a Postgres URL, or any other path to SQL) those would let a user
-- truncate every tenant's rows or reset a sequence. So nothing is granted by default: each table grants
-- what its policies need right under it, each API function grants EXECUTE to authenticated, and
-- test/db/privileges/allowlist.txt names every privilege the API roles hold.
-- -----------------------------------------------------------------------------------------------------
alter default privileges in schema public revoke all on tables from anon, authenticated;
alter default privileges in schema public revoke all on sequences from anon, authenticated;
alter default privileges in schema public revoke all on functions from anon, authenticated;
alter default privileges revoke execute on functions from public;
revoke create on schema public from public, anon, authenticated;

-- -----------------------------------------------------------------------------------------------------
-- updated_at, kept by trigger on every table that has it
-- -----------------------------------------------------------------------------------------------------
create or replace function private.set_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end;
$$;

-- -----------------------------------------------------------------------------------------------------
-- The acting user, or a readable error when there is none (anon, or a missing JWT).
-- -----------------------------------------------------------------------------------------------------
create or replace function private.require_uid()
returns uuid
language plpgsql
stable
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
begin
  if v_uid is null then
    raise exception using errcode = '28000', message = 'not signed in';
  end if;
  return v_uid;
end;
$$;

-- True when the session's JWT says the user passed a second factor (TOTP MFA).
create or replace function private.is_aal2()
returns boolean
language sql
stable
set search_path = ''
as $$
  select coalesce(auth.jwt() ->> 'aal', 'aal1') = 'aal2';
$$;

revoke all on function private.set_updated_at() from public;
revoke all on function private.require_uid() from public;
revoke all on function private.is_aal2() from public;
grant execute on function private.require_uid() to authenticated, service_role;
grant execute on function private.is_aal2() to authenticated, service_role;
