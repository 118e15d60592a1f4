import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { indexWorkspace } from '../../daemon/src/kb/indexer.js';
import { searchKnowledgeBase } from '../../daemon/src/kb/search.js';
import { addSource, prepareFaq } from '../../daemon/src/kb/documents.js';
import { publishAll } from '../../daemon/src/kb/publish.js';
import { ConfigHolder } from '../../daemon/src/config.js';
import { resolveProject } from '../../daemon/src/workspace/project.js';
import { userClaims } from '../../daemon/src/store/sql.js';
import { StoreError, type Store, type StoreUser } from '../../daemon/src/store/types.js';
import { countingStore, kbEnv, writeFixture, type KbEnv } from './support.js';

/** The same embedded database, acting as another signed-in user (another tenant). */
async function otherUser(env: KbEnv): Promise<Store> {
  const user: StoreUser = { id: randomUUID(), email: 'mallory@example.test', aal: 'aal1' };
  await env.store.asOwner((tx) =>
    tx.query(
      `insert into auth.users (instance_id, id, aud, role, email, email_confirmed_at, raw_user_meta_data, created_at, updated_at)
       values ('00000000-0000-0000-0000-000000000000', $1, 'authenticated', 'authenticated', $2, now(), '{}', now(), now())`,
      [user.id, user.email],
    ),
  );
  const base = env.store;
  return Object.assign(Object.create(base) as Store, {
    user: () => user,
    rpc: ((fn, ...rest) => base.rpcAs(userClaims(user), fn, ...rest)) satisfies Store['rpc'],
  });
}

