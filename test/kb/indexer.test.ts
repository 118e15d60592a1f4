import { strict as assert } from 'node:assert';
import { rename, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { indexWorkspace } from '../../daemon/src/kb/indexer.js';
import { searchKnowledgeBase } from '../../daemon/src/kb/search.js';
import { ConfigHolder } from '../../daemon/src/config.js';
import { CountingEmbedder, countingStore, kbEnv, writeFixture, type KbEnv } from './support.js';

describe('kb indexer', function () {
  this.timeout(120_000);
  let env: KbEnv;
  beforeEach(async () => {
    env = await kbEnv();
    await writeFixture(env);
  });
  afterEach(async () => env.cleanup());

  const search = (query: string, extra: Record<string, unknown> = {}) =>
    searchKnowledgeBase(env.store, new ConfigHolder(env.config), { root: env.ws, query, ...extra });

  it('indexes a workspace and finds a function by what it does', async () => {
    const r = await indexWorkspace(env.deps(), env.ws);
    assert.equal(r.files, 4);
    assert.equal(r.indexed, 4);
    assert.equal(r.complete, true);
    assert.ok(r.chunks >= 4);
    assert.equal(r.model, 'cairn-local-hash-v1-384');
    const hits = await search('refresh session token');
    assert.equal(hits[0]?.path, 'src/auth/session.ts');
    assert.equal(hits[0]?.kind, 'file');
    assert.equal(hits[0]?.language, 'typescript');
    assert.ok(hits[0]!.startLine >= 1 && hits[0]!.endLine >= hits[0]!.startLine);
  });

  it('re-indexes only what changed: no embedding and no write for unchanged files', async () => {
    await indexWorkspace(env.deps(), env.ws);
    const emb = new CountingEmbedder();
    const store = countingStore(env.store);
    const again = await indexWorkspace(env.deps(emb, store), env.ws);
    assert.equal(again.unchanged, 4);
    assert.equal(again.indexed, 0);
    assert.equal(emb.texts, 0);
    assert.ok(!store.calls.includes('kb_upsert_sources'), `calls: ${store.calls.join(',')}`);

    // One file edited: only its new chunk is embedded, one write.
    await env.write('src/billing/invoice.ts', `${(await import('./support.js')).FIXTURE['src/billing/invoice.ts']}\nexport const CURRENCY = 'EUR';\n`);
    store.reset();
    const edited = await indexWorkspace(env.deps(emb, store), env.ws);
    assert.equal(edited.indexed, 1);
    assert.equal(edited.unchanged, 3);
    assert.equal(store.calls.filter((c) => c === 'kb_upsert_sources').length, 1);
    assert.ok(emb.texts >= 1 && emb.texts <= 2, `embedded ${emb.texts}`);

    // Touched but identical content: read and hashed, never re-chunked or re-written.
    const p = join(env.ws, 'scripts/deploy.py');
    await utimes(p, new Date(), new Date(Date.now() + 5000));
    store.reset();
    emb.texts = 0;
    const touched = await indexWorkspace(env.deps(emb, store), env.ws);
    assert.equal(touched.indexed, 0);
    assert.equal(emb.texts, 0);
    assert.ok(!store.calls.includes('kb_upsert_sources'));
    store.reset();
    await indexWorkspace(env.deps(emb, store), env.ws);
    assert.deepEqual(store.calls.filter((c) => c === 'kb_touch_sources'), [], 'the new mtime was recorded the first time');
  });

  it('reuses stored embeddings for unchanged chunks of a changed file', async () => {
    const big = Array.from({ length: 60 }, (_, i) => `export function handler${i}(input: string): string {\n  return input.repeat(${i});\n}\n`).join('\n');
    await env.write('src/handlers.ts', big);
    await indexWorkspace(env.deps(), env.ws);
    const emb = new CountingEmbedder();
    await env.write('src/handlers.ts', `${big}\nexport const extra = 1;\n`);
    const r = await indexWorkspace(env.deps(emb), env.ws);
    assert.equal(r.indexed, 1);
    assert.ok(r.reused > 0, 'some chunks kept their vectors');
    assert.ok(emb.texts < r.chunks, `embedded ${emb.texts} of ${r.chunks}`);
  });

  it('an edit that shifts lines keeps the other chunks (ids, vectors) at their new lines, and the word counts stay exact', async () => {
    const fn = (i: number) => `export function handler${i}Zebra(input: string): string {\n  return input.repeat(${i});\n}\n`;
    const big = Array.from({ length: 60 }, (_, i) => fn(i)).join('\n');
    await env.write('src/handlers.ts', big);
    await indexWorkspace(env.deps(), env.ws);
    type Row = { id: string; start_line: number; content_hash: string };
    const rows = () =>
      env.store.asOwner(async (tx) => (await tx.query<Row>(
        `select c.id, c.start_line, c.content_hash from public.kb_chunks c join public.kb_sources s on s.id = c.source_id
         where s.uri = 'src/handlers.ts' order by c.ordinal`)).rows);
    const before = await rows();
    assert.ok(before.length >= 3, `${before.length} chunks`);
    // Two lines above the first function shift every later chunk; the last function's body changes.
    await env.write('src/handlers.ts', `// handlers\n// generated\n${big.replace('input.repeat(59)', 'input.repeat(590)')}`);
    const emb = new CountingEmbedder();
    const r = await indexWorkspace(env.deps(emb), env.ws);
    assert.equal(r.indexed, 1);
    const after = await rows();
    const byId = new Map(before.map((b) => [b.id, b]));
    const kept = after.filter((a) => byId.has(a.id));
    assert.ok(kept.length >= before.length - 2, `kept ${kept.length} of ${before.length}`);
    for (const k of kept) {
      assert.equal(k.content_hash, byId.get(k.id)!.content_hash);
      assert.equal(k.start_line, byId.get(k.id)!.start_line + 2, 'kept chunks moved down two lines');
    }
    assert.ok(emb.texts <= 2, `embedded ${emb.texts}`);
    // Search finds a kept chunk at its new lines, and the edited one by its new text.
    const hit = (await search('handler30Zebra')).find((h) => h.path === 'src/handlers.ts')!;
    const line = `${big.replace('input.repeat(59)', 'input.repeat(590)')}`.split('\n').indexOf(fn(30).split('\n')[0]!) + 3;
    assert.ok(hit.startLine <= line && hit.endLine >= line, `handler30 at ${line}, hit ${hit.startLine}-${hit.endLine}`);
    assert.equal((await search('handler59Zebra 590'))[0]?.path, 'src/handlers.ts');
    // kb_terms and kb_stats equal a recount from the chunks.
    const [terms, recount, stats] = await env.store.asOwner(async (tx) => [
      (await tx.query<{ term: string; df: number }>(`select term, df from public.kb_terms where df > 0 order by term`)).rows,
      (await tx.query<{ term: string; df: number }>(`select u.lexeme as term, count(*)::int as df from public.kb_chunks c, unnest(c.fts) u group by 1 order by 1`)).rows,
      (await tx.query<{ ok: boolean }>(
        `select (select (chunks, tokens) from public.kb_stats) = (select (count(*), sum(token_count)) from public.kb_chunks) as ok`)).rows[0]!,
    ] as const);
    assert.ok(terms.length > 0);
    assert.deepEqual(terms, recount);
    assert.equal(stats.ok, true);
  });

  it('removes deleted and renamed files from results', async () => {
    await indexWorkspace(env.deps(), env.ws);
    assert.equal((await search('deploy kubernetes cluster'))[0]?.path, 'scripts/deploy.py');
    await rename(join(env.ws, 'scripts/deploy.py'), join(env.ws, 'scripts/rollout.py'));
    await rm(join(env.ws, 'docs/oncall.md'));
    const r = await indexWorkspace(env.deps(), env.ws);
    assert.equal(r.deleted, 2);
    assert.equal(r.indexed, 1);
    const hits = await search('deploy kubernetes cluster');
    assert.equal(hits[0]?.path, 'scripts/rollout.py');
    assert.ok(!hits.some((h) => h.path === 'scripts/deploy.py' || h.path === 'docs/oncall.md'));
  });

  it('counts invalid UTF-8 and enormous lines without failing the index', async () => {
    await env.write('data/latin1.txt', Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0x6f, 0x6c, 0xe9, 0x0a]));
    await env.write('dist/bundle.min.js', `var a=${'x'.repeat(300_000)};function minifiedEntryPoint(){return a}\n`);
    const r = await indexWorkspace(env.deps(), env.ws);
    assert.equal(r.complete, true);
    assert.equal(r.skipped.invalidUtf8, 1);
    assert.equal(r.indexed, 6);
    const hits = await search('minifiedEntryPoint', { pathPrefix: 'dist/' });
    assert.equal(hits[0]?.path, 'dist/bundle.min.js');
    assert.equal(hits[0]?.startLine, 1);
  });

  it('a cancelled run keeps the files it committed and the next run finishes the rest', async () => {
    for (let i = 0; i < 300; i++) await env.write(`gen/file${i}.ts`, `export const value${i} = ${i}; // generated constant number ${i}\n`);
    const ac = new AbortController();
    const r = await indexWorkspace(env.deps(), env.ws, {
      signal: ac.signal,
      batchChunks: 16,
      onProgress: (p) => p.indexed >= 32 && ac.abort(),
    });
    assert.equal(r.cancelled, true);
    assert.equal(r.complete, false);
    assert.ok(r.indexed >= 32 && r.indexed < 304, `indexed ${r.indexed}`);
    const resumed = await indexWorkspace(env.deps(), env.ws);
    assert.equal(resumed.unchanged, r.indexed);
    assert.equal(resumed.indexed, 304 - r.indexed);
    assert.equal(resumed.complete, true);
  });

  it('skips a file that turned binary and removes its old chunks', async () => {
    await indexWorkspace(env.deps(), env.ws);
    await writeFile(join(env.ws, 'docs/oncall.md'), Buffer.from([0x23, 0x20, 0x00, 0x01, 0x02, 0x00]));
    const r = await indexWorkspace(env.deps(), env.ws);
    assert.equal(r.skipped.binary, 1);
    assert.deepEqual(r.skippedFiles, [{ path: 'docs/oncall.md', reason: 'binary' }], 'the summary names the file and why');
    assert.equal(r.deleted, 1);
    assert.ok(!(await search('database password rotation')).some((h) => h.path === 'docs/oncall.md'));
  });
});
