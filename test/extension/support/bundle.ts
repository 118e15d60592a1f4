/** Bundles the in-editor suites (test/extension/suite) into one CommonJS file the extension host can load. */
import * as esbuild from 'esbuild';
import { join } from 'node:path';
import { repoRoot } from './toolchain.js';

export async function bundleSuites(): Promise<string> {
  const bundle = join(repoRoot, 'dist', 'test', 'extension', 'suite.cjs');
  await esbuild.build({
    entryPoints: [join(repoRoot, 'test', 'extension', 'suite', 'index.ts')],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
    sourcemap: 'inline',
    // mocha's parallel-mode require.resolve calls warn when bundled; serial mode never reaches them.
    logLevel: 'error',
  });
  return bundle;
}
