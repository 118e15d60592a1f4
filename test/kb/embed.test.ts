import { strict as assert } from 'node:assert';
import { identifierTokens, localHashEmbed, LocalHashEmbedder, OpenAIEmbedder, ProviderError } from '../../daemon/src/kb/embed.js';
import { indexWorkspace } from '../../daemon/src/kb/indexer.js';
import { fakeEmbedding, startOpenAIServer } from '../support/openai-server.js';
import { kbEnv, writeFixture } from './support.js';

const cos = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

describe('kb embedders', function () {
  this.timeout(300_000);

  it('local hash embedder: deterministic, unit length, says what it is', async () => {
    const e = new LocalHashEmbedder();
    assert.equal(e.id, 'cairn-local-hash-v1-384');
    const [a, b] = await e.embed(['parseHttpResponse(body)', 'parseHttpResponse(body)']);
    assert.deepEqual(Array.from(a!), Array.from(b!));
    assert.ok(Math.abs(cos(a!, a!) - 1) < 1e-5);
    assert.deepEqual(Array.from(localHashEmbed('')), new Array(384).fill(0));
  });

  it('splits identifiers so a plain-words query lands near the code that uses them', () => {
    assert.deepEqual(identifierTokens('parseHTTPResponse_v2'), ['parsehttpresponse_v2', 'parse', 'http', 'response', 'v2']);
    const q = localHashEmbed('refresh session token');
    const near = localHashEmbed('export function refreshSessionToken(token) { return fetchToken(token) }');
    const far = localHashEmbed('def deploy_to_kubernetes(cluster): subprocess.run(["kubectl"])');
    assert.ok(cos(q, near) > cos(q, far) + 0.2, `${cos(q, near)} vs ${cos(q, far)}`);
  });

  it('OpenAI-compatible endpoint: base64 answers decode to the vectors the endpoint computed, in batches', async () => {
    const server = await startOpenAIServer({ embeddingDims: 32 });
    try {
      const e = await OpenAIEmbedder.create({ model: 'nomic-embed-text-custom', baseUrl: server.baseURL, apiKey: null, dimensions: null, batchSize: 2 });
      assert.equal(e.dims, 32, 'dimension learnt from the endpoint');
      const out = await e.embed(['alpha', 'beta', 'gamma']);
      assert.equal(out.length, 3);
      assert.ok(server.embeddingRequests().some((r) => r.encoding === 'base64'), 'the client asks for base64');
      const expected = fakeEmbedding('beta', 32);
      out[1]!.forEach((x, i) => assert.ok(Math.abs(x - expected[i]!) < 1e-6));
      // Batching: 3 texts in batches of 2 (plus the dimension probe).
      assert.deepEqual(server.embeddingRequests().map((r) => r.inputs), [1, 2, 1]);
    } finally {
      await server.close();
    }
  });

  it('a wrong key is a clear ProviderError that does not echo the key', async () => {
    const server = await startOpenAIServer({ embeddingDims: 16, apiKey: 'sk-right' });
    try {
      const e = await OpenAIEmbedder.create({ model: 'text-embedding-3-small', baseUrl: server.baseURL, apiKey: 'sk-wrong-secret', dimensions: 16 });
      const err = await e.embed(['x']).then(() => null, (x: unknown) => x);
      assert.ok(err instanceof ProviderError, String(err));
      assert.equal(err.reason, 'auth');
      assert.match(err.message, /refused the API key \(HTTP 401\)/);
      assert.doesNotMatch(err.message, /sk-wrong-secret/);
      assert.equal(server.requests.length, 1, 'a 401 is not retried');
    } finally {
      await server.close();
    }
  });

  it('an unreachable URL and a timeout are ProviderErrors', async () => {
    const closed = await startOpenAIServer({ embeddingDims: 8 });
    const url = closed.baseURL;
    await closed.close();
    const gone = await OpenAIEmbedder.create({ model: 'm', baseUrl: url, apiKey: null, dimensions: 8, maxRetries: 0 });
    await assert.rejects(gone.embed(['x']), (e: unknown) => e instanceof ProviderError && e.reason === 'unreachable' && /cannot reach/.test(e.message));
    const slow = await startOpenAIServer({ embeddingDims: 8, embeddingDelayMs: 2000 });
    try {
      const e = await OpenAIEmbedder.create({ model: 'm', baseUrl: slow.baseURL, apiKey: null, dimensions: 8, timeoutMs: 200, maxRetries: 1 });
      await assert.rejects(e.embed(['x']), (x: unknown) => x instanceof ProviderError && x.reason === 'timeout' && /timed out/.test(x.message));
    } finally {
      await slow.close();
    }
  });

  it('an index with a provider that returns the wrong dimension for some files counts them and indexes the rest', async () => {
    const env = await kbEnv();
    const server = await startOpenAIServer({ embeddingDims: 24, wrongDims: { marker: 'kubectl', dims: 7 } });
    try {
      await writeFixture(env);
      const embedder = await OpenAIEmbedder.create({ model: 'flaky-embedder', baseUrl: server.baseURL, apiKey: null, dimensions: null });
      const r = await indexWorkspace(env.deps(embedder), env.ws);
      assert.equal(r.skipped.embedFailed, 1);
      assert.equal(r.indexed, 3);
      assert.equal(r.complete, false);
      assert.deepEqual(r.errors, [{ path: 'scripts/deploy.py', message: 'flaky-embedder returned 7 dimensions, expected 24' }]);
    } finally {
      await server.close();
      await env.cleanup();
    }
  });

  it('an index with a wrong key stops with a clear ProviderError and writes nothing', async () => {
    const env = await kbEnv();
    const server = await startOpenAIServer({ embeddingDims: 16, apiKey: 'sk-right' });
    try {
      await writeFixture(env);
      const embedder = await OpenAIEmbedder.create({ model: 'text-embedding-3-small', baseUrl: server.baseURL, apiKey: 'sk-wrong', dimensions: 16 });
      await assert.rejects(indexWorkspace(env.deps(embedder), env.ws), (e: unknown) => e instanceof ProviderError && e.reason === 'auth');
      assert.equal(await env.store.asOwner(async (tx) => (await tx.query<{ n: number }>('select count(*)::int as n from public.kb_sources')).rows[0]!.n), 0);
    } finally {
      await server.close();
      await env.cleanup();
    }
  });

  it('an index against a timing-out provider fails no file silently', async () => {
    const env = await kbEnv();
    const server = await startOpenAIServer({ embeddingDims: 16, embeddingDelayMs: 1500 });
    try {
      await writeFixture(env);
      const embedder = await OpenAIEmbedder.create({ model: 'slow', baseUrl: server.baseURL, apiKey: null, dimensions: 16, timeoutMs: 100, maxRetries: 0 });
      const r = await indexWorkspace(env.deps(embedder), env.ws);
      assert.equal(r.indexed, 0);
      assert.equal(r.skipped.embedFailed, 4);
      assert.equal(r.complete, false);
      assert.match(r.errors[0]!.message, /timed out/);
      // The next run, with the provider back, indexes everything.
      server.options.embeddingDelayMs = 0;
      const again = await indexWorkspace(env.deps(await OpenAIEmbedder.create({ model: 'slow', baseUrl: server.baseURL, apiKey: null, dimensions: 16 })), env.ws);
      assert.equal(again.indexed, 4);
      assert.equal(again.complete, true);
    } finally {
      await server.close();
      await env.cleanup();
    }
  });
});
