-- =====================================================================================================
-- Knowledge base search: kb_search, and the per-project term statistics it ranks with.
--
-- Lexical leg: BM25 over every chunk that holds a query word (nothing is cut before it is ranked). Words are
-- identifier-aware (private.kb_lexemes: camelCase and snake_case parts plus the whole identifier, english stems
-- plus each word's exact form where it differs, and the words english drops that code uses: until, while); a word's
-- weight is its inverse document frequency in the project and model, from kb_terms, which statement-level
-- triggers on kb_chunks keep exact in the indexer's own transactions. Term frequency counts a word in the
-- chunk's symbols (the definitions it holds, weight A) SYMBOL_WEIGHT times; chunk length is token_count
-- against the project's average (kb_stats). In two stages: every chunk holding a query word is ranked by
-- BM25 with each word counted once, read word by word from the GIN index without reading any chunk's
-- tsvector, plus the path's words (file name words count double); the best max(4 x limit, 200) are then
-- ranked by full BM25 (term frequencies, symbols) plus the path and a verbatim phrase of four or more words.
-- In stage 2 a query word counts once, by the best of its forms in the chunk (its english stem or its exact
-- form: `values` matches `values` or, failing that, `valu`), not once per form.
-- A query that is exactly one identifier puts the chunks defining it first.
-- p_embedding_model must be the project's active model (public.kb_active_model), else CR006: the caller
-- caches it, and learns of a switch (another machine's indexer) from this answer.
-- Vector leg: nearest vectors of the same model, counted only above p_min_similarity (the daemon passes the
-- floor of its embedder), with a small weight; a vector alone never brings a chunk in when the query has
-- words and none of them occurs in the project, so a word found nowhere returns no results.
-- Parameters were tuned on `npm run eval` (docs/eval.md).
-- Plans: the query is written for a database with statistics. PGlite has no autovacuum, so the embedded
-- store runs ANALYZE, and merges the GIN index's pending list, where autovacuum would
-- (daemon/src/store/embedded.ts); with statistics the GIN index finds the chunks holding a query word, through
-- private.kb_word_hits (under RLS `@@` could not use it: see there).
-- ef_search is at least 400: the recall@10 bench/kb.bench.ts measures at 100k chunks needs it.
-- =====================================================================================================

-- Document frequency of each word per project and model: how many chunks hold it.
create table public.kb_terms (
  project_id uuid not null references public.projects (id) on delete cascade,
  embedding_model text not null,
  term text not null,
  df integer not null,
  primary key (project_id, embedding_model, term)
);
comment on table public.kb_terms is 'Per project and embedding model: how many chunks hold each full-text word (BM25 document frequency).';

-- Chunk count and total tokens per project and model (BM25's N and average length).
create table public.kb_stats (
  project_id uuid not null references public.projects (id) on delete cascade,
  embedding_model text not null,
  chunks bigint not null default 0,
  tokens bigint not null default 0,
  primary key (project_id, embedding_model)
);
comment on table public.kb_stats is 'Per project and embedding model: chunk count and total tokens (BM25 collection statistics).';

alter table public.kb_terms enable row level security;
alter table public.kb_stats enable row level security;
create policy "Users can read the term statistics of projects they can read" on public.kb_terms
  for select to authenticated
  using (project_id in (select private.readable_project_ids()));
create policy "Users can read the collection statistics of projects they can read" on public.kb_stats
  for select to authenticated
  using (project_id in (select private.readable_project_ids()));
-- Written only by the triggers below.
revoke all on table public.kb_terms from anon, authenticated;
revoke all on table public.kb_stats from anon, authenticated;
grant select on table public.kb_terms to authenticated;
grant select on table public.kb_stats to authenticated;

-- Counts the words of inserted chunks in, and of deleted chunks out (an update does both, unless no row's
-- words, length, project or model changed: the indexer moving kept chunks' lines counts nothing). One
-- statement per chunk batch, words in key order so concurrent indexers of a project lock rows in the same order.
-- Security definer: the chunk writes themselves already passed RLS; the counts are bookkeeping of them.
create or replace function private.kb_count_terms()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- (nested: a condition naming old_rows cannot be planned in an insert's call)
  if tg_op = 'UPDATE' then
    if not exists (
      select 1 from old_rows o full join new_rows n on n.id = o.id
      where o.id is null or n.id is null or n.fts is distinct from o.fts or n.token_count is distinct from o.token_count
         or n.project_id is distinct from o.project_id or n.embedding_model is distinct from o.embedding_model
    ) then
      return null;
    end if;
  end if;
  if tg_op in ('DELETE', 'UPDATE') then
    update public.kb_terms t set df = t.df - o.df
    from (select o.project_id, o.embedding_model, u.lexeme as term, count(*)::integer as df
          from old_rows o cross join lateral unnest(o.fts) u
          group by 1, 2, 3 order by 1, 2, 3) o
    where t.project_id = o.project_id and t.embedding_model = o.embedding_model and t.term = o.term;
    update public.kb_stats st set chunks = st.chunks - o.chunks, tokens = st.tokens - o.tokens
    from (select o.project_id, o.embedding_model, count(*) as chunks, sum(o.token_count) as tokens
          from old_rows o group by 1, 2) o
    where st.project_id = o.project_id and st.embedding_model = o.embedding_model;
  end if;
  if tg_op in ('INSERT', 'UPDATE') then
    insert into public.kb_terms as t (project_id, embedding_model, term, df)
    select n.project_id, n.embedding_model, u.lexeme, count(*)::integer
    from new_rows n cross join lateral unnest(n.fts) u
    group by 1, 2, 3 order by 1, 2, 3
    on conflict (project_id, embedding_model, term) do update set df = t.df + excluded.df;
    insert into public.kb_stats as st (project_id, embedding_model, chunks, tokens)
    select n.project_id, n.embedding_model, count(*), sum(n.token_count)
    from new_rows n group by 1, 2 order by 1, 2
    on conflict (project_id, embedding_model) do update
      set chunks = st.chunks + excluded.chunks, tokens = st.tokens + excluded.tokens;
  end if;
  return null;
end;
$$;
revoke all on function private.kb_count_terms() from public;

create trigger kb_chunks_count_terms_insert after insert on public.kb_chunks
  referencing new table as new_rows
  for each statement execute function private.kb_count_terms();
create trigger kb_chunks_count_terms_delete after delete on public.kb_chunks
  referencing old table as old_rows
  for each statement execute function private.kb_count_terms();
create trigger kb_chunks_count_terms_update after update on public.kb_chunks
  referencing old table as old_rows new table as new_rows
  for each statement execute function private.kb_count_terms();

-- A path glob as an anchored regular expression: `**` any depth, `*` and `?` within one segment; a glob
-- without a slash matches the file name in any folder (as .gitignore does).
create or replace function private.glob_to_regex(p_glob text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  v text := regexp_replace(p_glob, '([.+^${}()|\[\]\\])', '\\\1', 'g');
begin
  v := replace(v, '**/', chr(1));
  v := replace(v, '**', chr(2));
  v := replace(v, '*', '[^/]*');
  v := replace(v, '?', '[^/]');
  v := replace(v, chr(1), '(.*/)?');
  v := replace(v, chr(2), '.*');
  if position('/' in p_glob) = 0 then
    v := '(.*/)?' || v;
  end if;
  return '^' || ltrim(v, '/') || '$';
end;
$$;

revoke all on function private.glob_to_regex(text) from public;
grant execute on function private.glob_to_regex(text) to authenticated, service_role;

-- Hybrid search. Filters apply to both legs. `score` orders the results; fts_rank and vector_rank are each
-- leg's own rank of the chunk (null when that leg did not find it).
-- Stage 1's candidates: the chunks of a project holding each query word, with the word's idf, read word by
-- word from the GIN index (a single word needs no recheck, so no chunk's tsvector is read). Security definer
-- for the index's sake: under the caller's RLS the planner may not use an index for `@@` (ts_match_vq is not
-- leakproof, so it must run after the policy's check, on every row), and kb_search read every chunk's
-- tsvector once per word (over a second at 12,000 chunks). So it checks what the kb_chunks read policy
-- checks, that the project is one the caller can read, and then reads as its owner, only chunks of that
-- project. Each word is written into its statement, so the planner estimates it from the column's statistics.
create or replace function private.kb_word_hits(
  p_project_id uuid,
  p_embedding_model text,
  p_terms tsquery[],
  p_idf double precision[]
)
returns table (chunk_id uuid, source_id uuid, token_count integer, symbols text[], idf double precision)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_sql text;
begin
  -- coalesce: a null id, or a null among the ids, must refuse rather than let the test pass as unknown.
  if not coalesce(p_project_id = any (array(select private.readable_project_ids())), false) then
    return;
  end if;
  select string_agg(format(
           'select c.id, c.source_id, c.token_count, c.symbols, %L::double precision from public.kb_chunks c '
           'where c.project_id = $1 and c.embedding_model = $2 and c.fts @@ %L::tsquery', t.idf, t.tsq::text),
         ' union all ')
    into v_sql
  from unnest(p_terms, p_idf) t(tsq, idf)
  where t.tsq is not null and t.idf is not null;
  if v_sql is null then
    return;
  end if;
  return query execute v_sql using p_project_id, p_embedding_model;
end;
$$;
revoke all on function private.kb_word_hits(uuid, text, tsquery[], double precision[]) from public;
grant execute on function private.kb_word_hits(uuid, text, tsquery[], double precision[]) to authenticated, service_role;

create or replace function public.kb_search(
  p_project_id uuid,
  p_query text,
  p_query_embedding text,
  p_embedding_model text,
  p_limit integer default 10,
  p_path_prefix text default null,
  p_path_glob text default null,
  p_language text default null,
  p_kind text default null,
  p_min_similarity double precision default 0.5
)
returns table (chunk_id uuid, source_id uuid, kind text, uri text, title text, language text, start_line integer,
               end_line integer, content text, symbols text[], scope text, score double precision,
               fts_rank integer, vector_rank integer)
language plpgsql
stable
set search_path = ''
as $$
declare
  -- BM25 parameters and the weights of the other signals (tuned on the eval).
  -- k1 2.5, not the textbook 1.2: a chunk that keeps using a word (a docs section, a JSDoc block about it) is
  -- more about it than one that names it once beside another word (eval: fastify-chat MRR +0.046;
  -- at 3 the exact word a question uses no longer outranks a stem repeated in code).
  k1 constant double precision := 2.5;
  b constant double precision := 0.75;
  symbol_weight constant double precision := 4;
  path_weight constant double precision := 0.3;
  phrase_weight constant double precision := 0.5;
  vector_weight constant double precision := 0.3;
  v_words tsvector := private.kb_lexemes(p_query);
  v_terms tsquery[];
  v_idf double precision[];
  v_group integer[];
  v_any tsquery;
  v_phrase tsquery;
  v_ident text := substring(p_query from '^\s*([[:alpha:]_$][[:alnum:]_$]*(?:\.[[:alpha:]_$][[:alnum:]_$]*)*)\s*$');
  v_n double precision;
  v_avg double precision;
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
  -- The caller embedded the query with the model it believes active: when that is no longer the project's,
  -- say so (CR006) rather than rank against a generation search has left; it re-reads kb_active_model.
  if coalesce(public.kb_active_model(p_project_id), p_embedding_model) <> p_embedding_model then
    raise exception using errcode = 'CR006', message = 'that embedding model is not the project''s active one';
  end if;
  if p_kind is not null and p_kind not in ('file', 'document', 'url', 'faq') then
    raise exception using errcode = '22023', message = 'kind must be file, document, url or faq';
  end if;
  if p_min_similarity is null or p_min_similarity not between -1 and 1 then
    raise exception using errcode = '22023', message = 'min similarity must be between -1 and 1';
  end if;
  v_pool := greatest(p_limit * 5, 50);
  if p_query_embedding is not null then
    v_dims := extensions.vector_dims(p_query_embedding::extensions.vector);
  end if;

  select st.chunks, st.tokens::double precision / greatest(st.chunks, 1) into v_n, v_avg
  from public.kb_stats st where st.project_id = p_project_id and st.embedding_model = p_embedding_model;
  v_n := coalesce(v_n, 0);
  v_avg := greatest(coalesce(v_avg, 1), 1);
  -- The query's words that occur in the project, each with its idf; v_any (null when none occurs) tells a
  -- query whose words are all unknown to the project.
  -- v_group numbers the forms of one word alike (its english stem and its exact form: `values` and `valu`),
  -- so that a word counts once in stage 2, by the form that scores best in the chunk.
  with q as (
    select w.lexeme, ln(1 + (v_n - k.df + 0.5) / (k.df + 0.5)) as idf,
           case when w.lexeme = any (e.stems) then w.lexeme
                else coalesce((select s[1] from (select tsvector_to_array(to_tsvector('english'::regconfig, w.lexeme)) as s) x
                               where cardinality(x.s) = 1), w.lexeme) end as word
    from unnest(v_words) w
    cross join (select tsvector_to_array(to_tsvector('english'::regconfig, private.kb_words(p_query))) as stems) e
    join public.kb_terms k on k.project_id = p_project_id and k.embedding_model = p_embedding_model
                          and k.term = w.lexeme and k.df > 0
  )
  select array_agg(quote_literal(q.lexeme)::tsquery order by q.lexeme),
         array_agg(q.idf order by q.lexeme),
         array_agg(g.n order by q.lexeme),
         string_agg(quote_literal(q.lexeme), ' | ')::tsquery
    into v_terms, v_idf, v_group, v_any
  from q join (select d.word, row_number() over (order by d.word)::integer as n from (select distinct q.word from q) d) g
         on g.word = q.word;
  if length(v_words) > 0 and v_any is null then
    return;  -- words, none of them in the project: nothing matches
  end if;
  if array_length(regexp_split_to_array(trim(p_query), '\s+'), 1) >= 4 then
    v_phrase := phraseto_tsquery('english'::regconfig, private.kb_words(p_query));
  end if;

  -- Recall: 40 candidates (the default) is too few for a pool of 50; relaxed iterative scans keep walking
  -- the graph until enough rows pass the project and filter conditions.
  -- pgvector's ceiling is 1000; p_limit 100 gives a pool of 500.
  perform set_config('hnsw.ef_search', least(greatest(v_pool * 4, 400), 1000)::text, true);
  perform set_config('hnsw.iterative_scan', 'relaxed_order', true);

  return query execute format($q$
    -- The filters, as a condition on a source ($10: whether any is set); sources are read by key where needed,
    -- never all of the project's at once.
    with filt as (
      select s.id from public.kb_sources s
      where $10 and s.project_id = $1 and s.embedding_model = $3
        and ($4::text is null or starts_with(s.uri, $4))
        and ($5::text is null or s.uri ~ $5)
        and ($6::text is null or s.language = $6)
        and ($7::text is null or s.kind = $7)
    ),
    -- Stage 1, over every chunk that holds a query word: BM25 with each word counted once, read from the GIN
    -- index word by word (a single word needs no recheck, so no chunk's tsvector is read), plus the path.
    hits as (
      select h.chunk_id as id, h.source_id, h.token_count, h.symbols, sum(h.idf) as idf_sum
      from private.kb_word_hits($1, $3, $11, $12) h
      where not $10 or h.source_id in (select id from filt)
      group by h.chunk_id, h.source_id, h.token_count, h.symbols
    ),
    paths as (
      select s.id, sum(q.idf * (case when s.path_fts @@ (q.tsq::text || ':A')::tsquery then 2 else 1 end)) as path_idf
      from public.kb_sources s cross join unnest($11, $12) q(tsq, idf)
      where s.id in (select h.source_id from hits h) and s.path_fts @@ q.tsq
      group by s.id
    ),
    stage1 as (
      select h.id, h.token_count, coalesce(p.path_idf, 0) as path_idf,
             ($15 is not null and ($15 = any (h.symbols) or exists (
                select 1 from unnest(h.symbols) y where y like ('%%.' || $15) or lower(y) = lower($15)))) as exact,
             h.idf_sum * (%3$s + 1) / (1 + %3$s * (1 - %4$s + %4$s * h.token_count / $13)) + %6$s * coalesce(p.path_idf, 0) as s1
      from hits h left join paths p on p.id = h.source_id
      order by 4 desc, 5 desc, 1
      limit $17
    ),
    -- Stage 2, the best of stage 1: words counted as often as they occur (in symbols SYMBOL_WEIGHT times),
    -- each query word once (the best of its forms), and a verbatim phrase.
    lex as (
      select cd.id, cd.exact,
             coalesce((select sum(w.best)
                       from (select max(t.idf * (%3$s + 1) * t.tf / (t.tf + %3$s * (1 - %4$s + %4$s * cd.token_count / $13))) as best
                             from (select q.idf, q.grp, ts_rank_cd(array[1.0 / %5$s, 0, 1.0 / %5$s, 1]::real[], c.fts, q.tsq, 0) * %5$s as tf
                                   from unnest($11, $12, $18) q(tsq, idf, grp)) t
                             where t.tf > 0
                             group by t.grp) w), 0)
             + %6$s * cd.path_idf
             + case when $14 is not null and c.fts @@ $14 then %7$s * (select sum(i) from unnest($12) i) else 0 end
             as score
      from stage1 cd join public.kb_chunks c on c.id = cd.id
    ),
    lexr as (
      select l.id, l.score, l.exact, row_number() over (order by l.exact desc, l.score desc, l.id) as r
      from lex l
    ),
    ann as (
      select a.chunk_id as id,
             a.embedding::extensions.vector(%1$s) operator(extensions.<=>) $2::extensions.vector(%1$s) as d
      from public.kb_ann a
      where %2$s and a.embedding_dims = %1$s and a.project_id = $1 and a.embedding_model = $3
        and (not $10 or a.source_id in (select id from filt))
      order by a.embedding::extensions.vector(%1$s) operator(extensions.<=>) $2::extensions.vector(%1$s)
      limit $8
    ),
    pending as (
      select c.id, c.embedding::extensions.vector(%1$s) operator(extensions.<=>) $2::extensions.vector(%1$s) as d
      from public.kb_ann_pending p
      join public.kb_chunks c on c.id = p.chunk_id
      where %2$s and p.project_id = $1 and p.embedding_model = $3 and c.embedding_dims = %1$s
        and (not $10 or c.source_id in (select id from filt))
      order by 2
      limit $8
    ),
    vec as (
      select u.id, 1 - u.d as sim, row_number() over (order by u.d, u.id) as r
      from (select * from ann union all select * from pending) u
      -- d <= 1 - floor, not 1 - d >= floor: a vector of zeros (a chunk without words) is at NaN distance,
      -- and NaN passes >= (PostgreSQL orders it above every number) but not <=.
      where u.d <= 1 - $16
      order by u.d, u.id
      limit $8
    ),
    fused as (
      select coalesce(l.id, v.id) as id,
             coalesce(l.exact, false) as exact,
             coalesce(l.score / nullif(max(l.score) over (), 0), 0)
               + %8$s * coalesce((v.sim - $16) / nullif(1 - $16, 0), 0) as score,
             l.r::integer as fts_rank, v.r::integer as vector_rank
      from lexr l full join vec v on v.id = l.id
    ),
    top as (
      select * from fused order by exact desc, score desc, id limit $9
    )
    select c.id, c.source_id, s.kind, s.uri, s.title, s.language, c.start_line, c.end_line, c.content,
           c.symbols, c.scope,
           (t.score + case when t.exact then 1 else 0 end)::double precision, t.fts_rank, t.vector_rank
    from top t
    join public.kb_chunks c on c.id = t.id
    join public.kb_sources s on s.id = c.source_id
    order by t.exact desc, t.score desc, c.id
  $q$, coalesce(v_dims, 1), case when v_dims is null then 'false' else 'true' end,
       k1, b, symbol_weight, path_weight, phrase_weight, vector_weight)
  using p_project_id, p_query_embedding, p_embedding_model, p_path_prefix, v_regex, p_language, p_kind,
        v_pool, p_limit, v_filtered, v_terms, v_idf, v_avg, v_phrase, v_ident, p_min_similarity, greatest(p_limit * 4, 200),
        v_group;
end;
$$;

revoke all on function public.kb_search(uuid, text, text, text, integer, text, text, text, text, double precision) from public, anon;
grant execute on function public.kb_search(uuid, text, text, text, integer, text, text, text, text, double precision) to authenticated;
