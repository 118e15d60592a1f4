// Bundles the three targets: the extension (CommonJS, `vscode` external), the daemon and CLI (Node ESM), and
// the webview (browser). `--production` minifies; `--watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { existsSync, mkdirSync, cpSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

// PGlite loads its WASM and data files relative to its own module, so it stays a runtime dependency
// (shipped in node_modules inside the .vsix) instead of being inlined.
const nodeExternals = ['@electric-sql/pglite', '@electric-sql/pglite-pgvector', '@electric-sql/pglite-socket', '@vscode/tree-sitter-wasm', 'pg-native'];

const common = { bundle: true, sourcemap: true, minify: production, logLevel: 'warning', legalComments: 'none' };

const targets = [
  {
    ...common,
    entryPoints: ['extension/src/extension.ts'],
    outfile: 'dist/extension.cjs',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
    // The extension host is Node: VS Code logs a PendingMigrationError on every read of the global
    // `navigator`, which supabase-js probes while it loads (React Native detection) and for browser-only
    // features (WebAuthn, navigator.locks) the extension never uses.
    define: { navigator: 'undefined', 'globalThis.navigator': 'undefined' },
  },
  {
    ...common,
    entryPoints: { daemon: 'daemon/src/main.ts', cli: 'daemon/src/cli/main.ts' },
    outdir: 'dist',
    outExtension: { '.js': '.mjs' },
    // Modules imported with import() (LangChain, the MCP SDK, supabase-js, unpdf, …) become chunks loaded on
    // first use, so the daemon starts without parsing them and stays lighter while they are unused.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: nodeExternals,
    // Bundled CommonJS dependencies call require(); give the ESM bundle one.
    banner: { js: "import { createRequire as __cairnCreateRequire } from 'node:module'; const require = __cairnCreateRequire(import.meta.url);" },
  },
  {
    ...common,
    entryPoints: { main: 'webview/src/main.ts' },
    outdir: 'dist/webview',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file' },
  },
].filter((t) => {
  const entries = Array.isArray(t.entryPoints) ? t.entryPoints : Object.values(t.entryPoints);
  return entries.every((e) => existsSync(e));
});

mkdirSync('dist', { recursive: true });
// Chunk names carry content hashes: drop the previous build's so none is left behind.
rmSync('dist/chunks', { recursive: true, force: true });
// The daemon looks for bootstrap.sql beside its bundle first (and for supabase/migrations above it).
cpSync('daemon/src/store/bootstrap.sql', 'dist/bootstrap.sql');
if (existsSync('node_modules/@vscode/codicons/dist')) {
  cpSync('node_modules/@vscode/codicons/dist', 'dist/webview/codicons', { recursive: true });
}

if (watch) {
  for (const t of targets) await (await esbuild.context(t)).watch();
  console.log('watching for changes');
} else {
  await Promise.all(targets.map((t) => esbuild.build(t)));
  // The data dir a new home starts from (no initdb on the user's critical path): supabase/migrations as they
  // are now, applied to a fresh database and dumped (daemon/src/store/prepared.ts); skipped when up to date.
  if (!process.argv.includes('--no-data-dir')) {
    execFileSync(process.execPath, ['--import', 'tsx', 'daemon/src/store/prepare-build.ts', 'dist'], { stdio: 'inherit' });
  }
}
