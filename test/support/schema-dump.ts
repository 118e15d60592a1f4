/**
 * A canonical text dump of what the migrations define, from the catalog (PGlite has no pg_dump): schemas,
 * tables and their columns, constraints, indexes, triggers, policies, functions with their bodies and
 * settings, grants (sorted ACL entries, table- and column-level), default privileges, comments and the
 * Realtime publication. One line per fact, sorted, so two migration sets that build the same schema dump
 * the same text whatever their file layout or the order of their statements. Objects an extension owns and
 * the system schemas are left out; `auth`, `extensions` and `private` are in, as migrations write there too.
 */
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import type { PGlite } from '@electric-sql/pglite';
import { createPGlite, pgliteDb } from '../../daemon/src/store/embedded.js';
import { applyMigrations, bootstrapIfNeeded } from '../../daemon/src/store/migrate.js';

/** Schemas whose objects are not the migrations' (system, the migration history, the bootstrap's own). */
const SKIP = `('pg_catalog', 'information_schema', 'pg_toast', 'supabase_migrations')`;

/** Objects created by an extension (pgvector's functions, operators, types). */
const NOT_EXTENSION = (catalog: string, oid: string) =>
  `not exists (select 1 from pg_depend d where d.classid = '${catalog}'::regclass and d.objid = ${oid} and d.deptype = 'e')`;

/** An ACL as sorted `grantee=privileges` entries (the order of aclitems depends on the order of grants). */
const ACL = (acl: string) =>
  `(select coalesce(string_agg(a, ' ' order by a), '-') from (
     select coalesce(nullif(x.grantee::regrole::text, '-'), 'PUBLIC') || '=' || string_agg(x.privilege_type || case when x.is_grantable then '*' else '' end, ',' order by x.privilege_type) as a
     from aclexplode(${acl}) x group by x.grantee) g)`;

