-- =====================================================================================================
-- Knowledge base: cheaper HNSW inserts for kb_ann. Publishing a vector costs one HNSW insert (~5 ms in
-- PGlite at m = 16, ef_construction = 64); m = 12 and ef_construction = 40 roughly halve it. Search
-- compensates with ef_search >= 100 (set by kb_search); bench/kb.bench.ts reports the recall@10 this gives
-- against an exact scan.
-- =====================================================================================================

drop index if exists public.kb_ann_embedding_384_idx;
drop index if exists public.kb_ann_embedding_768_idx;
drop index if exists public.kb_ann_embedding_1024_idx;
drop index if exists public.kb_ann_embedding_1536_idx;

create index kb_ann_embedding_384_idx on public.kb_ann
  using hnsw ((embedding::extensions.vector(384)) extensions.vector_cosine_ops) with (m = 12, ef_construction = 40)
  where embedding_dims = 384;
create index kb_ann_embedding_768_idx on public.kb_ann
  using hnsw ((embedding::extensions.vector(768)) extensions.vector_cosine_ops) with (m = 12, ef_construction = 40)
  where embedding_dims = 768;
create index kb_ann_embedding_1024_idx on public.kb_ann
  using hnsw ((embedding::extensions.vector(1024)) extensions.vector_cosine_ops) with (m = 12, ef_construction = 40)
  where embedding_dims = 1024;
create index kb_ann_embedding_1536_idx on public.kb_ann
  using hnsw ((embedding::extensions.vector(1536)) extensions.vector_cosine_ops) with (m = 12, ef_construction = 40)
  where embedding_dims = 1536;