describe('kb search', function () {
  this.timeout(120_000);
  let env: KbEnv;
  let config: ConfigHolder;
  before(async () => {
    env = await kbEnv();
    config = new ConfigHolder(env.config);
    await writeFixture(env);
    await env.write('src/billing/refund.go', 'package billing\n\n// IssueRefund returns money to the card the invoice was paid with.\nfunc IssueRefund(invoiceID string, cents int) error {\n\treturn nil\n}\n');
    await indexWorkspace(env.deps(), env.ws);
    const project = await resolveProject(env.store, env.ws);
    await addSource(env.store, env.config, project.id, prepareFaq('How do I get VPN access?', 'Ask the IT desk for a WireGuard profile; it expires after 90 days.'));
    // Most tests read the HNSW-indexed vectors; one below adds a chunk that is still queued.
    assert.ok((await publishAll(env.store, project.id)) >= 6);
    assert.equal(Number(await env.store.rpc('kb_pending_vectors', { p_project_id: project.id })), 0);
  });
  after(async () => env.cleanup());

  const search = (query: string, extra: Record<string, unknown> = {}) => searchKnowledgeBase(env.store, config, { root: env.ws, query, ...extra });

  // Query, expected top path: plain words, identifiers split from camelCase and snake_case, and markdown.
  const known: [string, string][] = [
    ['refresh session token', 'src/auth/session.ts'],
    ['invoice total cents', 'src/billing/invoice.ts'],
    ['deploy kubernetes', 'scripts/deploy.py'],
    ['staging database password', 'docs/oncall.md'],
    ['issue a refund', 'src/billing/refund.go'],
    ['vpn wireguard', 'faq:how-do-i-get-vpn-access'],
  ];
  for (const [query, path] of known) {
    it(`finds ${path} for "${query}"`, async () => {
      const hits = await search(query);
      assert.equal(hits[0]?.path, path, JSON.stringify(hits.map((h) => h.path)));
      assert.ok(hits[0]!.score > 0);
      assert.ok(hits[0]!.snippet.length > 0);
    });
  }

  it('filters by path prefix, glob, language and kind', async () => {
    const billing = await search('refund invoice cents', { pathPrefix: './src/billing/' });
    assert.ok(billing.length >= 2);
    assert.ok(billing.every((h) => h.path.startsWith('src/billing/')));
    const goOnly = await search('refund invoice cents', { glob: '**/*.go' });
    assert.deepEqual([...new Set(goOnly.map((h) => h.path))], ['src/billing/refund.go']);
    const ts = await search('refund invoice cents', { language: 'typescript' });
    assert.ok(ts.length > 0 && ts.every((h) => h.language === 'typescript'));
    const faq = await search('access', { kind: 'faq' });
    assert.deepEqual(faq.map((h) => h.kind), ['faq']);
    assert.equal(faq[0]?.title, 'How do I get VPN access?');
  });

  it('finds a chunk at once while its vector is queued, and ranks it the same once published', async () => {
    await env.write('src/flags/rollout.ts', 'export function percentageRolloutBucket(userId: string, salt: string): number {\n  return hashToUnit(userId + salt);\n}\n');
    await indexWorkspace(env.deps(), env.ws);
    const project = await resolveProject(env.store, env.ws);
    assert.equal(Number(await env.store.rpc('kb_pending_vectors', { p_project_id: project.id })), 1);
    const queued = await search('percentage rollout bucket');
    assert.equal(queued[0]?.path, 'src/flags/rollout.ts');
    await publishAll(env.store, project.id);
    const published = await search('percentage rollout bucket');
    assert.deepEqual(published.map((h) => [h.path, h.score]), queued.map((h) => [h.path, h.score]));
  });

  it('costs one SQL call per search once the active model is known', async () => {
    // A fresh daemon (its own caches): the first search maps the folder and reads the project's active model.
    const daemon = countingStore(env.store);
    const first = await searchKnowledgeBase(daemon, config, { root: env.ws, query: 'refresh session token' });
    assert.equal(first[0]?.path, 'src/auth/session.ts');
    assert.deepEqual(daemon.calls, ['ensure_project', 'kb_active_model', 'kb_search']);
    daemon.reset();
    for (const [query, path] of known) {
      const hits = await searchKnowledgeBase(daemon, config, { root: env.ws, query });
      assert.equal(hits[0]?.path, path);
    }
    assert.deepEqual(daemon.calls, known.map(() => 'kb_search'));
  });

  it('honours the limit', async () => {
    assert.equal((await search('the', { limit: 2 })).length <= 2, true);
    assert.equal((await search('export function return', { limit: 1 })).length, 1);
  });

  it('answers the largest limit the protocol allows (100), which once set hnsw.ef_search past its maximum', async () => {
    const hits = await search('export function return', { limit: 100 });
    assert.ok(hits.length > 1 && hits.length <= 100, `${hits.length} hits`);
  });

  it('never shows one tenant the chunks of another', async () => {
    const mallory = await otherUser(env);
    // Same folder path, different user: mallory gets her own empty project.
    const hers = await searchKnowledgeBase(mallory, config, { root: env.ws, query: 'refresh session token' });
    assert.deepEqual(hers, []);
    const owner = await resolveProject(env.store, env.ws);
    // Even with the owner's project id, the SQL API shows nothing and refuses writes.
    const direct = await mallory.rpc('kb_search', { p_project_id: owner.id, p_query: 'refresh session token', p_query_embedding: null, p_embedding_model: 'cairn-local-hash-v1-384', p_limit: 10 });
    assert.deepEqual(direct, []);
    const listed = await mallory.rpc('kb_list_sources', { p_project_id: owner.id, p_embedding_model: 'cairn-local-hash-v1-384' });
    assert.deepEqual(listed, []);
    await assert.rejects(
      mallory.rpc('kb_delete_sources', { p_project_id: owner.id, p_embedding_model: 'cairn-local-hash-v1-384', p_uris: ['src/auth/session.ts'] }),
      (e: unknown) => e instanceof StoreError && e.kind === 'permission_denied',
    );
    assert.equal((await search('refresh session token'))[0]?.path, 'src/auth/session.ts', 'the owner still finds it');
  });

  it('puts the definition of an identifier typed exactly first, above text that only mentions it', async () => {
    // The notes say the name (and its words) far more often than the one chunk that defines it.
    await env.write('docs/routing-notes.md', `# Routing notes\n\n${'We call routeRequest for every route request; routeRequest picks the route for the request. '.repeat(6)}\n`);
    await env.write('src/http/router.ts', [
      'export class Router {',
      '  private table = new Map<string, () => void>();',
      '',
      '  /** Finds the handler of a path. */',
      '  routeRequest(path: string): (() => void) | undefined {',
      '    return this.table.get(path);',
      '  }',
      '}',
      '',
    ].join('\n'));
    await indexWorkspace(env.deps(), env.ws);
    for (const query of ['routeRequest', 'Router.routeRequest', 'routerequest']) {
      const hits = await search(query);
      assert.equal(hits[0]?.path, 'src/http/router.ts', `${query}: ${JSON.stringify(hits.map((h) => h.path))}`);
      assert.equal(hits[0]!.startLine, 1);
    }
  });

  it('finds the file of a sentence typed verbatim', async () => {
    const hits = await search('returns money to the card the invoice was paid with');
    assert.equal(hits[0]?.path, 'src/billing/refund.go', JSON.stringify(hits.map((h) => h.path)));
  });

  it('counts the words the english stop list drops (until, while) that name behaviour in code', async () => {
    // Both files say "repeat"; repeatCount.ts says it more often, in fewer words. Only "until" tells them apart.
    await env.write('src/ops/repeatCount.ts', 'export function repeatCount(n: number) {\n  return repeat(n); // repeat\n}\n');
    await env.write('src/ops/repeatUntil.ts', 'export function repeatUntil(notifier: Signal) {\n  // resubscribes to the source each time it completes, up to the moment the notifier emits\n  return resubscribeUntil(notifier, source, scheduler);\n}\n');
    await indexWorkspace(env.deps(), env.ws);
    const hits = await search('repeat until');
    assert.equal(hits[0]?.path, 'src/ops/repeatUntil.ts', JSON.stringify(hits.map((h) => h.path)));
  });

  it('ranks the exact word a question uses above other words of the same stem', async () => {
    // Same stem (subscrib) in both; the guide says "subscribers" as asked, the client says other forms more often.
    await env.write('docs/replay.md', '# Replay\n\nLate subscribers receive the buffered values.\n');
    await env.write('src/net/client.ts', 'export function connect(subscribe: Subscribe) {\n  // late: subscribe, then subscribe again; each subscription subscribes once\n  return subscribe(subscribe);\n}\n');
    await indexWorkspace(env.deps(), env.ws);
    const hits = await search('late subscribers');
    assert.equal(hits[0]?.path, 'docs/replay.md', JSON.stringify(hits.map((h) => h.path)));
  });

  it('returns no results for a word that occurs nowhere in the workspace', async () => {
    assert.deepEqual(await search('zyzzyvaquokka'), []);
    assert.deepEqual(await search('zyzzyva quokkas'), []);
    // One real word among them is enough to find something.
    assert.ok((await search('zyzzyva refund')).length > 0);
  });
});
