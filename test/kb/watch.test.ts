import { strict as assert } from 'node:assert';
import { rm, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { KbWatcher, type WatchBatchResult } from '../../daemon/src/kb/watch.js';
import { indexWorkspace } from '../../daemon/src/kb/indexer.js';
import { resolveProject } from '../../daemon/src/workspace/project.js';
import { CountingEmbedder, kbEnv, writeFixture, type KbEnv } from './support.js';

describe('kb watcher', function () {
  this.timeout(120_000);
  let env: KbEnv;
  let watcher: KbWatcher;
  let batches: WatchBatchResult[];
  let emb: CountingEmbedder;
  const silent = { debug() {}, info() {}, warn() {}, error() {} };

  beforeEach(async () => {
    env = await kbEnv();
    await writeFixture(env);
    await env.write('.gitignore', 'dist/\n');
    await indexWorkspace(env.deps(), env.ws);
    emb = new CountingEmbedder();
    batches = [];
    watcher = new KbWatcher(env.ws, () => env.deps(emb), (b) => batches.push(b), silent, { debounceMs: 50 });
    watcher.start();
  });
  afterEach(async () => {
    await watcher.stop();
    await env.cleanup();
  });

  const uris = async () => {
    const project = await resolveProject(env.store, env.ws);
    const rows = await env.store.rpc('kb_list_sources', { p_project_id: project.id, p_embedding_model: emb.id, p_kind: 'file' });
    return rows.map((r) => r.uri).sort();
  };
  const settle = async () => {
    await new Promise((r) => setTimeout(r, 300));
    await watcher.idle();
  };

  it('batches a burst of edits into one write and ignores ignored paths', async () => {
    await mkdir(join(env.ws, 'dist'), { recursive: true });
    for (let i = 0; i < 5; i++) await writeFile(join(env.ws, 'src/auth/session.ts'), `export const version = ${i};\n`);
    await writeFile(join(env.ws, 'dist/bundle.js'), 'console.log("built")\n');
    await writeFile(join(env.ws, 'src/new.ts'), 'export const added = true;\n');
    await settle();
    assert.ok(batches.length >= 1 && batches.length <= 2, `${batches.length} batches`);
    const indexed = batches.flatMap((b) => b.indexed).sort();
    assert.deepEqual([...new Set(indexed)], ['src/auth/session.ts', 'src/new.ts']);
    assert.ok(!(await uris()).includes('dist/bundle.js'));
  });

  it('removes the files of a deleted folder', async () => {
    await rm(join(env.ws, 'src/billing'), { recursive: true });
    await settle();
    assert.deepEqual(await uris(), ['.gitignore', 'docs/oncall.md', 'scripts/deploy.py', 'src/auth/session.ts']);
  });

  it('re-reads ignore rules when a .gitignore changes', async () => {
    await writeFile(join(env.ws, '.gitignore'), 'dist/\ndocs/\n');
    await settle();
    assert.ok(!(await uris()).includes('docs/oncall.md'));
    assert.ok(batches.some((b) => b.full));
  });
});

describe('kb watcher on a checkout-sized change', function () {
  this.timeout(240_000);
  const silent = { debug() {}, info() {}, warn() {}, error() {} };

  it('watches folders, not files (never node_modules or an ignored folder), and turns a mass rewrite into a few batches', async function () {
    if (process.platform !== 'linux') this.skip();
    const env = await kbEnv();
    const emb = new CountingEmbedder();
    const file = (p: number, f: number, word = '') => `export function ledger_${p}_${f}() { return ${p * 100 + f}; } // ${word}\n`;
    const files: string[] = [];
    try {
      for (let p = 0; p < 6; p++) {
        await mkdir(join(env.ws, 'packages', `pkg-${p}`, 'src'), { recursive: true });
        for (let f = 0; f < 50; f++) {
          const rel = `packages/pkg-${p}/src/m${f}.ts`;
          files.push(rel);
          await writeFile(join(env.ws, rel), file(p, f));
        }
      }
      for (let i = 0; i < 20; i++) await mkdir(join(env.ws, 'node_modules', `dep-${i}`, 'lib'), { recursive: true });
      await mkdir(join(env.ws, 'build', 'out'), { recursive: true });
      await writeFile(join(env.ws, '.gitignore'), 'build/\n');
      await indexWorkspace(env.deps(emb), env.ws);
      const batches: WatchBatchResult[] = [];
      const watcher = new KbWatcher(env.ws, () => env.deps(emb), (b) => batches.push(b), silent, { debounceMs: 50, maxWaitMs: 200 });
      watcher.start();
      try {
        await new Promise((r) => setTimeout(r, 300));
        // The root, packages, 6 packages and their src folders: not 300 files, not node_modules, not build/.
        assert.equal(watcher.watchedFolders, 1 + 1 + 6 * 2);
        // A checkout rewrites every file, 50 at a time, as git does in a few bursts.
        for (let i = 0; i < files.length; i += 50) {
          await Promise.all(files.slice(i, i + 50).map((rel) => writeFile(join(env.ws, rel), file(Number(/pkg-(\d+)/.exec(rel)![1]), Number(/m(\d+)/.exec(rel)![1]), 'checkedout'))));
        }
        // A folder created by the checkout is watched from then on.
        await mkdir(join(env.ws, 'packages', 'pkg-new', 'src'), { recursive: true });
        await new Promise((r) => setTimeout(r, 300));
        await watcher.idle();
        await writeFile(join(env.ws, 'packages', 'pkg-new', 'src', 'added.ts'), file(9, 9, 'added'));
        await new Promise((r) => setTimeout(r, 300));
        await watcher.idle();
        const indexed = new Set(batches.flatMap((b) => b.indexed));
        for (const rel of files) assert.ok(indexed.has(rel), `${rel} re-indexed`);
        assert.ok(indexed.has('packages/pkg-new/src/added.ts'), 'a file in a new folder is indexed');
        assert.ok(batches.length <= 8, `${batches.length} batches for 300 files`);
      } finally {
        await watcher.stop();
      }
    } finally {
      await env.cleanup();
    }
  });
});
