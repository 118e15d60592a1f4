/**
 * The team model gateway (supabase/functions/model-gateway) run by Deno as deployed, behind the test
 * project's `/functions/v1/` route, in front of the contract-faithful OpenAI server as the provider. Members
 * call it with the daemon's own model clients (ChatOpenAI, OpenAIEmbeddings) whose key is their Supabase
 * access token; the provider sees only the gateway's key; the usage an admin reads is the provider's reports;
 * budgets and rates answer 429 with retry-after and CR005, for that member only; usage a client writes itself
 * counts for nothing.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { HumanMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { z } from 'zod';
import { createChatModel, describeProviderError, type ModelChoice } from '../../daemon/src/chat/model.js';
import { createEmbedder, OpenAIEmbedder } from '../../daemon/src/kb/embed.js';
import { configFromEnv } from '../../daemon/src/config.js';
import { projectConfig } from '../../daemon/src/workspace/gateway-config.js';
import { connectWs, fails, migratedHome, ok, removeHome, startDaemon, stopDaemon, waitForNotification, type DaemonProcess, type Json, type RawConnection } from '../support/daemon.js';
import { asUser } from '../support/supabase/as-user.js';
import { startOpenAIServer, type FakeOpenAIServer } from '../support/openai-server.js';
import { startModelGateway, type ModelGateway } from './gateway.js';
import { reachAal2, signIn, signUp, sleep, startProject, storeFor, type Project } from './harness.js';
import { buildTeam, expectFailure, join, leaveAll, type Member, type Team } from './scenarios.js';
import { rpcUntyped } from '../support/db.js';

const PROVIDER_KEY = 'sk-provider-team-secret-0123456789';

interface UsageRow {
  user_id: string;
  email: string | null;
  model: string;
  kind: string;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
}

describe('team model gateway (Edge Function under Deno)', function () {
  // Generous: a migrated project, Deno and a team of five people, on a shared machine.
  this.timeout(300_000);
  let project: Project;
  let provider: FakeOpenAIServer;
  let gateway: ModelGateway;
  let team: Team;
  let second: Member;

  const choiceFor = (m: Member, model = 'gpt-4o-mini'): ModelChoice => ({
    baseUrl: gateway.baseUrlFor(team.teamId),
    model,
    apiKey: m.person.session().accessToken,
    keySet: true,
  });

  async function chat(m: Member, text: string, model?: string): Promise<string> {
    let out = '';
    for await (const chunk of await createChatModel(choiceFor(m, model), { maxRetries: 0 }).stream([new HumanMessage(text)])) {
      out += typeof chunk.content === 'string' ? chunk.content : '';
    }
    return out;
  }

  async function usage(m: Member): Promise<UsageRow[]> {
    const rows = await rpcUntyped<UsageRow[]>(m.store, 'model_gateway_usage', { p_team_id: team.teamId });
    return rows.map((r) => ({ ...r, requests: Number(r.requests), prompt_tokens: Number(r.prompt_tokens), completion_tokens: Number(r.completion_tokens) }));
  }

  /** What the provider reported for each chat/embedding call it answered, summed per caller-visible model. */
  function providerTokens(): { prompt: number; completion: number } {
    let prompt = 0;
    let completion = 0;
    for (const r of provider.requests) {
      const u = r.reportedUsage;
      if (u) {
        prompt += u.prompt_tokens;
        completion += u.completion_tokens;
      }
    }
    return { prompt, completion };
  }

  before(async () => {
    project = await startProject();
    // 1536: text-embedding-3-small's own dimension, which members' daemons index with through the gateway.
    provider = await startOpenAIServer({ apiKey: PROVIDER_KEY, embeddingDims: 1536 });
    gateway = await startModelGateway(project, { CAIRN_PROVIDER_BASE_URL: provider.baseURL, CAIRN_PROVIDER_API_KEY: PROVIDER_KEY });
    team = await buildTeam({ project, person: (name) => signUp(project, name) }, 'gw');
    // A second member, to show one member's budget leaves another unaffected.
    const p = await signUp(project, 'gw-sam');
    await team.owner.store.rpc('invite_member', { p_team_id: team.teamId, p_email: p.email, p_role: 'member' });
    second = await join({ project, person: (n) => signUp(project, n) }, p);
    const [inv] = await rpcUntyped<{ id: string }[]>(second.store, 'list_my_invitations');
    await second.store.rpc('accept_invitation', { p_invitation_id: inv!.id });
  });

  after(async () => {
    if (team) await leaveAll([team.owner, team.member, team.viewer, team.outsider, second]);
    await gateway?.stop();
    await provider?.close();
    await project?.close();
  });

  it('is configured only by owners and admins with a second factor', async () => {
    const args = {
      p_team_id: team.teamId,
      p_allowed_models: ['gpt-4o-mini', 'text-embedding-3-small'],
      p_member_monthly_tokens: 400,
      p_member_requests_per_minute: 100,
      p_chat_model: 'gpt-4o-mini',
      p_embedding_model: 'text-embedding-3-small',
    };
    await expectFailure(team.member.store.rpc('set_model_gateway', args), ['permission_denied'], 'a member configuring the gateway');
    await expectFailure(team.outsider.store.rpc('set_model_gateway', args), ['permission_denied'], 'an outsider configuring the gateway');
    // The owner signed in again at aal1: the second factor is asked for (CR002).
    const aal1 = await storeFor(project, await (await import('./harness.js')).signIn(project, team.owner.person.email, team.owner.person.password));
    try {
      await assert.rejects(aal1.rpc('set_model_gateway', args), (e: { sqlstate?: string }) => e.sqlstate === 'CR002');
    } finally {
      await aal1.close();
    }
    const row = await rpcUntyped<{ allowed_models: string[] }>(team.owner.store, 'set_model_gateway', args);
    assert.deepEqual(row.allowed_models, args.p_allowed_models);
    const seen = await rpcUntyped<{ chat_model: string }[]>(team.member.store, 'get_model_gateway', { p_team_id: team.teamId });
    assert.equal(seen[0]?.chat_model, 'gpt-4o-mini', 'members read the settings their daemon needs');
    assert.deepEqual(await team.outsider.store.rpc('get_model_gateway', { p_team_id: team.teamId }), []);
  });

  it('lets a member with no model key of their own chat (streaming, tool calls) and embed through it', async () => {
    const before = provider.requests.length;
    provider.queue({ content: 'Hello from the team model.', usage: { prompt_tokens: 21, completion_tokens: 7 } });
    assert.equal(await chat(team.member, 'hi'), 'Hello from the team model.');

    provider.queue({ toolCalls: [{ id: 'call_1', name: 'search', arguments: { query: 'rebate' } }], usage: { prompt_tokens: 30, completion_tokens: 9 } });
    const search = tool(async () => 'found', { name: 'search', description: 'search the kb', schema: z.object({ query: z.string() }) });
    const bound = createChatModel(choiceFor(team.member), { maxRetries: 0 }).bindTools([search]);
    let args = '';
    let name = '';
    for await (const chunk of await bound.stream([new HumanMessage('find the rebate')])) {
      for (const c of chunk.tool_call_chunks ?? []) {
        args += c.args ?? '';
        name ||= c.name ?? '';
      }
    }
    assert.equal(name, 'search');
    assert.deepEqual(JSON.parse(args), { query: 'rebate' });

    const embedder = await OpenAIEmbedder.create({ model: 'text-embedding-3-small', baseUrl: gateway.baseUrlFor(team.teamId), apiKey: team.member.person.session().accessToken, dimensions: 16 });
    const vectors = await embedder.embed(['export function rebate() {}', 'the quarterly tax report']);
    assert.equal(vectors.length, 2);
    assert.equal(vectors[0]!.length, 16);

    const seen = provider.requests.slice(before);
    assert.equal(seen.length, 3);
    for (const r of seen) assert.equal(r.headers.authorization, `Bearer ${PROVIDER_KEY}`, 'the provider gets the gateway key, not the member token');
    assert.ok(seen.every((r) => !JSON.stringify(r.headers).includes(team.member.person.session().accessToken)));
    assert.equal((seen[1]!.body as { tools?: unknown[] }).tools?.length, 1, 'tools passed through');
  });

  it('reports to admins exactly the usage the provider reported, by member and model', async () => {
    const rows = await usage(team.owner);
    const total = rows.reduce((a, r) => ({ prompt: a.prompt + r.prompt_tokens, completion: a.completion + r.completion_tokens }), { prompt: 0, completion: 0 });
    assert.deepEqual(total, providerTokens());
    const chatRow = rows.find((r) => r.user_id === team.member.person.id && r.model === 'gpt-4o-mini' && r.kind === 'chat');
    assert.deepEqual(chatRow && [chatRow.requests, chatRow.prompt_tokens, chatRow.completion_tokens], [2, 51, 16]);
    assert.equal(chatRow!.email, team.member.person.email);
    assert.ok(rows.some((r) => r.user_id === team.member.person.id && r.kind === 'embedding' && r.prompt_tokens > 0));
    await expectFailure(team.member.store.rpc('model_gateway_usage', { p_team_id: team.teamId }), ['permission_denied'], 'a member reading the team usage');
  });

  it('refuses outsiders, tokens that are not a sign-in, and models the team does not allow', async () => {
    const r1 = await fetch(`${gateway.baseUrlFor(team.teamId)}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${team.outsider.person.session().accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(r1.status, 403);
    assert.equal(((await r1.json()) as { error: { code: string } }).error.code, 'CR004');
    const r2 = await fetch(`${gateway.baseUrlFor(team.teamId)}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${project.anonKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [] }),
    });
    assert.equal(r2.status, 401, 'the anon key is a valid JWT but no sign-in');
    await assert.rejects(chat(team.member, 'hi', 'gpt-5-enormous'), (e: { status?: number }) => e.status === 403);
  });

  it('answers a member over budget 429 with retry-after and CR005, in the chat too, while another member is unaffected', async () => {
    provider.queue({ content: 'A long answer.', usage: { prompt_tokens: 300, completion_tokens: 100 } });
    await chat(team.member, 'use up my budget');
    const before = provider.requests.length;
    const r = await fetch(`${gateway.baseUrlFor(team.teamId)}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${team.member.person.session().accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'more' }] }),
    });
    assert.equal(r.status, 429);
    const retryAfter = Number(r.headers.get('retry-after'));
    assert.ok(retryAfter > 0 && retryAfter <= 31 * 86400, `retry-after ${retryAfter}`);
    assert.equal(r.headers.get('x-should-retry'), 'false');
    const body = (await r.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'CR005');
    assert.equal(provider.requests.length, before, 'nothing reached the provider');

    // What the chat shows: the daemon's reading of the same 429 through ChatOpenAI.
    const err = await chat(team.member, 'more').then(() => null, (e: unknown) => e);
    const shown = describeProviderError(err, choiceFor(team.member));
    assert.equal(shown.code, 'QuotaExceeded');
    assert.match(shown.message, /over budget.*retry after/i);

    assert.equal(await chat(second, 'hello'), 'You said: hello', 'another member is unaffected');
  });

  it('does not count usage a client writes itself, and clients cannot call the gateway\'s accounting', async () => {
    const before = await usage(team.owner);
    // The member's own daemon path (record_usage) and a direct insert with a forged source.
    await team.member.store.rpc('record_usage', { p_model: 'gpt-4o-mini', p_prompt_tokens: 1, p_completion_tokens: 1 });
    // A direct insert as the member (what PostgREST's table endpoint would run): `source` is not theirs to write.
    const asMember = { role: 'authenticated', sub: team.member.person.id, aal: 'aal1' as const };
    await assert.rejects(
      asUser(project.tdb!.db, asMember, (tx) =>
        tx.query(`insert into public.api_usage (team_id, model, source, prompt_tokens) values ($1, 'gpt-4o-mini', 'gateway', 0)`, [team.teamId]),
      ),
      (e: { code?: string }) => e.code === '42501',
    );
    // Without it, the row is the member's own report: it lands as 'client' and counts for nothing.
    await asUser(project.tdb!.db, asMember, (tx) =>
      tx.query(`insert into public.api_usage (team_id, model, prompt_tokens) values ($1, 'gpt-4o-mini', 0)`, [team.teamId]),
    );
    await expectFailure(
      team.member.store.rpc('model_gateway_admit', { p_user_id: team.member.person.id, p_team_id: team.teamId, p_model: 'gpt-4o-mini', p_kind: 'chat' }),
      ['permission_denied', 'not_found'],
      'a client admitting itself',
    );
    await expectFailure(
      team.member.store.rpc('model_gateway_settle', { p_usage_id: '00000000-0000-4000-8000-000000000000', p_prompt_tokens: 0, p_completion_tokens: 0 }),
      ['permission_denied', 'not_found'],
      'a client settling usage',
    );
    assert.deepEqual(await usage(team.owner), before, 'the report is unchanged');
    // And the member is still over budget: a client row cannot lower what counts.
    await assert.rejects(chat(team.member, 'again'), (e: { status?: number }) => e.status === 429);
  });

  it('is what a member\'s daemon in team mode chats through, with no model key of its own; over budget the chat says so', async function () {
    this.timeout(400_000);
    const t0 = Date.now();
    const step = (what: string) => console.log(`      ${what}: ${Date.now() - t0} ms`);
    const homes: string[] = [];
    const daemons: DaemonProcess[] = [];
    const conns: RawConnection[] = [];
    try {
      // One daemon, handed each person's sign-in in turn, as when people share a machine (and to spare the CPU).
      const home = await migratedHome();
      homes.push(home);
      const d = await startDaemon(home, { timeoutMs: 240_000 });
      daemons.push(d);
      const conn = await connectWs(d.info);
      conns.push(conn);
      const signIn = async (m: Member) => {
        const s = m.person.session();
        const r = await ok(conn, 'auth/setSession', { supabaseUrl: project.url, anonKey: project.anonKey, accessToken: s.accessToken, refreshToken: s.refreshToken });
        assert.equal(r.user.id, m.person.id);
        return conn;
      };
      const sam = await signIn(second);
      step('daemon signed in');

      const settings = await ok(sam, 'teams/gateway', { teamId: team.teamId });
      assert.equal(settings.chatModel, 'gpt-4o-mini');

      const before = provider.requests.length;
      provider.queue({ content: 'Answered by the team model.', usage: { prompt_tokens: 40, completion_tokens: 6 } });
      const session = await ok(sam, 'sessions/create', { projectId: team.projectId, title: 'gateway' });
      const sent = await ok(sam, 'chat/send', { sessionId: session.id, content: 'What is our rebate rule?' });
      const done = await waitForNotification(sam, 'chat/done', (p) => p.messageId === sent.replyId, 60_000);
      assert.equal(done.status, 'complete', JSON.stringify(done.error));
      step('chat through the gateway done');
      const got = await ok(sam, 'sessions/get', { sessionId: session.id });
      assert.equal(got.messages.find((m: Json) => m.id === sent.replyId)?.content, 'Answered by the team model.');
      const reached = provider.requests.slice(before).filter((r) => r.path === '/v1/chat/completions');
      assert.ok(reached.length >= 1 && reached.every((r) => r.headers.authorization === `Bearer ${PROVIDER_KEY}`));

      // The admin's view through the daemon method: Sam's chat is there with the provider's numbers.
      const owner = await signIn(team.owner);
      const report = await ok(owner, 'teams/gatewayUsage', { teamId: team.teamId });
      const samChat = report.rows.find((r: Json) => r.userId === second.person.id && r.kind === 'chat');
      const samReported = reached.reduce((n, r) => n + r.reportedUsage!.prompt_tokens + r.reportedUsage!.completion_tokens, 0);
      assert.ok(samChat.promptTokens + samChat.completionTokens >= samReported);
      await signIn(second);
      await fails(sam, 'teams/gatewayUsage', { teamId: team.teamId }, ['PermissionDenied']);

      // Bob is over his monthly budget (above): his chat fails with the gateway's reason and when to retry.
      step('usage report read');
      const bob = await signIn(team.member);
      const bobSession = await ok(bob, 'sessions/create', { projectId: team.projectId, title: 'over budget' });
      const bobSent = await ok(bob, 'chat/send', { sessionId: bobSession.id, content: 'one more?' });
      const bobDone = await waitForNotification(bob, 'chat/done', (p) => p.messageId === bobSent.replyId, 60_000);
      assert.equal(bobDone.status, 'failed');
      assert.equal(bobDone.error.code, 'QuotaExceeded');
      assert.match(bobDone.error.message, /over budget, retry after \d+ days/);
    } finally {
      for (const c of conns) await c.close().catch(() => undefined);
      for (const d of daemons) await stopDaemon(d);
      for (const h of homes) await removeHome(h);
    }
  });

  it('is what a member\'s daemon in team mode indexes and searches through, with no embedding key; the admin\'s usage table is the provider\'s reports', async function () {
    this.timeout(400_000);
    // The team's embedding model for everyone, and no member budget (Bob spent his above).
    await reachAal2(team.owner.person);
    team.owner.store.setSession(team.owner.person.session());
    await team.owner.store.rpc('set_model_gateway', {
      p_team_id: team.teamId,
      p_allowed_models: ['gpt-4o-mini', 'text-embedding-3-small'],
      p_chat_model: 'gpt-4o-mini',
      p_embedding_model: 'text-embedding-3-small',
    });
    const home = await migratedHome();
    const dir = await mkdtemp(joinPath(tmpdir(), 'cairn-gw-index-'));
    let d: DaemonProcess | undefined;
    let conn: RawConnection | undefined;
    try {
      await writeFile(joinPath(dir, 'billing.ts'), 'export function computeQuarterlyTaxRebate(amountCents: number): number {\n  return Math.round(amountCents * 0.07);\n}\n');
      await writeFile(joinPath(dir, 'README.md'), '# Shop\n\nInvoices, rebates and the quarterly tax report.\n');
      // Sam's daemon: default settings (the offline embedder, no key of any kind).
      d = await startDaemon(home, { timeoutMs: 240_000 });
      conn = await connectWs(d.info);
      const asSam = async () => {
        const s = second.person.session();
        await ok(conn!, 'auth/setSession', { supabaseUrl: project.url, anonKey: project.anonKey, accessToken: s.accessToken, refreshToken: s.refreshToken });
      };
      await asSam();
      assert.equal((await ok(conn, 'daemon/configure', {})).embeddings.hasApiKey, false);
      await ok(conn, 'workspace/chooseProject', { root: dir, projectId: team.projectId });
      const before = provider.requests.length;
      const run = await ok(conn, 'kb/index', { root: dir, watch: false });
      assert.equal(run.model, 'text-embedding-3-small', 'the team\'s embedding model, not the member\'s offline one');
      assert.deepEqual([run.errors, run.indexed, run.complete], [[], 2, true]);
      const status = await ok(conn, 'kb/status', { root: dir });
      assert.deepEqual([status.configuredModel, status.activeModel], ['text-embedding-3-small', 'text-embedding-3-small']);
      const hits = await ok(conn, 'kb/search', { root: dir, query: 'quarterly tax rebate', limit: 5 });
      assert.ok(hits.some((h: Json) => h.path === 'billing.ts'), JSON.stringify(hits));

      const embeds = provider.requests.slice(before).filter((r) => r.path === '/v1/embeddings');
      assert.ok(embeds.length >= 2, 'the index and the query were embedded by the provider');
      assert.ok(embeds.every((r) => r.headers.authorization === `Bearer ${PROVIDER_KEY}`));
      const reported = embeds.reduce((n, r) => n + r.reportedUsage!.prompt_tokens, 0);
      assert.ok(reported > 0);

      // The admin's table (the daemon method the usage view reads): Sam's embeddings are the provider's numbers.
      const owner = team.owner.person.session();
      await ok(conn, 'auth/setSession', { supabaseUrl: project.url, anonKey: project.anonKey, accessToken: owner.accessToken, refreshToken: owner.refreshToken });
      const report = await ok(conn, 'teams/gatewayUsage', { teamId: team.teamId });
      const samEmbeds = report.rows.filter((r: Json) => r.userId === second.person.id && r.kind === 'embedding');
      assert.deepEqual(samEmbeds.map((r: Json) => [r.model, r.requests, r.promptTokens, r.completionTokens]), [['text-embedding-3-small', embeds.length, reported, 0]]);
    } finally {
      await conn?.close().catch(() => undefined);
      if (d) await stopDaemon(d);
      await removeHome(home);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps embedding through the gateway when the access token expires during a run: the key is refreshed before the request', async () => {
    const person = await signIn(project, second.person.email, second.person.password);
    project.servers!.auth.accessTokenTtlSeconds = 2;
    try {
      await person.auth.auth.refreshSession();
    } finally {
      project.servers!.auth.accessTokenTtlSeconds = 3600;
    }
    const store = await storeFor(project, person);
    try {
      const config = await projectConfig(store, configFromEnv({}), team.projectId);
      assert.deepEqual([config.embeddings.model, config.embeddings.baseUrl], ['text-embedding-3-small', gateway.baseUrlFor(team.teamId)]);
      const embedder = await createEmbedder(config.embeddings);
      await sleep(2500);
      const rounds = person.refreshRounds;
      const [v] = await embedder.embed(['asked after the token expired']);
      assert.equal(v!.length, 1536);
      assert.equal(person.refreshRounds - rounds, 1, 'one refresh round, then the gateway accepted the fresh token');
    } finally {
      await store.close();
    }
  });

  it('limits the request rate per member', async () => {
    await reachAal2(team.owner.person);
    team.owner.store.setSession(team.owner.person.session());
    await team.owner.store.rpc('set_model_gateway', {
      p_team_id: team.teamId,
      p_allowed_models: ['gpt-4o-mini'],
      p_member_requests_per_minute: 2,
    });
    // A member who has made no request yet: earlier tests' requests of the others count in this minute.
    const freshMember = async (name: string): Promise<Member> => {
      const p = await signUp(project, name);
      await team.owner.store.rpc('invite_member', { p_team_id: team.teamId, p_email: p.email, p_role: 'member' });
      const m = await join({ project, person: (n) => signUp(project, n) }, p);
      const [inv] = await rpcUntyped<{ id: string }[]>(m.store, 'list_my_invitations');
      await m.store.rpc('accept_invitation', { p_invitation_id: inv!.id });
      return m;
    };
    const fresh = await freshMember('gw-rate');
    const other = await freshMember('gw-rate-2');
    try {
      await chat(fresh, 'one').catch((e) => assert.fail(`first request: ${(e as Error).message}`));
      await chat(fresh, 'two').catch((e) => assert.fail(`second request: ${(e as Error).message}`));
      const err = await chat(fresh, 'three').then(() => null, (e: { status?: number; headers?: Headers }) => e);
      assert.equal(err?.status, 429);
      const ra = Number((err?.headers as Headers | undefined)?.get?.('retry-after'));
      assert.ok(ra >= 1 && ra <= 60, `retry-after ${ra}`);
      assert.equal(await chat(other, 'still fine').catch((e) => assert.fail(`another member: ${(e as Error).message}`)), 'You said: still fine');
    } finally {
      await leaveAll([fresh, other]);
    }
  });
});
