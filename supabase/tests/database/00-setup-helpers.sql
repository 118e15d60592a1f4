-- Shared fixture for the pgTAP suites (run with `supabase test db`): loaded first by name order, it only
-- checks that pgTAP is present. Each suite creates its own users inside its transaction and rolls back.
begin;
create extension if not exists pgtap with schema extensions;
select plan(1);
select has_extension('pgtap', 'pgTAP is installed');
select * from finish();
rollback;
