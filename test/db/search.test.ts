// Hybrid search (kb_search) on a small hand-made knowledge base with 4-dimensional vectors: BM25 over words
// with per-project term statistics, vectors above a similarity floor, filters, tenants, and model
// generations that are never compared with each other.
import assert from 'node:assert/strict';
import { freshDb, type Actor, type TestDb, type TestUser } from '../support/db.js';
import { sha } from './world.js';

interface Hit {
  chunk_id: string;
  source_id: string;
  kind: string;
  uri: string;
  language: string | null;
  start_line: number;
  content: string;
  score: number;
  fts_rank: number | null;
  vector_rank: number | null;
}

const M1 = 'model-one-4d';
const M2 = 'model-two-4d';
const M3 = 'model-three-3d';

interface Doc {
  kind: 'file' | 'document' | 'url' | 'faq';
  uri: string;
  language: string | null;
  model: string;
  chunks: Array<[content: string, embedding: string | null]>;
}

const docs: Doc[] = [
  { kind: 'file', uri: 'src/auth/login.ts', language: 'typescript', model: M1, chunks: [['export function login(password) { refresh the session token }', '[1,0,0,0]'], ['logout clears cookies', '[0.9,0.1,0,0]']] },
  { kind: 'file', uri: 'src/db/pool.ts', language: 'typescript', model: M1, chunks: [['database connection pool settings', '[0,1,0,0]']] },
  { kind: 'document', uri: 'docs/guide.md', language: 'markdown', model: M1, chunks: [['How to login to the dashboard with a password', '[0,0,1,0]']] },
  { kind: 'faq', uri: 'faq:rotate', language: null, model: M1, chunks: [['Rotate keys every ninety days', '[0,0,0,1]']] },
  // Text whose embedding is not computed yet: found by its words, never ranked by a vector.
  { kind: 'document', uri: 'docs/pending.md', language: 'markdown', model: M1, chunks: [['Pending embedding about invoices', null]] },
  // The same file indexed by another model of the same size, and by a 3-dimensional one.
  { kind: 'file', uri: 'src/auth/login.ts', language: 'typescript', model: M2, chunks: [['export function login(password) { refresh the session token }', '[1,0,0,0]']] },
  { kind: 'file', uri: 'src/auth/login.ts', language: 'typescript', model: M3, chunks: [['export function login(password) { refresh the session token }', '[1,0,0]']] },
];

