// Least privilege below the policies: the API roles hold exactly what allowlist.txt names,
// and the privileges RLS cannot guard (TRUNCATE, sequences, TRIGGER, CREATE) are refused as raw SQL, as
// the Postgres-URL store or any other path to SQL would run it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freshDb, type TestDb, type TestUser } from '../../support/db.js';
import { apiPrivileges } from './catalog.js';

export function allowlist(): string[] {
  return readFileSync(join(import.meta.dirname, 'allowlist.txt'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .sort();
}

/** What the catalog holds beyond the allowlist, and what the allowlist names that no longer holds. */
export function compareWithAllowlist(actual: string[]): string[] {
  const allowed = new Set(allowlist());
  const held = new Set(actual);
  return [
    ...actual.filter((l) => !allowed.has(l)).map((l) => `not in allowlist.txt: ${l}`),
    ...[...allowed].filter((l) => !held.has(l)).map((l) => `in allowlist.txt but not held: ${l}`),
  ];
}

describe('Privileges of anon and authenticated', function () {
  this.timeout(120_000);
  let t: TestDb;
  let user: TestUser;
  let other: TestUser;
  let otherTeam: string;

  before(async () => {
    t = await freshDb();
    user = await t.createUser('attacker');
    other = await t.createUser('victim');
    otherTeam = (await t.rpc<{ id: string }>(other, 'create_team', { p_name: 'Victims' })).id;
    await t.rpc(other, 'create_session', { p_title: 'audited' });
  });
  after(() => t?.close());

  it('are exactly those allowlist.txt names (tables, columns, sequences, functions, schemas)', async () => {
    const actual = await t.sql.transaction((tx) => apiPrivileges(tx));
    assert.deepEqual(compareWithAllowlist(actual), []);
  });

  it('refuse `truncate public.teams cascade` to a signed-in user, and every tenant keeps its team', async () => {
    const got = await t.attempt(user, 'truncate public.teams cascade');
    assert.equal(got.error?.kind, 'permission_denied', `truncate was not refused: ${JSON.stringify(got)}`);
    assert.match(got.error.message, /permission denied for table teams/);
    assert.equal(await t.count('teams', 'id = $1', [otherTeam]), 1);
  });

  it('give clients no sequence to reset or draw from: the ids they see are random uuids that count no other tenant', async () => {
    for (const table of ['audit_log', 'api_usage', 'access_changes']) {
      const type = (await t.admin<{ type: string }>(`select format_type(atttypid, atttypmod) as type from pg_attribute where attrelid = 'public.${table}'::regclass and attname = 'id'`))[0]!.type;
      assert.equal(type, 'uuid', `public.${table}.id`);
    }
    // Any sequence public still has (none today) is refused to both API roles.
    const seqs = await t.admin<{ seq: string }>(`select c.oid::regclass::text as seq from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind = 'S' and n.nspname = 'public'`);
    for (const { seq } of seqs) {
      for (const sql of [`select setval('${seq}', 1)`, `select nextval('${seq}')`, `select last_value from ${seq}`]) {
        for (const actor of [user, 'anon'] as const) {
          const got = await t.attempt(actor, sql);
          assert.equal(got.error?.kind, 'permission_denied', `${sql} as ${actor === 'anon' ? 'anon' : 'a user'} was not refused`);
        }
      }
    }
    // Audited writes still work.
    await t.rpc(user, 'create_session', { p_title: 'still audited' });
  });

  it('refuse a trigger on a table, which would run the user\'s code inside other tenants\' writes', async () => {
    const got = await t.attempt(user, 'create trigger spy after insert on public.sessions for each statement execute function suppress_redundant_updates_trigger()');
    assert.equal(got.error?.kind, 'permission_denied', JSON.stringify(got));
  });

  it('refuse creating objects in public', async () => {
    const got = await t.attempt(user, 'create table public.mine (id int)');
    assert.equal(got.error?.kind, 'permission_denied', JSON.stringify(got));
  });
});
