-- =====================================================================================================
-- Team documents in Supabase Storage.
--
-- A private bucket `kb-documents` holds the files a team adds to a project's knowledge base (Markdown,
-- text, HTML, PDF), at `<team_id>/<project_id>/<file>`. Access follows the team, exactly like the project's
-- knowledge-base rows: members of the team (any role) read; members with role member, admin or owner
-- write and delete; viewers read only; everyone else, and anon, nothing. The daemon uploads through the
-- signed-in user's supabase-js client, so these policies decide, never a service-role key.
--
-- Supabase provides the `storage` schema (storage-api's migrations); plain Postgres and the embedded PGlite
-- have none, so the bucket and its policies are created only where it exists. Documents in those stores
-- stay local, as before.
-- =====================================================================================================

-- True when the acting user may touch an object whose folders (storage.foldername(name)) are
-- `{<team_id>, <project_id>}`: the project belongs to that team and the user's role there is at least
-- p_min_role. Anything else (another depth, a project of another team, a personal project, ids that are
-- not uuids) is false. Takes the folders rather than the name so that it needs no `storage` schema.
create or replace function private.kb_document_allowed(p_folders text[], p_min_role text)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select case
    when coalesce(array_length(p_folders, 1), 0) = 2
     and p_folders[1] ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
     and p_folders[2] ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
    then exists (
      select 1 from public.projects p
      where p.id = p_folders[2]::uuid
        and p.team_id = p_folders[1]::uuid
        and private.has_team_role(p.team_id, p_min_role)
    )
    else false
  end;
$$;

revoke all on function private.kb_document_allowed(text[], text) from public;
grant execute on function private.kb_document_allowed(text[], text) to authenticated, service_role;

do $storage$
begin
  if not exists (select from pg_namespace where nspname = 'storage') then
    return;
  end if;

  -- Private: no public URL; every read goes through the policies below. 10 MiB per file and the four
  -- types the daemon sends (it checks the content too, before uploading).
  insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
  values ('kb-documents', 'kb-documents', false, 10485760,
          array['text/markdown', 'text/plain', 'text/html', 'application/pdf'])
  on conflict (id) do update
    set public = false,
        file_size_limit = excluded.file_size_limit,
        allowed_mime_types = excluded.allowed_mime_types;

  drop policy if exists "Team members can read their team's knowledge-base documents" on storage.objects;
  execute $p$
    create policy "Team members can read their team's knowledge-base documents" on storage.objects
      for select to authenticated
      using (bucket_id = 'kb-documents' and private.kb_document_allowed(storage.foldername(name), 'viewer'))
  $p$;

  drop policy if exists "Team members and above can add knowledge-base documents" on storage.objects;
  execute $p$
    create policy "Team members and above can add knowledge-base documents" on storage.objects
      for insert to authenticated
      with check (bucket_id = 'kb-documents' and private.kb_document_allowed(storage.foldername(name), 'member'))
  $p$;

  drop policy if exists "Team members and above can replace knowledge-base documents" on storage.objects;
  execute $p$
    create policy "Team members and above can replace knowledge-base documents" on storage.objects
      for update to authenticated
      using (bucket_id = 'kb-documents' and private.kb_document_allowed(storage.foldername(name), 'member'))
      with check (bucket_id = 'kb-documents' and private.kb_document_allowed(storage.foldername(name), 'member'))
  $p$;

  drop policy if exists "Team members and above can delete knowledge-base documents" on storage.objects;
  execute $p$
    create policy "Team members and above can delete knowledge-base documents" on storage.objects
      for delete to authenticated
      using (bucket_id = 'kb-documents' and private.kb_document_allowed(storage.foldername(name), 'member'))
  $p$;
end
$storage$;
