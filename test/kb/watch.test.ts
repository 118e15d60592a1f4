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
