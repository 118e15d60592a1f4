/**
 * VS Code's extension host logs a PendingMigrationError whenever an extension reads the global `navigator`
 * (Node 21+ has one; VS Code warns that it will change). The bundled supabase-js probes `navigator` while it
 * loads, to tell React Native from Node, so every activation logged one. The extension bundle (dist/, built by
 * `npm test` before the suites) is loaded here in a child Node with a `navigator` that records every read and
 * an inert `vscode` module: loading it must not read `navigator`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');
const bundle = join(root, 'dist', 'extension.cjs');

const probe = `
const Module = require('node:module');
const reads = [];
Object.defineProperty(globalThis, 'navigator', { configurable: true, get() { reads.push(new Error().stack.split('\\n')[2].trim()); return { userAgent: 'Node', product: 'Node' }; } });
const inert = new Proxy(function () {}, { get: (_t, k) => (k === Symbol.toPrimitive ? () => '' : inert), apply: () => inert, construct: () => inert });
const load = Module._load;
Module._load = function (request, ...rest) { return request === 'vscode' ? inert : load.call(this, request, ...rest); };
require(process.argv[1]);
process.stdout.write(JSON.stringify(reads));
`;

describe('extension bundle', () => {
  it('loads without reading the global navigator (no PendingMigrationError in the extension host)', function () {
    if (!existsSync(bundle)) this.skip();
    const r = spawnSync(process.execPath, ['-e', probe, bundle], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    const reads = JSON.parse(r.stdout) as string[];
    assert.deepEqual(reads, [], `navigator read at ${reads.join('; ')}`);
  });
});
