// docs/sql-api.md is the contract the daemon's engineers code against: every function it documents must
// exist in `public` with exactly the documented arguments, in order, and be set-returning when documented so.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freshDb, type TestDb } from '../support/db.js';

const doc = readFileSync(join(resolve(import.meta.dirname, '..', '..'), 'docs', 'sql-api.md'), 'utf8');

interface Documented {
  name: string;
  args: string[];
  returnsSet: boolean;
}

/** `- \`fn(p_a type, p_b type default x) returns setof t\`` lines of the doc. */
function documented(): Documented[] {
  const out: Documented[] = [];
  for (const m of doc.matchAll(/^- `([a-z_][a-z0-9_]*)\(([^)]*)\)\s*returns\s+([^`]+)`/gm)) {
    const args = m[2]!.trim() === '' ? [] : m[2]!.split(',').map((a) => a.trim().split(/\s+/)[0]!);
    out.push({ name: m[1]!, args, returnsSet: /^(setof|table)\b/.test(m[3]!.trim()) });
  }
  return out;
}

describe('docs/sql-api.md matches the migrated schema', function () {
  this.timeout(120_000);
  let t: TestDb;
  before(async () => {
    t = await freshDb();
  });
  after(() => t.close());

  it('documents functions', () => assert.ok(documented().length >= 30, `parsed ${documented().length} functions`));

  it('every documented function exists with the documented arguments and result kind', async () => {
    const rows = await t.admin<{ name: string; args: string[]; set: boolean }>(
      `select p.proname as name, p.proretset as set,
              coalesce((select array_agg(a.n order by a.i)
                          from unnest(coalesce(p.proargnames, '{}'::text[]), coalesce(p.proargmodes::text[], '{}'::text[]))
                               with ordinality as a(n, m, i)
                         where coalesce(a.m, 'i') in ('i', 'b', 'v')), '{}') as args
         from pg_proc p where p.pronamespace = 'public'::regnamespace`,
    );
    const problems: string[] = [];
    for (const d of documented()) {
      const candidates = rows.filter((r) => r.name === d.name);
      if (candidates.length === 0) {
        problems.push(`${d.name}: documented but missing`);
        continue;
      }
      const match = candidates.find((c) => JSON.stringify(c.args) === JSON.stringify(d.args));
      if (!match) problems.push(`${d.name}: documented (${d.args.join(', ')}), schema has (${candidates.map((c) => c.args.join(', ')).join(' | ')})`);
      else if (match.set !== d.returnsSet) problems.push(`${d.name}: documented as ${d.returnsSet ? '' : 'not '}set-returning`);
    }
    assert.deepEqual(problems, []);
  });
});
