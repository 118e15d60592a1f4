/**
 * Background work yields to requests: while thousands of freshly indexed vectors are being published to the
 * HNSW index (PGlite has one connection), a search answers within its latency measured on the same backlog
 * with nothing running. Before, the publishing loop settled slice after slice as microtasks, so no socket or
 * file read completed until the whole backlog was published (about a minute for 1,800 vectors here).
 */
import { strict as assert } from 'node:assert';
import { indexWorkspace } from '../../daemon/src/kb/indexer.js';
import { searchKnowledgeBase } from '../../daemon/src/kb/search.js';
import { VectorPublisher, nextSliceSize } from '../../daemon/src/kb/publish.js';
import { ConfigHolder } from '../../daemon/src/config.js';
import { resolveProject } from '../../daemon/src/workspace/project.js';
import type { Logger } from '../../daemon/src/log/logger.js';
import { kbEnv, type KbEnv } from './support.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quietLog: Logger = { debug() {}, info() {}, warn() {}, error() {} };

const TOPICS = ['billing', 'auth', 'search', 'deploy', 'cache', 'queue', 'mail', 'audit', 'export', 'upload'];

/** A file of a few distinct paragraphs, so the indexer writes several chunks of varied words. */
function fileText(i: number): string {
  const topic = TOPICS[i % TOPICS.length]!;
  const parts: string[] = [`# ${topic} module ${i}`];
  for (let p = 0; p < 6; p++) {
    parts.push(`## Step ${p} of the ${topic} flow`);
    const words: string[] = [];
    for (let k = 0; k < 70; k++) words.push(`${TOPICS[(i + p + k) % TOPICS.length]}${(i * 31 + p * 7 + k) % 97}`);
    parts.push(`The ${topic} handler ${i}.${p} validates the request, ${words.join(' ')}, then records the outcome.`);
  }
  return parts.join('\n\n') + '\n';
}

describe('background publishing yields to searches', function () {
  this.timeout(600_000);
  let env: KbEnv;
  let config: ConfigHolder;
  let projectId: string;

  before(async () => {
    env = await kbEnv();
    config = new ConfigHolder(env.config);
    for (let i = 0; i < 300; i++) await env.write(`docs/${TOPICS[i % TOPICS.length]}/note-${i}.md`, fileText(i));
    await indexWorkspace(env.deps(), env.ws);
    projectId = (await resolveProject(env.store, env.ws)).id;
  });
  after(async () => env?.cleanup());

  const pending = async () => Number(await env.store.rpc('kb_pending_vectors', { p_project_id: projectId }));

  async function timedSearch(n: number): Promise<number> {
    const started = performance.now();
    const hits = await searchKnowledgeBase(env.store, config, { root: env.ws, query: `audit handler ${n} validates`, limit: 10 });
    assert.ok(hits.length > 0);
    return performance.now() - started;
  }

  it('answers searches during publishing within the quiet latency, and publishes everything', async () => {
    const backlog = await pending();
    assert.ok(backlog >= 1000, `a backlog of at least 1000 vectors to publish (got ${backlog})`);

    // The same backlog, nothing else running: what a search costs here.
    const quiet: number[] = [];
    for (let i = 0; i < 6; i++) quiet.push(await timedSearch(i));

    const shutdown = new AbortController();
    const publisher = new VectorPublisher(env.store, quietLog, (w) => w, shutdown.signal);
    let publishing = true;
    publisher.schedule(projectId);
    const done = publisher.idle().then(() => (publishing = false));

    const during: number[] = [];
    for (let i = 0; i < 8 && publishing; i++) {
      during.push(await timedSearch(100 + i));
      await sleep(150);
    }
    const stillPublishing = publishing;
    await done;
    shutdown.abort();

    assert.ok(during.length >= 4 && stillPublishing, `searches ran while publishing (${during.length}, still publishing: ${stillPublishing})`);
    const quietMax = Math.max(...quiet);
    const duringMax = Math.max(...during);
    // A search may wait for the one slice under way (about 50 ms of index inserts), never for a backlog.
    const bound = quietMax * 1.5 + 300;
    assert.ok(duringMax <= bound, `slowest search while publishing ${Math.round(duringMax)} ms, bound ${Math.round(bound)} ms (quiet: ${quiet.map(Math.round).join(', ')}; during: ${during.map(Math.round).join(', ')})`);
    assert.equal(await pending(), 0, 'every queued vector is published in the end');
  });

  it('sizes slices by the pace of the last one, within bounds', () => {
    assert.equal(nextSliceSize(16, 16, 10), 32, 'grows at most twofold');
    assert.equal(nextSliceSize(200, 200, 2000), 5, 'a slow slice shrinks to the 50 ms target');
    assert.equal(nextSliceSize(200, 200, 100_000), 4, 'never below the floor');
    assert.equal(nextSliceSize(800, 800, 1), 1000, 'never above the ceiling');
    assert.equal(nextSliceSize(32, 0, 5), 32, 'an empty slice says nothing about pace');
  });
});
