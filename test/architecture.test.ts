// The architecture invariants that name what is deliberately absent (ARCHITECTURE.md), checked on the
// import statements of every source file, so a change that reaches around the protocol, or an import inside
// the daemon that runs from a lower room to a higher one, fails here.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { spawnSync } from 'node:child_process';

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

/**
 * The daemon's rooms (a folder of daemon/src, or a file at its top), lowest first. A file may import its own
 * room and the rooms of lower layers, never a room of its own layer or a higher one: the protocol knows no
 * daemon, the store no subsystem, a subsystem no host. A new folder must be placed here.
 */
const daemonLayers: string[][] = [
  ['protocol'], // the contract: zod declarations and the client library
  ['config', 'secrets', 'lock'], // runtime settings, the secret detector, the pid lock file
  ['log'], // Logger and the rotated JSON log
  ['store'], // Store and its implementations (embedded, Postgres, Supabase, switchable), migrations
  ['rpc'], // the JSON-RPC engine: registry, dispatch, limits, transports, the internal connection
  ['auth', 'workspace'], // who the daemon acts as; workspace roots, projects and the path policy
  ['kb'], // the knowledge base: crawl, chunk, embed, index, search
  ['chat'], // sessions, the orchestrator, tools, interrupted replies
  ['teams'], // team methods, the model gateway, the change-feed bridge
  ['core', 'mcp'], // initialize, daemon/*, auth/status, workspace/*; the MCP endpoint
  ['host'], // process start, discovery, the home's lock, composition of the subsystems
  ['eval'], // the search evaluation `cairn eval` runs against a private daemon
  ['cli'], // the `cairn` commands
  ['main'], // the daemon's entry (dist/daemon.mjs)
];

/** What a CLI file may import when its command is a client of the daemon (no `inProcess` reason). */
const cliClientRooms = new Set(['protocol', 'config', 'cli', 'mcp', 'eval']);
const cliClientFiles = new Set(['daemon/src/rpc/version.ts']);

const daemonSrc = join(root, 'daemon/src');

/** The room of a daemon source file: its first folder under daemon/src, or its name for a top-level file. */
function roomOf(file: string): string {
  const rel = relative(daemonSrc, file);
  return rel.includes('/') ? rel.slice(0, rel.indexOf('/')) : rel.replace(/\.(ts|mts|mjs)$/, '');
}

/** The daemon files `file` imports by relative path (resolved, with `.ts` for a `.js` specifier). */
function daemonImports(file: string): string[] {
  return imports(file)
    .filter((s) => s.startsWith('.'))
    .map((s) => resolve(dirname(file), s).replace(/\.js$/, '.ts'))
    .filter((t) => t.startsWith(daemonSrc + '/'));
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

  it('every room of the daemon has a layer, and every import inside the daemon runs from a higher layer to a lower one', () => {
    const layerOf = new Map(daemonLayers.flatMap((rooms, i) => rooms.map((r) => [r, i] as const)));
    const offences: string[] = [];
    for (const file of sources(daemonSrc)) {
      const from = roomOf(file);
      const own = layerOf.get(from);
      if (own === undefined) {
        offences.push(`${relative(root, file)}: room '${from}' has no layer in daemonLayers`);
        continue;
      }
      for (const target of daemonImports(file)) {
        const to = roomOf(target);
        if (to === from) continue;
        const theirs = layerOf.get(to);
        if (theirs === undefined || theirs >= own) offences.push(`${relative(root, file)} (${from}) imports ${relative(root, target)} (${to})`);
      }
    }
    assert.deepEqual(offences, []);
  });

  it('a CLI command is a client of the daemon unless it names why it runs in the CLI process (inProcess)', () => {
    const offences: string[] = [];
    for (const file of sources(join(daemonSrc, 'cli'))) {
      if (/\binProcess:/.test(readFileSync(file, 'utf8'))) continue;
      for (const target of daemonImports(file)) {
        if (!cliClientRooms.has(roomOf(target)) && !cliClientFiles.has(relative(root, target))) offences.push(`${relative(root, file)} imports ${relative(root, target)}`);
      }
    }
    assert.deepEqual(offences, []);
  });

  it("ARCHITECTURE.md's code map names every room of the daemon and every folder and file of the repository's parts", () => {
    const doc = readFileSync(join(root, 'ARCHITECTURE.md'), 'utf8');
    const named = (text: string) => doc.includes(text);
    const entries = (dir: string) => (existsSync(join(root, dir)) ? readdirSync(join(root, dir), { withFileTypes: true }) : []);
    const missing: string[] = [];
    for (const e of entries('daemon/src')) {
      const path = `daemon/src/${e.name}${e.isDirectory() ? '/' : ''}`;
      if (!named(path)) missing.push(path);
    }
    for (const e of entries('.')) {
      if (!e.isDirectory() || (e.name.startsWith('.') && e.name !== '.ci')) continue;
      // Build output and test results (node_modules, dist, test-results, …) are not parts of the code.
      if (spawnSync('git', ['check-ignore', '-q', e.name], { cwd: root }).status === 0) continue;
      if (!named(`\`${e.name}/`) && !named(`${e.name}/\``)) missing.push(`${e.name}/`);
    }
    // A part's folders and files: by path, or by a name in backticks (`db`, `fixtures/`, `ctx.ts`).
    for (const dir of ['test', 'extension/src', 'webview/src']) {
      for (const e of entries(dir)) if (!named(`${dir}/${e.name}`) && !named(`\`${e.name}`)) missing.push(`${dir}/${e.name}`);
    }
    assert.deepEqual(missing, []);
  });
});
