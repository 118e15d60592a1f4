/**
 * Test hooks never reach users: the production bundle defines them away (scripts/production-defines.mjs), so
 * the daemon a user runs reads no CAIRN_TEST_* variable, whatever their environment holds.
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import * as esbuild from 'esbuild';
import { PRODUCTION_DEFINES } from '../../scripts/production-defines.mjs';

const root = resolve(import.meta.dirname, '..', '..');

async function bundle(define: Record<string, string>): Promise<string> {
  const out = await esbuild.build({
    entryPoints: [resolve(root, 'daemon/src/store/index.ts')],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    minify: true,
    define,
  });
  return out.outputFiles.map((f) => f.text).join('\n');
}

describe('test hooks', () => {
  it('the start delay the editor suites use is read in a development build and gone from the production one', async () => {
    assert.match(await bundle({}), /CAIRN_TEST_STORE_OPEN_DELAY_MS/);
    assert.doesNotMatch(await bundle(PRODUCTION_DEFINES), /CAIRN_TEST_/);
  });
});
