/**
 * Compares the schema two sets of migrations build: the migrations of a git ref (default `main`) against
 * those of the working tree, each applied to a fresh PGlite and dumped from the catalog
 * (test/support/schema-dump.ts). Exits 0 and says so when they are identical, else prints a unified diff
 * and exits 1. Used to prove that reorganising migrations (folding, moving a definition) changed nothing.
 *
 *   npm run schema:diff                    # main vs the working tree
 *   npm run schema:diff -- --base <ref>    # another commit
 *   npm run schema:diff -- --base <ref> --head <ref>
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { dumpMigrations, migrationsAt } from '../test/support/schema-dump.js';

const root = resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: { base: { type: 'string', default: 'main' }, head: { type: 'string' } } });

const baseDir = migrationsAt(values.base!, root);
const headDir = values.head ? migrationsAt(values.head, root) : join(root, 'supabase', 'migrations');
const base = await dumpMigrations(baseDir);
const head = await dumpMigrations(headDir);

const out = mkdtempSync(join(tmpdir(), 'cairn-schema-diff-'));
try {
  const a = join(out, `${values.base}.schema`.replace(/[/\\]/g, '_'));
  const b = join(out, `${values.head ?? 'worktree'}.schema`.replace(/[/\\]/g, '_'));
  writeFileSync(a, base);
  writeFileSync(b, head);
  const facts = base.split('\n').length - 1;
  if (base === head) {
    console.log(`schema identical: ${values.base} and ${values.head ?? 'the working tree'} (${facts} catalog facts)`);
  } else {
    const diff = spawnSync('diff', ['-u', a, b], { encoding: 'utf8' });
    process.stdout.write(diff.stdout);
    console.log(`schema differs: ${values.base} and ${values.head ?? 'the working tree'}`);
    process.exitCode = 1;
  }
} finally {
  rmSync(out, { recursive: true, force: true });
  rmSync(baseDir, { recursive: true, force: true });
  if (values.head) rmSync(headDir, { recursive: true, force: true });
}