describe('kb_search: hybrid search', function () {
  this.timeout(120_000);
  let t: TestDb;
  let owner: TestUser;
  let stranger: TestUser;
  let projectId: string;
  let otherProjectId: string;
  const modelOfSource = new Map<string, string>();

  const search = (args: Record<string, unknown>, who: TestUser = owner) =>
    t.rpc<Hit[]>(who, 'kb_search', { p_project_id: projectId, p_query: null, p_query_embedding: null, p_embedding_model: M1, p_limit: 10, p_min_similarity: 0, ...args });

  before(async () => {
    t = await freshDb();
    owner = await t.createUser('owner');
    stranger = await t.createUser('stranger');
    projectId = (await t.rpc<{ id: string }>(owner, 'ensure_project', { p_root_uri: 'file:///repo', p_name: 'repo' })).id;
    otherProjectId = (await t.rpc<{ id: string }>(stranger, 'ensure_project', { p_root_uri: 'file:///theirs', p_name: 'theirs' })).id;
    for (const d of docs) {
      const dims = d.model === M3 ? 3 : 4;
      await t.rpc(owner, 'kb_upsert_sources', {
        p_project_id: projectId,
        p_sources: [
          {
            source: { kind: d.kind, uri: d.uri, title: d.uri, language: d.language, content_hash: sha(d.uri + d.model), size_bytes: 100, mtime_ms: 1, embedding_model: d.model, embedding_dims: dims },
            chunks: d.chunks.map(([content, embedding], i) => ({ ordinal: i, start_line: i * 10 + 1, end_line: i * 10 + 9, content, content_hash: sha(content), token_count: 8, embedding })),
          },
        ],
      });
    }
    const sources = await t.db.query<{ id: string; embedding_model: string }>('select id::text, embedding_model from public.kb_sources where project_id = $1', [projectId]);
    for (const r of sources.rows) modelOfSource.set(r.id, r.embedding_model);
    // The stranger's own project holds text that matches everything, to show it never crosses over.
    await t.rpc(stranger, 'kb_upsert_sources', {
      p_project_id: otherProjectId,
      p_sources: [
        {
          source: { kind: 'file', uri: 'src/auth/login.ts', content_hash: sha('s'), embedding_model: M1, embedding_dims: 4 },
          chunks: [{ ordinal: 0, start_line: 1, end_line: 1, content: 'login password token dashboard', content_hash: sha('s'), embedding: '[1,0,0,0]' }],
        },
      ],
    });
  });
  after(() => t.close());

  it('adds the vector match to the words: a chunk first in both ranks first', async () => {
    const hits = await search({ p_query: 'login token', p_query_embedding: '[1,0,0,0]' });
    assert.equal(hits[0]!.uri, 'src/auth/login.ts');
    assert.equal(hits[0]!.start_line, 1);
    assert.equal(hits[0]!.vector_rank, 1);
    assert.equal(hits[0]!.fts_rank, 1);
    const scores = hits.map((h) => h.score);
    assert.deepEqual(scores, [...scores].sort((a, b) => b - a), 'ordered by score');
    const guide = hits.find((h) => h.uri === 'docs/guide.md')!;
    assert.ok(guide.fts_rank !== null, 'the guide matches the words');
    assert.match(guide.content, /login/i);
  });

  it('weighs a word by how rare it is in the project: a rare word outranks a common one', async () => {
    // "login" is in two chunks of this model, "cookies" in one: the chunk with the rare word comes first.
    const hits = await search({ p_query: 'login cookies' });
    assert.deepEqual([hits[0]!.uri, hits[0]!.start_line], ['src/auth/login.ts', 11]);
    const stats = await t.db.query<{ term: string; df: number }>(
      `select term, df from public.kb_terms where project_id = $1 and embedding_model = $2 and term in ('login', 'cooki') order by term`, [projectId, M1]);
    assert.deepEqual(stats.rows.map((r) => [r.term, r.df]), [['cooki', 1], ['login', 2]]);
  });

  it('returns nothing for a word found nowhere in the project, however near the vectors are', async () => {
    assert.deepEqual(await search({ p_query: 'zyzzyva', p_query_embedding: '[0.5,0.5,0.5,0.5]' }), []);
    assert.deepEqual(await search({ p_query: 'zyzzyva quokka' }), []);
  });

  it('leaves out vector matches under the similarity floor', async () => {
    const hits = await search({ p_query: 'the of and', p_query_embedding: '[0,0.2,1,0]', p_min_similarity: 0.5 });
    assert.deepEqual(hits.map((h) => h.uri), ['docs/guide.md']);
  });

  it('ranks by cosine distance alone when the query has no words', async () => {
    const hits = await search({ p_query: 'the of and', p_query_embedding: '[0,0.2,1,0]' });
    assert.ok(hits.every((h) => h.fts_rank === null));
    assert.deepEqual(hits.slice(0, 2).map((h) => h.uri), ['docs/guide.md', 'src/db/pool.ts']);
    assert.deepEqual(hits.map((h) => h.vector_rank), hits.map((_, i) => i + 1));
  });

  it('ranks by words alone without a query embedding', async () => {
    const hits = await search({ p_query: 'database pool' });
    assert.ok(hits.length > 0 && hits.every((h) => h.vector_rank === null));
    assert.equal(hits[0]!.uri, 'src/db/pool.ts');
  });

  const filters: Array<[string, Record<string, unknown>, string[]]> = [
    ['a path prefix', { p_path_prefix: 'src/auth/' }, ['src/auth/login.ts']],
    ['a path glob', { p_path_glob: '**/*.md' }, ['docs/guide.md']],
    ['a file-name glob matching in any folder', { p_path_glob: 'pool.ts' }, ['src/db/pool.ts']],
    ['a language', { p_language: 'markdown' }, ['docs/guide.md']],
    ['a kind', { p_kind: 'faq' }, ['faq:rotate']],
  ];
  for (const [name, filter, uris] of filters) {
    it(`keeps only what matches ${name}`, async () => {
      const hits = await search({ p_query: 'login password database keys', p_query_embedding: '[0.5,0.5,0.5,0.5]', ...filter });
      assert.ok(hits.length > 0);
      assert.deepEqual([...new Set(hits.map((h) => h.uri))], uris);
    });
  }

  it('never mixes model generations, even of the same dimension', async () => {
    const one = await search({ p_query: 'login', p_query_embedding: '[1,0,0,0]' });
    assert.ok(one.length > 0);
    assert.ok(one.every((h) => modelOfSource.get(h.source_id) === M1), 'a hit from another model leaked in');
    // Another generation is searched once it is the project's active model.
    await t.rpc(owner, 'kb_activate_model', { p_project_id: projectId, p_embedding_model: M2 });
    const two = await search({ p_query: 'login', p_query_embedding: '[1,0,0,0]', p_embedding_model: M2 });
    assert.deepEqual(two.map((h) => modelOfSource.get(h.source_id)), [M2]);
    await t.rpc(owner, 'kb_activate_model', { p_project_id: projectId, p_embedding_model: M3 });
    const three = await search({ p_query: 'login', p_query_embedding: '[1,0,0]', p_embedding_model: M3 });
    assert.deepEqual(three.map((h) => [modelOfSource.get(h.source_id), h.vector_rank]), [[M3, 1]]);
    await t.rpc(owner, 'kb_activate_model', { p_project_id: projectId, p_embedding_model: M1 });
  });

  it('answers CR006, not rows, when the model it is given is not the active one; the active model is the project readers see', async () => {
    assert.equal(await t.rpc(owner, 'kb_active_model', { p_project_id: projectId }), M1);
    const { error } = await t.attemptRpc(owner, 'kb_search', { p_project_id: projectId, p_query: 'login', p_query_embedding: '[1,0,0,0]', p_embedding_model: M2 });
    assert.equal(error?.sqlstate, 'CR006');
    assert.equal(error?.kind, 'conflict');
    // Someone who cannot read the project learns nothing of its models: no CR006, no rows, no active model.
    assert.deepEqual(await search({ p_query: 'login', p_embedding_model: M2 }, stranger), []);
    assert.equal(await t.rpc(stranger, 'kb_active_model', { p_project_id: projectId }), null);
    const refused = await t.attemptRpc(stranger, 'kb_activate_model', { p_project_id: projectId, p_embedding_model: M2 });
    assert.equal(refused.error?.kind, 'permission_denied');
    assert.equal(await t.rpc(owner, 'kb_active_model', { p_project_id: projectId }), M1);
  });

  it('compares no vectors when the query embedding has another dimension than the model', async () => {
    const hits = await search({ p_query: 'login', p_query_embedding: '[1,0,0]' });
    assert.ok(hits.length > 0);
    assert.ok(hits.every((h) => h.vector_rank === null && h.fts_rank !== null));
  });

  it("returns nothing from another user's project, and the stranger never sees the owner's chunks", async () => {
    assert.deepEqual(await search({ p_query: 'login', p_query_embedding: '[1,0,0,0]' }, stranger), []);
    const theirs = await search({ p_project_id: otherProjectId, p_query: 'login', p_query_embedding: '[1,0,0,0]' }, stranger);
    assert.deepEqual(theirs.map((h) => h.content), ['login password token dashboard']);
    assert.deepEqual(await search({ p_project_id: otherProjectId, p_query: 'login', p_query_embedding: '[1,0,0,0]' }), []);
  });

  it("private.kb_word_hits (stage 1's index reads, as its owner) gives a caller only the chunks of projects they can read", async () => {
    const hits = (who: Actor, project: string | null) =>
      t.query<{ chunk_id: string }>(who, `select chunk_id from private.kb_word_hits($1, $2, array['''login''']::tsquery[], array[1.0]::double precision[])`, [project, M1]);
    assert.ok((await hits(owner, projectId)).length > 0, 'the owner reads their own chunks');
    assert.deepEqual(await hits(stranger, projectId), [], "another tenant's project id gives nothing");
    assert.deepEqual(await hits(stranger, null), []);
    assert.ok((await hits(stranger, otherProjectId)).length > 0, 'the stranger reads their own project');
    await assert.rejects(hits('anon', projectId), /permission denied/);
  });

  it('never gives a vector rank to a chunk without an embedding', async () => {
    const hits = await search({ p_query: 'invoices', p_query_embedding: '[0.5,0.5,0.5,0.5]' });
    const pending = hits.find((h) => h.uri === 'docs/pending.md');
    assert.ok(pending, 'found by its words');
    assert.equal(pending.vector_rank, null);
    assert.equal(pending.fts_rank, 1);
  });

  it('respects the limit', async () => {
    const hits = await search({ p_query: 'login password database keys', p_query_embedding: '[0.5,0.5,0.5,0.5]', p_limit: 2 });
    assert.equal(hits.length, 2);
  });

  it('re-indexing a source replaces its chunks, and the old text is no longer found', async () => {
    await t.rpc(owner, 'kb_upsert_sources', {
      p_project_id: projectId,
      p_sources: [
        {
          source: { kind: 'faq', uri: 'faq:rotate', content_hash: sha('new faq'), embedding_model: M1, embedding_dims: 4 },
          chunks: [{ ordinal: 0, start_line: 1, end_line: 1, content: 'Keys never expire', content_hash: sha('Keys never expire'), embedding: '[0,0,0,1]' }],
        },
      ],
    });
    assert.deepEqual(await search({ p_query: 'ninety days' }), []);
    assert.deepEqual((await search({ p_query: 'expire' })).map((h) => h.uri), ['faq:rotate']);
    const stats = await t.db.query<{ term: string; df: number }>(
      `select term, df from public.kb_terms where project_id = $1 and embedding_model = $2 and term in ('nineti', 'expir') order by term`, [projectId, M1]);
    assert.deepEqual(stats.rows.map((r) => [r.term, r.df]), [['expir', 1], ['nineti', 0]], 'the term statistics follow the chunks');
  });

  it('an update counts the words it changes, and moving lines counts nothing', async () => {
    const counts = async () =>
      (await t.db.query<{ term: string; df: number }>(
        `select term, df from public.kb_terms where project_id = $1 and embedding_model = $2 and term in ('expir', 'renew') order by term`, [projectId, M1])).rows.map((r) => [r.term, r.df]);
    const chunk = `(select c.id from public.kb_chunks c join public.kb_sources s on s.id = c.source_id where s.uri = 'faq:rotate' and s.embedding_model = '${M1}')`;
    await t.db.query(`update public.kb_chunks set content = 'Keys renew themselves' where id = ${chunk}`);
    assert.deepEqual(await counts(), [['expir', 0], ['renew', 1]]);
    await t.db.query(`update public.kb_chunks set start_line = 5, end_line = 6 where id = ${chunk}`);
    assert.deepEqual(await counts(), [['expir', 0], ['renew', 1]]);
    await t.db.query(`update public.kb_chunks set content = 'Keys never expire', start_line = 1, end_line = 1 where id = ${chunk}`);
    assert.deepEqual(await counts(), [['expir', 1], ['renew', 0]]);
  });

  /** A project of its own holding one file per text, each chunk with the given embedding. */
  const projectOf = async (name: string, texts: Array<[uri: string, content: string, embedding: string | null]>) => {
    const id = (await t.rpc<{ id: string }>(owner, 'ensure_project', { p_root_uri: `file:///${name}`, p_name: name })).id;
    await t.rpc(owner, 'kb_upsert_sources', {
      p_project_id: id,
      p_sources: texts.map(([uri, content, embedding]) => ({
        source: { kind: 'file', uri, content_hash: sha(uri), embedding_model: M1, embedding_dims: 4 },
        chunks: [{ ordinal: 0, start_line: 1, end_line: 1, content, content_hash: sha(content), token_count: 8, embedding }],
      })),
    });
    return id;
  };

  it('counts a query word once, by its best form: two words matched outrank one word matched in two forms', async () => {
    // "values" holds the stem valu and the exact form values; the other chunk holds two of the query's words
    // (subscriber, value), neither in the exact form the query uses. Counting each form apart ranked the
    // single word first.
    const id = await projectOf('forms', [
      ['one-word.ts', 'values', null],
      ['two-words.ts', 'subscriber value', null],
      ['other.ts', 'subscribe now', null],
      ...[1, 2, 3, 4, 5].map((i): [string, string, null] => [`filler${i}.ts`, 'filler text', null]),
    ]);
    const hits = await search({ p_project_id: id, p_query: 'subscribers values' });
    assert.deepEqual(hits.slice(0, 2).map((h) => h.uri), ['two-words.ts', 'one-word.ts']);
  });

  it('lets repetition count before saturating: a chunk that keeps using a word outranks one naming it once beside another', async () => {
    // Both words are as rare (two chunks each). With BM25's textbook k1 (1.2) six uses of "plugin" scored
    // below one use each of "plugin" and "scope"; with k1 2.5 the chunk about plugins comes first.
    const id = await projectOf('saturation', [
      ['guide.md', 'plugin plugin plugin plugin plugin plugin', null],
      ['mention.md', 'plugin scope', null],
      ['rules.md', 'scope rules', null],
      ...[1, 2, 3, 4, 5].map((i): [string, string, null] => [`filler${i}.ts`, 'filler text', null]),
    ]);
    const hits = await search({ p_project_id: id, p_query: 'plugin scope' });
    assert.deepEqual(hits.slice(0, 2).map((h) => h.uri), ['guide.md', 'mention.md']);
  });

  it('never lets a vector of zeros (a chunk without words) past the similarity floor', async () => {
    // Its cosine distance is NaN, which compares above every number in PostgreSQL.
    const id = await projectOf('zeros', [
      ['.prettierignore', '*', '[0,0,0,0]'],
      ['src/login.ts', 'login token', '[1,0,0,0]'],
    ]);
    const hits = await search({ p_project_id: id, p_query: 'login', p_query_embedding: '[1,0,0,0]', p_min_similarity: 0.5 });
    assert.deepEqual(hits.map((h) => h.uri), ['src/login.ts']);
  });
});
