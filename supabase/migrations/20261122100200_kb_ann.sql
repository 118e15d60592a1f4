-- =====================================================================================================
-- Knowledge base: a write path and a search path sized for the measured cost of PGlite + pgvector.
--
-- Writing a chunk into an HNSW index costs ~3 ms in WASM (the lead's per-dimension indexes on kb_chunks
-- held a cold index to ~330 chunks/s; without them ~1,400/s). So chunks are written without any vector
-- index, and a trigger queues each new chunk in kb_ann_pending. The daemon then moves queued vectors into
-- kb_ann, which carries the HNSW indexes, in small batches in the background (kb_publish_vectors).
--
-- Search stays exact and complete meanwhile: its vector part is the HNSW neighbours from kb_ann plus an
-- exact scan of the (small) pending queue, merged by distance. A chunk is searchable the moment its
-- file's transaction commits. The full-text part ranks a bounded candidate set (the first 2,000 matches)
-- instead of every match, since ranking all matches of common terms costs 100+ ms at 100k chunks.
-- =====================================================================================================

-- -----------------------------------------------------------------------------------------------------
-- Tables
-- -----------------------------------------------------------------------------------------------------
drop index if exists public.kb_chunks_embedding_384_idx;
drop index if exists public.kb_chunks_embedding_768_idx;
drop index if exists public.kb_chunks_embedding_1024_idx;
drop index if exists public.kb_chunks_embedding_1536_idx;

create table public.kb_ann (
  chunk_id uuid primary key references public.kb_chunks (id) on delete cascade,
  -- Copied from the chunk so search filters without visiting kb_chunks.
  source_id uuid not null,
  project_id uuid not null references public.projects (id) on delete cascade,
  embedding_model text not null,
  embedding_dims integer not null,
  embedding extensions.vector not null
);
comment on table public.kb_ann is 'Chunk vectors published into the approximate-nearest-neighbour (HNSW) indexes.';
create index kb_ann_embedding_384_idx on public.kb_ann
  using hnsw ((embedding::extensions.vector(384)) extensions.vector_cosine_ops) where embedding_dims = 384;
create index kb_ann_embedding_768_idx on public.kb_ann
  using hnsw ((embedding::extensions.vector(768)) extensions.vector_cosine_ops) where embedding_dims = 768;
create index kb_ann_embedding_1024_idx on public.kb_ann
  using hnsw ((embedding::extensions.vector(1024)) extensions.vector_cosine_ops) where embedding_dims = 1024;
create index kb_ann_embedding_1536_idx on public.kb_ann
  using hnsw ((embedding::extensions.vector(1536)) extensions.vector_cosine_ops) where embedding_dims = 1536;

create table public.kb_ann_pending (
  chunk_id uuid primary key references public.kb_chunks (id) on delete cascade,
  project_id uuid not null references public.projects (id) on delete cascade,
  embedding_model text not null
);
comment on table public.kb_ann_pending is 'Chunks written but not yet in kb_ann; search scans them exactly.';
create index kb_ann_pending_project_idx on public.kb_ann_pending (project_id, embedding_model);

alter table public.kb_ann enable row level security;
alter table public.kb_ann_pending enable row level security;

create policy "Users can read published vectors of projects they can read" on public.kb_ann
  for select to authenticated
  using (project_id in (select private.readable_project_ids()));
-- Only the vector of a chunk of that same project, read under the caller's RLS: nobody can claim another
-- tenant's chunk (its primary key here) and so keep it out of that tenant's index, or publish a vector
-- other than the chunk's own.
create policy "Users can publish vectors of projects they can write to" on public.kb_ann
  for insert to authenticated
  with check (
    project_id in (select private.writable_project_ids())
    and exists (
      select 1 from public.kb_chunks c
      where c.id = kb_ann.chunk_id and c.source_id = kb_ann.source_id and c.project_id = kb_ann.project_id
        and c.embedding_model = kb_ann.embedding_model and c.embedding_dims = kb_ann.embedding_dims
        and c.embedding operator(extensions.=) kb_ann.embedding
    )
  );
create policy "Users can remove vectors of projects they can write to" on public.kb_ann
  for delete to authenticated
  using (project_id in (select private.writable_project_ids()));

create policy "Users can read the pending vectors of projects they can read" on public.kb_ann_pending
  for select to authenticated
  using (project_id in (select private.readable_project_ids()));
create policy "Users can dequeue pending vectors of projects they can write to" on public.kb_ann_pending
  for delete to authenticated
  using (project_id in (select private.writable_project_ids()));

revoke all on table public.kb_ann from anon, authenticated;
revoke all on table public.kb_ann_pending from anon, authenticated;
grant select, insert, delete on table public.kb_ann to authenticated;
grant select, delete on table public.kb_ann_pending to authenticated;

-- Queues every new chunk (one statement-level insert per upsert). Security definer: the chunk insert itself
-- already passed RLS; the queue row is bookkeeping of that insert.
create or replace function private.kb_queue_ann()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.kb_ann_pending (chunk_id, project_id, embedding_model)
  select n.id, n.project_id, n.embedding_model from new_rows n where n.embedding is not null;
  return null;
end;
$$;
revoke all on function private.kb_queue_ann() from public;

create trigger kb_chunks_queue_ann after insert on public.kb_chunks
  referencing new table as new_rows
  for each statement execute function private.kb_queue_ann();

-- Chunks written before this migration are queued once.
insert into public.kb_ann_pending (chunk_id, project_id, embedding_model)
select c.id, c.project_id, c.embedding_model from public.kb_chunks c where c.embedding is not null
on conflict do nothing;

-- -----------------------------------------------------------------------------------------------------
-- SQL API
-- -----------------------------------------------------------------------------------------------------
-- Moves up to p_limit queued vectors of a project into the HNSW indexes; returns how many moved (0 when
-- the queue is empty). Small batches keep each call short, so searches interleave with a long backlog.
create or replace function public.kb_publish_vectors(p_project_id uuid, p_limit integer default 200)
returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_count integer;
begin
  perform private.require_uid();
  if not private.can_write_project(p_project_id) then
    raise exception using errcode = '42501', message = 'you cannot write to the knowledge base of that project';
  end if;
  if p_limit is null or p_limit not between 1 and 10000 then
    raise exception using errcode = '22023', message = 'limit must be between 1 and 10000';
  end if;
  with picked as (
    select p.chunk_id from public.kb_ann_pending p where p.project_id = p_project_id limit p_limit
  ), moved as (
    insert into public.kb_ann (chunk_id, source_id, project_id, embedding_model, embedding_dims, embedding)
    select c.id, c.source_id, c.project_id, c.embedding_model, c.embedding_dims, c.embedding
    from public.kb_chunks c join picked on picked.chunk_id = c.id
    where c.embedding is not null
    on conflict (chunk_id) do nothing
  )
  delete from public.kb_ann_pending p using picked where p.chunk_id = picked.chunk_id;
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;

-- How many chunks of a project wait for kb_publish_vectors.
create or replace function public.kb_pending_vectors(p_project_id uuid)
returns bigint
language sql
stable
set search_path = ''
as $$
  select count(*) from public.kb_ann_pending p where p.project_id = p_project_id;
$$;

revoke all on function public.kb_publish_vectors(uuid, integer) from public, anon;
revoke all on function public.kb_pending_vectors(uuid) from public, anon;
grant execute on function public.kb_publish_vectors(uuid, integer) to authenticated;
grant execute on function public.kb_pending_vectors(uuid) to authenticated;
