// Runs the pgTAP suites of supabase/tests/database (what `supabase test db` runs on a real project) against
// a migrated PGlite with the pgtap extension, and fails on any `not ok` or a plan that was not met.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pgtap } from '@electric-sql/pglite-pgtap';
import { vector } from '@electric-sql/pglite-pgvector';
import { migratedTemplate } from '../support/db.js';

const dir = join(resolve(import.meta.dirname, '..', '..'), 'supabase', 'tests', 'database');
const suites = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();

/** TAP lines out of every result row of the script (pgTAP functions return them as text rows). */
function tapLines(results: Array<{ rows: Array<Record<string, unknown>> }>): string[] {
  const lines: string[] = [];
  for (const r of results) {
    for (const row of r.rows) {
      const values = Object.values(row);
      if (values.length !== 1 || typeof values[0] !== 'string') continue;
      for (const line of values[0].split('\n')) if (/^(ok|not ok|1\.\.\d+|#)/.test(line)) lines.push(line);
    }
  }
  return lines;
}

describe('pgTAP suites (supabase/tests/database)', function () {
  this.timeout(120_000);
  // One database for all suites: each runs in a transaction it rolls back, as `supabase test db` expects.
  let db: PGlite;
  before(async () => {
    db = await PGlite.create({ loadDataDir: await migratedTemplate(), extensions: { vector, pgtap } });
    // Supabase's postgres role has `extensions` on its search_path, where pgtap lives.
    await db.exec(`set search_path = "$user", public, extensions`);
  });
  after(() => db?.close());

  it('has suites to run', () => assert.ok(suites.length >= 4, suites.join(', ')));

  for (const file of suites) {
    it(file, async () => {
      const lines = tapLines(await db.exec(readFileSync(join(dir, file), 'utf8')));
      const plan = lines.find((l) => /^1\.\.\d+$/.test(l));
      assert.ok(plan, `no plan in the output of ${file}:\n${lines.join('\n')}`);
      const planned = Number(plan.slice(3));
      const failed = lines.filter((l) => l.startsWith('not ok'));
      assert.deepEqual(failed, [], lines.join('\n'));
      assert.equal(lines.filter((l) => l.startsWith('ok')).length, planned, lines.join('\n'));
      // The suite rolled back: its users are gone and the next suite starts clean.
      const users = await db.query<{ n: number }>(`select count(*)::int as n from auth.users`);
      assert.equal(users.rows[0]!.n, 0);
    });
  }
});
