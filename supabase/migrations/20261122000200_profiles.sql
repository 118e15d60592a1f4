-- =====================================================================================================
-- Profiles: one row per auth user, created by a trigger when the user signs up.
-- =====================================================================================================

create table public.profiles (
  -- Same id as auth.users; the profile goes when the user is deleted.
  id uuid primary key references auth.users (id) on delete cascade,
  -- Copied from auth.users (the address Auth holds for the user), for showing teammates; kept in step by the
  -- triggers below and never written by a client, so nobody appears under an address that is not theirs.
  email text,
  display_name text check (display_name is null or char_length(display_name) between 1 and 100),
  avatar_url text check (avatar_url is null or char_length(avatar_url) <= 2048),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.profiles is 'Public face of an auth user: name and avatar shown to teammates.';

create trigger profiles_set_updated_at before update on public.profiles
  for each row execute function private.set_updated_at();

alter table public.profiles enable row level security;

create policy "Users can read their own profile" on public.profiles
  for select to authenticated
  using (id = (select auth.uid()));

create policy "Users can update their own profile" on public.profiles
  for update to authenticated
  using (id = (select auth.uid()))
  with check (id = (select auth.uid()));

-- A user edits their name and avatar; id, email and timestamps are the server's.
revoke all on table public.profiles from anon, authenticated;
grant select on table public.profiles to authenticated;
grant update (display_name, avatar_url) on table public.profiles to authenticated;

-- -----------------------------------------------------------------------------------------------------
-- Create the profile when an auth user is created (sign-up, or the embedded store's local user).
-- -----------------------------------------------------------------------------------------------------
create or replace function private.handle_new_user()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.profiles (id, email, display_name)
  values (
    new.id,
    new.email,
    coalesce(new.raw_user_meta_data ->> 'full_name', new.raw_user_meta_data ->> 'name', split_part(new.email, '@', 1))
  )
  on conflict (id) do nothing;
  return new;
end;
$$;
revoke all on function private.handle_new_user() from public;

create trigger on_auth_user_created after insert on auth.users
  for each row execute function private.handle_new_user();

-- The email teammates see follows Auth's when the user changes it there.
create or replace function private.handle_user_email_change()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.profiles set email = new.email where id = new.id;
  return new;
end;
$$;
revoke all on function private.handle_user_email_change() from public;

create trigger on_auth_user_email_changed after update of email on auth.users
  for each row when (new.email is distinct from old.email)
  execute function private.handle_user_email_change();

create or replace function public.current_profile()
returns public.profiles
language plpgsql
stable
set search_path = ''
as $$
declare
  v_row public.profiles;
begin
  select * into v_row from public.profiles where id = private.require_uid();
  if not found then
    raise exception using errcode = 'P0002', message = 'profile not found';
  end if;
  return v_row;
end;
$$;
revoke all on function public.current_profile() from public, anon;
grant execute on function public.current_profile() to authenticated;
