// The architecture invariants that name what is deliberately absent (ARCHITECTURE.md), checked on the
// import statements of every source file, so a change that reaches around the protocol fails here.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';

const root = resolve(import.meta.dirname, '..');

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (/\.(ts|mts|mjs)$/.test(name)) out.push(p);
  }
  return out;
}

/** Every module specifier a file imports, statically or dynamically. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/g)) specs.push(m[1]!);
  for (const m of text.matchAll(/(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g)) specs.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) specs.push(m[1]!);
  for (const m of text.matchAll(/\brequire\(\s*['"]([^'"]+)['"]\s*\)/g)) specs.push(m[1]!);
  return specs;
}

const clientDataLibraries = /^(@electric-sql\/|pg$|pg\/|@langchain\/|langchain$|langchain\/|js-tiktoken|unpdf|html-to-text)/;

describe('architecture invariants', () => {
  it('the extension and the webview import from the daemon only its protocol module, and no database or LLM library', () => {
    const offences: string[] = [];
    for (const dir of ['extension/src', 'webview/src']) {
      for (const file of sources(join(root, dir))) {
        for (const spec of imports(file)) {
          const where = `${relative(root, file)} imports ${spec}`;
          if (clientDataLibraries.test(spec)) offences.push(where);
          if (spec.startsWith('.')) {
            const target = relative(root, resolve(dirname(file), spec));
            if (target.startsWith('daemon/') && !target.startsWith('daemon/src/protocol')) offences.push(where);
          }
        }
      }
    }
    assert.deepEqual(offences, []);
  });

  it('the extension uses @supabase/supabase-js for sign-in only (auth files)', () => {
    const users = sources(join(root, 'extension/src'))
      .filter((f) => imports(f).some((s) => s.startsWith('@supabase/')))
      .map((f) => relative(root, f));
    assert.ok(users.every((f) => f.startsWith('extension/src/auth/')), `supabase-js outside sign-in: ${users.join(', ')}`);
  });

  it('the daemon never imports vscode', () => {
    const offences = sources(join(root, 'daemon/src')).filter((f) => imports(f).includes('vscode')).map((f) => relative(root, f));
    assert.deepEqual(offences, []);
  });

  it('the protocol client imports nothing of the daemon beyond the protocol', () => {
    const offences: string[] = [];
    for (const file of sources(join(root, 'daemon/src/protocol'))) {
      for (const spec of imports(file)) {
        if (!spec.startsWith('.')) continue;
        const target = relative(root, resolve(dirname(file), spec));
        if (!target.startsWith('daemon/src/protocol')) offences.push(`${relative(root, file)} imports ${spec}`);
      }
    }
    assert.deepEqual(offences, []);
  });
});
