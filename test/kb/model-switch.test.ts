import { strict as assert } from 'node:assert';
import { indexWorkspace } from '../../daemon/src/kb/indexer.js';
import { searchKnowledgeBase } from '../../daemon/src/kb/search.js';
import { addSource, prepareFaq } from '../../daemon/src/kb/documents.js';
import { OpenAIEmbedder } from '../../daemon/src/kb/embed.js';
import { ConfigHolder } from '../../daemon/src/config.js';
import { resolveProject } from '../../daemon/src/workspace/project.js';
import { startOpenAIServer, type FakeOpenAIServer } from '../support/openai-server.js';
import { countingStore, kbEnv, writeFixture, type KbEnv } from './support.js';

describe('kb model switch', function () {
  this.timeout(180_000);
  let env: KbEnv;
  let server: FakeOpenAIServer;
  beforeEach(async () => {
    env = await kbEnv();
    server = await startOpenAIServer({ embeddingDims: 24 });
    await writeFixture(env);
    for (let i = 0; i < 120; i++) await env.write(`gen/mod${i}.ts`, `export const setting${i} = 'value ${i}';\n`);
  });
  afterEach(async () => {
    await server.close();
    await env.cleanup();
  });

  const active = async () => env.store.rpc('kb_active_model', { p_project_id: (await resolveProject(env.store, env.ws)).id });
  const models = async () => {
    const project = await resolveProject(env.store, env.ws);
    const rows = await env.store.rpc('kb_status', { p_project_id: project.id });
    return [...new Set(rows.map((r) => r.embedding_model))].sort();
  };

  it('search keeps the old vectors until the new model covers everything, with no dimension error', async () => {
    const config = new ConfigHolder(env.config);
    await indexWorkspace(env.deps(), env.ws);
    const project = await resolveProject(env.store, env.ws);
    await addSource(env.store, env.config, project.id, prepareFaq('Where are the release notes?', 'In docs/releases, one file per version.'));
    assert.equal(await active(), 'cairn-local-hash-v1-384');
    // Another daemon on the same database (a teammate's machine) searches, and so knows the active model.
    const other = countingStore(env.store);
    await searchKnowledgeBase(other, config, { root: env.ws, query: 'deploy kubernetes' });

    // The user switches to an OpenAI-compatible model of another dimension.
    config.update({ embeddings: { provider: 'openai', model: 'team-embedder', baseUrl: server.baseURL, dimensions: 24, apiKey: null } });
    env.config.embeddings = config.get().embeddings;
    const next = await OpenAIEmbedder.create({ model: 'team-embedder', baseUrl: server.baseURL, apiKey: null, dimensions: 24 });
    assert.equal(next.id, 'team-embedder@24');

    // A first run of the new model is interrupted part way.
    const ac = new AbortController();
    let calls = 0;
    // Interrupted after its third batch of embeddings, whatever the machine's speed.
    const interrupting = { id: next.id, dims: next.dims, embed: async (texts: string[], signal?: AbortSignal) => {
      if (++calls === 3) ac.abort();
      return next.embed(texts, signal);
    } };
    const partial = await indexWorkspace(env.deps(interrupting), env.ws, { signal: ac.signal, batchChunks: 8 });
    assert.equal(partial.complete, false);
    assert.deepEqual(await models(), ['cairn-local-hash-v1-384', 'team-embedder@24']);

    // Search still answers from the complete old generation: every file, no dimension mismatch.
    const during = await searchKnowledgeBase(env.store, config, { root: env.ws, query: 'deploy kubernetes' });
    assert.equal(during[0]?.path, 'scripts/deploy.py');
    const faqDuring = await searchKnowledgeBase(env.store, config, { root: env.ws, query: 'release notes', kind: 'faq' });
    assert.equal(faqDuring.length, 1);

    // The run that completes the new generation makes it active and drops the old one.
    const done = await indexWorkspace(env.deps(next), env.ws);
    assert.equal(done.complete, true);
    assert.equal(done.activeModel, 'team-embedder@24');
    assert.equal(done.unchanged, partial.indexed);
    assert.deepEqual(await models(), ['team-embedder@24']);
    assert.equal(await active(), 'team-embedder@24');

    // The other daemon still holds the old model: kb_search says it changed (CR006), the daemon reads the
    // active model again and searches once more, with the new model; then one call per search again.
    other.reset();
    const elsewhere = await searchKnowledgeBase(other, config, { root: env.ws, query: 'deploy kubernetes' });
    assert.equal(elsewhere[0]?.path, 'scripts/deploy.py');
    assert.deepEqual(other.calls, ['kb_search', 'kb_active_model', 'kb_search']);
    other.reset();
    await searchKnowledgeBase(other, config, { root: env.ws, query: 'release notes' });
    assert.deepEqual(other.calls, ['kb_search']);

    const after = await searchKnowledgeBase(env.store, config, { root: env.ws, query: 'deploy kubernetes' });
    assert.equal(after[0]?.path, 'scripts/deploy.py');
    // The FAQ entry, whose text lived only in the database, was re-embedded into the new model.
    const faqAfter = await searchKnowledgeBase(env.store, config, { root: env.ws, query: 'release notes', kind: 'faq' });
    assert.equal(faqAfter[0]?.path, 'faq:where-are-the-release-notes');
    assert.ok(server.requests.length > 0);
  });
});