const QUERIES: Record<string, string> = {
  schema: `select n.nspname::text || ' owner=' || n.nspowner::regrole::text || ' acl=' || ${ACL('n.nspacl')}
           from pg_namespace n where n.nspname not in ${SKIP} and n.nspname not like 'pg_%'`,
  extension: `select e.extname::text || ' schema=' || e.extnamespace::regnamespace::text from pg_extension e`,
  relation: `select c.oid::regclass::text || ' kind=' || c.relkind::text || ' rls=' || c.relrowsecurity::text || ' force=' || c.relforcerowsecurity::text
                    || ' options=' || coalesce(array_to_string(c.reloptions, ','), '-') || ' acl=' || ${ACL('c.relacl')}
             from pg_class c join pg_namespace n on n.oid = c.relnamespace
             where n.nspname not in ${SKIP} and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f', 'c') and ${NOT_EXTENSION('pg_class', 'c.oid')}
               and not (c.relkind = 'c' and exists (select 1 from pg_type t where t.typrelid = c.oid and t.typtype <> 'c'))`,
  column: `select c.oid::regclass::text || '.' || a.attname::text || ' #' || row_number() over (partition by c.oid order by a.attnum)
                  || ' ' || format_type(a.atttypid, a.atttypmod) || case when a.attnotnull then ' not null' else '' end
                  || coalesce(' ' || case a.attgenerated when 's' then 'generated ' else 'default ' end || pg_get_expr(ad.adbin, ad.adrelid), '')
                  || case when a.attidentity <> '' then ' identity ' || a.attidentity::text else '' end
                  || case when a.attacl is not null then ' acl=' || ${ACL('a.attacl')} else '' end
           from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
           left join pg_attrdef ad on ad.adrelid = a.attrelid and ad.adnum = a.attnum
           where n.nspname not in ${SKIP} and c.relkind in ('r', 'p', 'v', 'm', 'f', 'c') and a.attnum > 0 and not a.attisdropped
             and ${NOT_EXTENSION('pg_class', 'c.oid')}`,
  constraint: `select coalesce(co.conrelid::regclass::text, co.contypid::regtype::text) || ' ' || co.conname::text || ': ' || pg_get_constraintdef(co.oid)
               from pg_constraint co join pg_namespace n on n.oid = co.connamespace
               where n.nspname not in ${SKIP} and ${NOT_EXTENSION('pg_constraint', 'co.oid')}`,
  index: `select pg_get_indexdef(i.indexrelid) from pg_index i join pg_class c on c.oid = i.indexrelid
          join pg_namespace n on n.oid = c.relnamespace where n.nspname not in ${SKIP} and ${NOT_EXTENSION('pg_class', 'i.indrelid')}`,
  trigger: `select pg_get_triggerdef(t.oid) || case when t.tgenabled <> 'O' then ' enabled=' || t.tgenabled::text else '' end
            from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
            where not t.tgisinternal and n.nspname not in ${SKIP}`,
  policy: `select p.polrelid::regclass::text || ' "' || p.polname::text || '" ' || p.polcmd::text || case when p.polpermissive then '' else ' restrictive' end
                  || ' to ' || (select string_agg(case r when 0 then 'public' else r::regrole::text end, ',' order by 1) from unnest(p.polroles) r)
                  || coalesce(' using (' || pg_get_expr(p.polqual, p.polrelid) || ')', '')
                  || coalesce(' with check (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')', '')
           from pg_policy p`,
  function: `select pg_get_functiondef(p.oid) || E'\\n  acl=' || ${ACL('p.proacl')} || ' owner=' || p.proowner::regrole::text
             from pg_proc p join pg_namespace n on n.oid = p.pronamespace
             where n.nspname not in ${SKIP} and p.prokind in ('f', 'p', 'w') and ${NOT_EXTENSION('pg_proc', 'p.oid')}`,
  aggregate: `select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
              where n.nspname not in ${SKIP} and p.prokind = 'a' and ${NOT_EXTENSION('pg_proc', 'p.oid')}`,
  type: `select t.oid::regtype::text || ' ' || t.typtype::text || coalesce(' (' || (select string_agg(e.enumlabel, ',' order by e.enumsortorder) from pg_enum e where e.enumtypid = t.oid) || ')', '')
         from pg_type t join pg_namespace n on n.oid = t.typnamespace
         where n.nspname not in ${SKIP} and t.typtype in ('e', 'd', 'r') and ${NOT_EXTENSION('pg_type', 't.oid')}`,
  default_acl: `select coalesce(d.defaclnamespace::regnamespace::text, '*') || ' ' || d.defaclrole::regrole::text || ' ' || d.defaclobjtype::text || ' acl=' || ${ACL('d.defaclacl')}
                from pg_default_acl d`,
  comment: `select d.classoid::regclass::text || ' ' || pg_describe_object(d.classoid, d.objoid, d.objsubid) || ': ' || d.description
            from pg_description d
            where ((d.classoid = 'pg_class'::regclass and exists (select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace
                     where c.oid = d.objoid and n.nspname not in ${SKIP}))
                or (d.classoid = 'pg_proc'::regclass and exists (select 1 from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                     where p.oid = d.objoid and n.nspname not in ${SKIP})))
              and not exists (select 1 from pg_depend x where x.objid = d.objoid and x.deptype = 'e')`,
  publication: `select p.pubname::text || ' ' || coalesce((select string_agg(r.prrelid::regclass::text, ',' order by 1) from pg_publication_rel r where r.prpubid = p.oid), '-')
                from pg_publication p`,
  event_trigger: `select e.evtname::text || ' ' || e.evtevent::text || ' ' || e.evtfoid::regproc::text from pg_event_trigger e`,
};

/**
 * The canonical dump of the database `db` holds: one `kind: fact` entry per fact, sorted; a fact of several
 * lines (a function's definition) continues on lines that start with `  | `.
 */
export async function dumpSchema(db: PGlite): Promise<string> {
  const facts: string[] = [];
  for (const [kind, sql] of Object.entries(QUERIES)) {
    const { rows } = await db.query<Record<string, string>>(sql, [], { rowMode: 'object' });
    for (const row of rows) facts.push(`${kind}: ${String(Object.values(row)[0]).trimEnd().replace(/\n/g, '\n  | ')}`);
  }
  return facts.sort().join('\n') + '\n';
}

/** A fresh PGlite, bootstrapped and migrated with the files of `dir`, dumped and closed. */
export async function dumpMigrations(dir: string): Promise<string> {
  const db = await createPGlite();
  try {
    const sql = pgliteDb(db);
    await bootstrapIfNeeded(sql);
    await applyMigrations(sql, dir);
    return await dumpSchema(db);
  } finally {
    await db.close();
  }
}

/** The migration files of `ref` (a git commit or branch) written to a new temp dir, for dumpMigrations. */
export function migrationsAt(ref: string, repo: string, path = 'supabase/migrations'): string {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-migrations-'));
  const files = execFileSync('git', ['-C', repo, 'ls-tree', '--name-only', `${ref}:${path}`], { encoding: 'utf8' })
    .split('\n')
    .filter((f) => f.endsWith('.sql'));
  for (const f of files) {
    writeFileSync(join(dir, f), execFileSync('git', ['-C', repo, 'show', `${ref}:${path}/${f}`], { encoding: 'utf8' }));
  }
  if (!existsSync(dir) || readdirSync(dir).length === 0) throw new Error(`no migrations at ${ref}:${path}`);
  return dir;
}
