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

-- Hybrid search, same signature and result as before (see 20261122000700_knowledge_base.sql); the vector
-- part reads kb_ann through HNSW (iterative scan, so filters still fill the pool) plus the pending queue
-- exactly; the full-text part ranks at most 2,000 candidates.
create or replace function public.kb_search(
  p_project_id uuid,
  p_query text,
  p_query_embedding text,
  p_embedding_model text,
  p_limit integer default 10,
  p_path_prefix text default null,
  p_path_glob text default null,
  p_language text default null,
  p_kind text default null
)
returns table (chunk_id uuid, source_id uuid, kind text, uri text, title text, language text, start_line integer,
               end_line integer, content text, snippet text, score double precision, fts_rank integer,
               vector_rank integer)
language plpgsql
stable
set search_path = ''
as $$
declare
  v_tsq tsquery := private.kb_tsquery(p_query);
  v_dims integer;
  v_pool integer;
  v_regex text := case when p_path_glob is null then null else private.glob_to_regex(p_path_glob) end;
  v_filtered boolean := p_path_prefix is not null or p_path_glob is not null or p_language is not null or p_kind is not null;
begin
  perform private.require_uid();
  if p_limit is null or p_limit not between 1 and 100 then
    raise exception using errcode = '22023', message = 'limit must be between 1 and 100';
  end if;
  if p_embedding_model is null then
    raise exception using errcode = '22023', message = 'embedding model is required';
  end if;
  if p_kind is not null and p_kind not in ('file', 'document', 'url', 'faq') then
    raise exception using errcode = '22023', message = 'kind must be file, document, url or faq';
  end if;
  v_pool := greatest(p_limit * 5, 50);
  if p_query_embedding is not null then
    v_dims := extensions.vector_dims(p_query_embedding::extensions.vector);
  end if;
  -- Recall: 40 candidates (the default) is too few for a pool of 50; relaxed iterative scans keep walking
  -- the graph until enough rows pass the project and filter conditions.
  perform set_config('hnsw.ef_search', greatest(v_pool * 2, 100)::text, true);
  perform set_config('hnsw.iterative_scan', 'relaxed_order', true);

  return query execute format($q$
    with src as materialized (
      select s.id, s.kind, s.uri, s.title, s.language
      from public.kb_sources s
      where s.project_id = $1 and s.embedding_model = $4
        and ($5::text is null or starts_with(s.uri, $5))
        and ($6::text is null or s.uri ~ $6)
        and ($7::text is null or s.language = $7)
        and ($8::text is null or s.kind = $8)
    ),
    fts as (
      select x.id, row_number() over (order by ts_rank_cd(x.fts, $2) desc, x.id) as r
      from (
        select c.id, c.fts
        from public.kb_chunks c
        where $2 is not null and c.project_id = $1 and c.embedding_model = $4 and c.fts @@ $2
          and (not $11 or c.source_id in (select id from src))
        limit 2000
      ) x
      order by ts_rank_cd(x.fts, $2) desc, x.id
      limit $9
    ),
    ann as (
      select a.chunk_id as id,
             a.embedding::extensions.vector(%1$s) operator(extensions.<=>) $3::extensions.vector(%1$s) as d
      from public.kb_ann a
      where %2$s and a.embedding_dims = %1$s and a.project_id = $1 and a.embedding_model = $4
        and (not $11 or a.source_id in (select id from src))
      order by a.embedding::extensions.vector(%1$s) operator(extensions.<=>) $3::extensions.vector(%1$s)
      limit $9
    ),
    pending as (
      select c.id, c.embedding::extensions.vector(%1$s) operator(extensions.<=>) $3::extensions.vector(%1$s) as d
      from public.kb_ann_pending p
      join public.kb_chunks c on c.id = p.chunk_id
      where %2$s and p.project_id = $1 and p.embedding_model = $4 and c.embedding_dims = %1$s
        and (not $11 or c.source_id in (select id from src))
      order by 2
      limit $9
    ),
    vec as (
      select u.id, row_number() over (order by u.d, u.id) as r
      from (select * from ann union all select * from pending) u
      order by u.d, u.id
      limit $9
    ),
    fused as (
      select coalesce(f.id, v.id) as id,
             coalesce(1.0 / (60 + f.r), 0) + coalesce(1.0 / (60 + v.r), 0) as score,
             f.r::integer as fts_rank, v.r::integer as vector_rank
      from fts f full join vec v on v.id = f.id
      order by 2 desc, 1
      limit $10
    )
    select c.id, c.source_id, s.kind, s.uri, s.title, s.language, c.start_line, c.end_line, c.content,
           case when $2 is not null and fu.fts_rank is not null
                then ts_headline('english'::regconfig, c.content, $2,
                                 'MaxFragments=1, MaxWords=40, MinWords=15, StartSel="", StopSel="", FragmentDelimiter=" … "')
                else left(c.content, 300) end,
           fu.score::double precision, fu.fts_rank, fu.vector_rank
    from fused fu
    join public.kb_chunks c on c.id = fu.id
    join src s on s.id = c.source_id
    order by fu.score desc, c.id
  $q$, coalesce(v_dims, 1), case when v_dims is null then 'false' else 'true' end)
  using p_project_id, v_tsq, p_query_embedding, p_embedding_model, p_path_prefix, v_regex, p_language, p_kind,
        v_pool, p_limit, v_filtered;
end;
$$;

revoke all on function public.kb_publish_vectors(uuid, integer) from public, anon;
revoke all on function public.kb_pending_vectors(uuid) from public, anon;
grant execute on function public.kb_publish_vectors(uuid, integer) to authenticated;
grant execute on function public.kb_pending_vectors(uuid) to authenticated;
