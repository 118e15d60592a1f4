-- =====================================================================================================
-- Development data for `supabase db reset` (and the embedded store's tests): two users who can sign in
-- with email and password ("password123"), a team, its project, shared and private sessions with
-- messages, an agent, a task, and a knowledge-base file with chunks.
-- Everything after the users is written through the SQL API *as those users* (claims set exactly as
-- PostgREST sets them), so the seed obeys the same rules, triggers and audit as the app.
-- =====================================================================================================

create extension if not exists pgcrypto with schema extensions;
-- The migrations take EXECUTE on new functions away from PUBLIC; the seed hashes as its users (Supabase's own
-- pgcrypto already grants this).
grant execute on function extensions.digest(text, text) to authenticated;

-- -----------------------------------------------------------------------------------------------------
-- Users (the profile trigger creates their profiles)
-- -----------------------------------------------------------------------------------------------------
insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                        raw_app_meta_data, raw_user_meta_data, created_at, updated_at,
                        confirmation_token, recovery_token, email_change_token_new, email_change)
values
  ('00000000-0000-0000-0000-000000000000', 'a11ce000-0000-4000-8000-000000000001', 'authenticated', 'authenticated',
   'ada@example.com', extensions.crypt('password123', extensions.gen_salt('bf')), now(),
   '{"provider":"email","providers":["email"]}', '{"full_name":"Ada Lovelace"}', now(), now(), '', '', '', ''),
  ('00000000-0000-0000-0000-000000000000', 'b0b00000-0000-4000-8000-000000000002', 'authenticated', 'authenticated',
   'grace@example.com', extensions.crypt('password123', extensions.gen_salt('bf')), now(),
   '{"provider":"email","providers":["email"]}', '{"full_name":"Grace Hopper"}', now(), now(), '', '', '', '')
on conflict (id) do nothing;

-- GoTrue signs in through auth.identities on a real Supabase project; plain Postgres has no such table.
do $$
begin
  if to_regclass('auth.identities') is not null then
    execute $sql$
      insert into auth.identities (id, provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at)
      select gen_random_uuid(), u.id::text, u.id,
             jsonb_build_object('sub', u.id::text, 'email', u.email, 'email_verified', true),
             'email', now(), now(), now()
      from auth.users u
      where u.id in ('a11ce000-0000-4000-8000-000000000001', 'b0b00000-0000-4000-8000-000000000002')
      on conflict do nothing
    $sql$;
  end if;
end;
$$;

-- -----------------------------------------------------------------------------------------------------
-- Ada (with a second factor) builds the team and invites Grace, who accepts as member and writes in the shared session.
-- -----------------------------------------------------------------------------------------------------
do $$
declare
  v_ada constant uuid := 'a11ce000-0000-4000-8000-000000000001';
  v_grace constant uuid := 'b0b00000-0000-4000-8000-000000000002';
  v_team uuid;
  v_invitation uuid;
  v_project uuid;
  v_shared uuid;
  v_private uuid;
  v_agent uuid;
  v_reply uuid;
  v_embedding text;
begin
  if exists (select 1 from public.teams where name = 'Acme' and created_by = v_ada) then
    return;
  end if;

  -- Act as Ada, exactly as PostgREST would for her aal2 session.
  perform set_config('request.jwt.claims', jsonb_build_object(
    'sub', v_ada, 'role', 'authenticated', 'aud', 'authenticated', 'email', 'ada@example.com',
    'aal', 'aal2', 'session_id', gen_random_uuid())::text, true);
  set local role authenticated;

  select id into v_team from public.create_team('Acme');
  select id into v_invitation from public.invite_member(v_team, 'grace@example.com', 'member');

  -- Grace accepts the invitation herself (joining is always the invitee's own act).
  reset role;
  perform set_config('request.jwt.claims', jsonb_build_object(
    'sub', v_grace, 'role', 'authenticated', 'aud', 'authenticated', 'email', 'grace@example.com',
    'aal', 'aal1', 'session_id', gen_random_uuid())::text, true);
  set local role authenticated;
  perform public.accept_invitation(v_invitation);

  reset role;
  perform set_config('request.jwt.claims', jsonb_build_object(
    'sub', v_ada, 'role', 'authenticated', 'aud', 'authenticated', 'email', 'ada@example.com',
    'aal', 'aal2', 'session_id', gen_random_uuid())::text, true);
  set local role authenticated;
  select id into v_project from public.ensure_project('file:///home/ada/src/cairn', 'cairn', 'github.com/acme/cairn', v_team);
  select id into v_agent from public.create_agent('Reviewer', 'You review TypeScript changes. Be specific and brief.',
                                                  'Reviews diffs', null, 0.2, array['search_knowledge_base', 'read_file'], v_team);

  select id into v_shared from public.create_session(v_project, 'How does sign-in work?', v_agent, 'team');
  perform public.append_message(v_shared, 'user', 'How does sign-in work in the extension?');
  select id into v_reply from public.append_message(v_shared, 'assistant',
    'The extension opens the browser for OAuth with PKCE and receives the session on vscode://cairn-dev.cairn/auth-callback.',
    'complete', '{"model":"gpt-4o-mini"}');
  perform public.record_usage('gpt-4o-mini', 812, 64, 'chat', v_shared, v_reply);

  select id into v_private from public.create_session(v_project, 'Scratch');
  perform public.append_message(v_private, 'user', 'Draft release notes for 0.1.');

  perform public.create_task(v_project, 'Document the daemon protocol', 'Generate docs/protocol.md from the zod declarations.', v_shared);

  -- One workspace file indexed with the offline embedder's model (a unit vector stands in for its output).
  select '[' || string_agg(case when i = 1 then '1' else '0' end, ',') || ']' into v_embedding from generate_series(1, 384) as i;
  perform public.kb_upsert_sources(
    v_project,
    jsonb_build_array(jsonb_build_object('source', jsonb_build_object('kind', 'file', 'uri', 'extension/src/auth.ts', 'title', 'auth.ts', 'language', 'typescript',
                       'content_hash', encode(extensions.digest('auth.ts v1', 'sha256'), 'hex'),
                       'size_bytes', 1200, 'mtime_ms', 1763769600000,
                       'embedding_model', 'cairn-local-hash-v1-384', 'embedding_dims', 384),
    'chunks', jsonb_build_array(
      jsonb_build_object('ordinal', 0, 'start_line', 1, 'end_line', 20, 'token_count', 60,
                         'content', 'export async function signIn(): opens the browser for OAuth with PKCE and waits for the callback URI.',
                         'content_hash', encode(extensions.digest('chunk 0', 'sha256'), 'hex'), 'embedding', v_embedding),
      jsonb_build_object('ordinal', 1, 'start_line', 21, 'end_line', 40, 'token_count', 48,
                         'content', 'export async function signOut(): clears the session from SecretStorage.',
                         'content_hash', encode(extensions.digest('chunk 1', 'sha256'), 'hex'), 'embedding', v_embedding)))));

  -- Grace, a member, answers in the shared session.
  reset role;
  perform set_config('request.jwt.claims', jsonb_build_object(
    'sub', v_grace, 'role', 'authenticated', 'aud', 'authenticated', 'email', 'grace@example.com',
    'aal', 'aal1', 'session_id', gen_random_uuid())::text, true);
  set local role authenticated;
  perform public.append_message(v_shared, 'user', 'And where is the token kept?');

  reset role;
  perform set_config('request.jwt.claims', '', true);
end;
$$;
