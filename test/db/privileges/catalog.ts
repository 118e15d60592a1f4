// Every privilege the API roles hold, read from pg_catalog: one line per object and grantee, in the words of
// allowlist.txt. `PUBLIC` counts as a grantee of its own, since anon and authenticated hold what PUBLIC holds.
// Objects that belong to an extension (pgvector's types, functions and operators) are the extension's, not
// the schema's, and are left out; the schemas they live in are not.
import type { SqlTx } from '../../../daemon/src/store/sql.js';

/** The roles a client can act as through PostgREST (and any path to SQL that sets the role as it does). */
export const API_ROLES = ['anon', 'authenticated'] as const;

const CATALOG = `
with grantees(oid, name) as (
  select 0::oid, 'PUBLIC' union all select oid, rolname::text from pg_roles where rolname in ('anon', 'authenticated')
), schemas as (
  select oid, nspname from pg_namespace
   where nspname not in ('pg_catalog', 'information_schema', 'pg_toast') and nspname !~ '^pg_(temp|toast_temp)_'
), ext_members as (
  select classid, objid from pg_depend where deptype = 'e'
), acls(kind, name, acl) as (
  select 'schema', quote_ident(n.nspname), coalesce(n.nspacl, acldefault('n'::"char", n.nspowner))
    from pg_namespace n join schemas s on s.oid = n.oid
  union all
  select case c.relkind when 'S' then 'sequence' when 'v' then 'view' when 'm' then 'view' else 'table' end,
         format('%I.%I', s.nspname, c.relname),
         coalesce(c.relacl, acldefault((case c.relkind when 'S' then 's' else 'r' end)::"char", c.relowner))
    from pg_class c join schemas s on s.oid = c.relnamespace
   where c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
     and not exists (select 1 from ext_members e where e.classid = 'pg_class'::regclass and e.objid = c.oid)
  union all
  select 'column', format('%I.%I.%I', s.nspname, c.relname, a.attname), a.attacl
    from pg_attribute a join pg_class c on c.oid = a.attrelid join schemas s on s.oid = c.relnamespace
   where a.attacl is not null and a.attnum > 0 and not a.attisdropped
  union all
  select 'function', format('%I.%I(%s)', s.nspname, p.proname, pg_get_function_identity_arguments(p.oid)),
         coalesce(p.proacl, acldefault('f'::"char", p.proowner))
    from pg_proc p join schemas s on s.oid = p.pronamespace
   where not exists (select 1 from ext_members e where e.classid = 'pg_proc'::regclass and e.objid = p.oid)
)
select format('%s %s %s: %s', a.kind, a.name, g.name, string_agg(x.privilege_type, ', ' order by x.privilege_type)) as line
  from acls a cross join lateral aclexplode(a.acl) x join grantees g on g.oid = x.grantee
 group by a.kind, a.name, g.name
union all
select format('role %s member of %s', m.member::regrole, m.roleid::regrole)
  from pg_auth_members m where m.member in (select oid from grantees where oid <> 0)
order by 1`;

/** The API roles' privileges as sorted lines such as `table public.teams authenticated: DELETE, INSERT, SELECT, UPDATE`. */
export async function apiPrivileges(tx: SqlTx): Promise<string[]> {
  const { rows } = await tx.query<{ line: string }>(CATALOG);
  return rows.map((r) => r.line);
}
