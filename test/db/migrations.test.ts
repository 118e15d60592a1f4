// The migrations as files: each function, index, policy and trigger is defined in one migration until a
// release freezes it; a released migration never changes (supabase/released-migrations.json); the schema
// dump that proves a reorganisation changed nothing sees every change and no file layout.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { findMigrationsDir, listMigrations } from '../../daemon/src/store/migrate.js';
import { freshDb } from '../support/db.js';
import { dumpMigrations, dumpSchema } from '../support/schema-dump.js';

const root = resolve(import.meta.dirname, '..', '..');

/** The SQL of a migration without comments and dollar-quoted bodies (what remains are its top-level statements). */
function statementsText(sql: string): string {
  return sql
    .replace(/\$([A-Za-z_]*)\$[\s\S]*?\$\1\$/g, ' ')
    .replace(/--[^\n]*/g, ' ')
    .replace(/\s+/g, ' ')
    .toLowerCase();
}

/** The objects a migration creates or drops, as `kind name` keys (a function by name: overloads count as one). */
function objectsOf(sql: string): Set<string> {
  const text = statementsText(sql);
  const out = new Set<string>();
  const patterns: [string, RegExp][] = [
    ['function', /\b(?:create(?: or replace)?|drop) function(?: if exists)? ([a-z_][\w.]*)\s*\(/g],
    ['index', /\b(?:create(?: unique)? index(?: concurrently)?(?: if not exists)?|drop index(?: if exists)?) ([a-z_][\w.]*)/g],
    ['policy', /\b(?:create|drop) policy(?: if exists)? ("[^"]+") on ([a-z_][\w.]*)/g],
    ['trigger', /\b(?:create(?: or replace)?|drop) trigger(?: if exists)? ([a-z_]\w*)[^;]*? on ([a-z_][\w.]*)/g],
    ['table', /\b(?:create|drop) table(?: if (?:not )?exists)? ([a-z_][\w.]*)/g],
  ];
  for (const [kind, re] of patterns) {
    for (const m of text.matchAll(re)) {
      const name = m[1]!.replace(/^public\./, '');
      out.add(`${kind} ${m[2] ? `${m[2].replace(/^public\./, '')} ${name}` : name}`);
    }
  }
  return out;
}

/** Objects defined (or dropped) in more than one migration. */
function redefinitions(files: { name: string; sql: string }[]): string[] {
  const released = new Set<string>();
  const seen = new Map<string, string[]>();
  for (const f of files) for (const key of objectsOf(f.sql)) seen.set(key, [...(seen.get(key) ?? []), f.name]);
  const out: string[] = [];
  for (const [key, where] of seen) {
    const unreleasedEarlier = where.slice(0, -1).filter((f) => !released.has(f));
    if (unreleasedEarlier.length) out.push(`${key}: ${where.join(', ')}`);
  }
  return out.sort();
}

function shipped(): { name: string; sql: string }[] {
  return listMigrations(findMigrationsDir()).map((m) => ({ name: `${m.version}_${m.name}.sql`, sql: readFileSync(m.path, 'utf8') }));
}

describe('migrations as files', function () {
  this.timeout(180_000);

  it('finds the functions, indexes, policies, triggers and tables a migration defines', () => {
    const keys = objectsOf(`
      -- create function commented.out()
      create or replace function private.a(p int) returns int language sql as $$ select 1; create function not.me() $$;
      create unique index kb_x_idx on public.kb (a);
      create policy "Users can read" on public.t for select using (true);
      create trigger t_audit after insert on public.t for each row execute function private.audit();
      create table public.t (id int);
      drop function if exists public.b(text);`);
    assert.deepEqual([...keys].sort(), [
      'function b', 'function private.a', 'index kb_x_idx', 'policy t "users can read"', 'table t', 'trigger t t_audit',
    ]);
  });

  it('defines each function, index, policy, trigger and table in one migration (until a release freezes it)', () => {
    assert.deepEqual(redefinitions(shipped()), []);
  });

  describe('schema dump (scripts/schema-diff.ts)', () => {
    it('is the same for the migrations in one file as in their own files, and sees a changed policy', async () => {
      const one = mkdtempSync(join(tmpdir(), 'cairn-one-migration-'));
      try {
        const all = listMigrations(findMigrationsDir()).map((m) => readFileSync(m.path, 'utf8')).join('\n');
        writeFileSync(join(one, '20260101000000_everything.sql'), all);
        const db = await freshDb();
        try {
          const split = await dumpSchema(db.db);
          assert.equal(await dumpMigrations(one), split);
          assert.ok(split.split('\n').length > 500, 'the dump holds the whole schema');
          await db.admin(`alter policy "Users can read the tasks of projects they can read" on public.tasks using (false)`);
          await db.admin(`grant update (created_by) on public.tasks to authenticated`);
          const changed = (await dumpSchema(db.db)).split('\n');
          const added = changed.filter((l) => !split.split('\n').includes(l));
          assert.equal(added.length, 2, added.join('\n'));
          assert.ok(added.some((l) => l.startsWith('policy: tasks "Users can read the tasks') && l.endsWith('using (false)')));
          assert.ok(added.some((l) => l.startsWith('column: tasks.created_by') && l.includes('authenticated=UPDATE')));
        } finally {
          await db.close();
        }
      } finally {
        rmSync(one, { recursive: true, force: true });
      }
    });
  });

  it('ships no migration file the runner would skip', () => {
    const dir = findMigrationsDir();
    assert.deepEqual(readdirSync(dir).filter((f) => !/^[0-9]+_[a-z0-9_]+\.sql$/.test(f)), []);
  });
});
