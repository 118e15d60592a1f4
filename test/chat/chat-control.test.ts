import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startHarness, type Harness } from './harness.js';
import { migratedTemplate } from '../support/db.js';
import { lastUserMessage } from '../support/openai-server.js';

const longReply = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');

describe('chat: cancel, provider errors, history budget, several clients', function () {
  this.timeout(60_000);
  let h: Harness;

  // The migrated database image every harness starts from is built once per process: here, not inside the
  // first test's budget (over 40 s on a loaded machine, which made the cancel test time out).
  before(() => migratedTemplate());

  afterEach(async () => {
    await h?.close();
  });

  it('chat/cancel stops generation promptly, aborts the model request and stores the partial reply as cancelled', async () => {
    h = await startHarness({ model: { responder: () => ({ content: longReply, chunkDelayMs: 40 }) } });
    const c = await h.connect();
    const sent = await c.client.request('chat/send', { root: h.workspace, content: 'talk for a while' });
    await c.waitFor('chat/delta', (d) => d.messageId === sent.replyId && d.index >= 3);
    const t0 = Date.now();
    assert.deepEqual(await c.client.request('chat/cancel', { sessionId: sent.sessionId }), { cancelled: true });
    const done = await c.done(sent.replyId);
    const took = Date.now() - t0;
    assert.equal(done.status, 'cancelled');
    assert.ok(took < 1500, `cancel took ${took} ms`);
    const partial = c.text(sent.replyId);
    assert.ok(partial.startsWith('word0 word1 word2'), partial);
    assert.ok(partial.length < longReply.length);

    const { messages } = await c.client.request('sessions/get', { sessionId: sent.sessionId });
    const reply = messages.find((m) => m.id === sent.replyId)!;
    assert.equal(reply.status, 'cancelled');
    assert.equal(reply.content, partial);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(h.model!.requests.find((r) => r.path === '/v1/chat/completions')!.aborted, true, 'the HTTP request to the model was aborted');
    // Nothing is left running: a new message in the same session is accepted.
    const next = await c.client.request('chat/send', { sessionId: sent.sessionId, content: 'again' });
    await c.client.request('chat/cancel', { messageId: next.replyId });
    assert.equal((await c.done(next.replyId)).status, 'cancelled');
  });

  it('a stream cut in the middle is stored as failed, with a clear ProviderError to the client', async () => {
    h = await startHarness({ model: {} });
    h.model!.queue({ content: longReply, cutAfterChunks: 5 });
    const c = await h.connect();
    const sent = await c.client.request('chat/send', { root: h.workspace, content: 'tell me' });
    const done = await c.done(sent.replyId);
    assert.equal(done.status, 'failed');
    assert.equal(done.error?.code, 'ProviderError');
    assert.match(done.error!.message, /broke in the middle of the reply/);
    assert.match(done.error!.message, new RegExp(h.model!.baseURL.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
    const { messages } = await c.client.request('sessions/get', { sessionId: sent.sessionId });
    const reply = messages.find((m) => m.id === sent.replyId)!;
    assert.equal(reply.status, 'failed');
    assert.equal(reply.content, 'word0 word1 word2 word3 word4');
    assert.equal((reply.metadata.error as { code: string }).code, 'ProviderError');
  });

  it('provider errors read clearly and never echo the key: 401, 429 with retry-after, 500', async () => {
    h = await startHarness({ model: {} });
    const c = await h.connect();
    const cases = [
      { replies: [{ error: { status: 401 as const } }], code: 'ProviderError', message: /refused the API key \(HTTP 401\)/ },
      // The client retries once (maxRetries 1), so each retried case is scripted twice.
      { replies: [{ error: { status: 429 as const, retryAfterSeconds: 1 } }, { error: { status: 429 as const, retryAfterSeconds: 1 } }], code: 'QuotaExceeded', message: /rate limiting requests \(HTTP 429\).*Retry after 1 s/ },
      { replies: [{ error: { status: 500 as const } }, { error: { status: 500 as const } }], code: 'ProviderError', message: /failed \(HTTP 500\)/ },
    ];
    for (const k of cases) {
      h.model!.queue(...k.replies);
      const sent = await c.client.request('chat/send', { root: h.workspace, content: 'hello' });
      const done = await c.done(sent.replyId);
      assert.equal(done.status, 'failed');
      assert.equal(done.error?.code, k.code);
      assert.match(done.error!.message, k.message);
      assert.doesNotMatch(done.error!.message, /sk-test-key/);
      const { messages } = await c.client.request('sessions/get', { sessionId: sent.sessionId });
      assert.equal(messages.find((m) => m.id === sent.replyId)!.status, 'failed');
    }
    assert.equal(h.model!.chatRequests().length, 5, 'one try for 401, two for 429 and 500');
  });

  it('says what is wrong with the model settings, with the fix, before or instead of a bare provider error', async () => {
    h = await startHarness({ model: {} });
    const c = await h.connect();
    // A non-OpenAI server (a static site, a proxy) answering 405 to the chat request.
    const other = createServer((_req, res) => {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/html' });
      res.end('<h1>405 Not Allowed</h1>');
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    try {
      const cases: { chat: { baseUrl: string }; key: string | null; code: string; message: RegExp; requests: number }[] = [
        // Typed as Ollama prints it, without a scheme.
        { chat: { baseUrl: 'localhost:11434' }, key: null, code: 'ModelNotConfigured', message: /“localhost:11434” has no scheme: add http:\/\/ .*http:\/\/localhost:11434/, requests: 0 },
        // A hosted provider and no key: said up front, not forwarded as a 401.
        { chat: { baseUrl: 'https://api.example.invalid/v1' }, key: null, code: 'ModelNotConfigured', message: /^No API key set for https:\/\/api\.example\.invalid\/v1\.$/, requests: 0 },
        // A local server that wants a key after all.
        { chat: { baseUrl: h.model!.baseURL }, key: null, code: 'ProviderError', message: /^No API key set for http:\/\/127\.0\.0\.1:\d+\/v1, and the server there wants one \(HTTP 401\)/, requests: 1 },
        { chat: { baseUrl: otherUrl }, key: 'sk-test-key', code: 'ProviderError', message: /HTTP 405 Method Not Allowed\): the base URL is probably wrong.*\/v1/, requests: 0 },
      ];
      for (const k of cases) {
        await c.client.request('daemon/configure', { settings: { chat: { baseUrl: k.chat.baseUrl, model: 'gpt-test' } }, secrets: { chatApiKey: k.key } });
        const before = h.model!.chatRequests().length;
        const sent = await c.client.request('chat/send', { root: h.workspace, content: 'hello' });
        const done = await c.done(sent.replyId);
        assert.equal(done.status, 'failed', k.chat.baseUrl);
        assert.equal(done.error?.code, k.code, done.error?.message);
        assert.match(done.error!.message, k.message);
        assert.doesNotMatch(done.error!.message, /OPENAI_API_KEY|sk-test-key/);
        assert.equal(h.model!.chatRequests().length - before, k.requests, `requests to the model for ${k.chat.baseUrl}`);
      }
    } finally {
      other.close();
    }
  });

  it('trims old turns to the history budget, keeping the system prompt and the newest turns', async () => {
    const budget = 400;
    h = await startHarness({ model: { responder: (b) => ({ content: `ok ${lastUserMessage(b).slice(0, 12)}` }) }, chat: { historyTokens: budget } });
    const c = await h.connect();
    let sessionId: string | undefined;
    const filler = 'lorem ipsum dolor sit amet '.repeat(12);
    let lastDone;
    for (let i = 1; i <= 6; i++) {
      const sent = await c.client.request('chat/send', { ...(sessionId ? { sessionId } : { root: h.workspace }), content: `turn ${i}: ${filler}` });
      sessionId = sent.sessionId;
      lastDone = await c.done(sent.replyId);
    }
    // The client is told that older messages were left out, so context never drops silently.
    assert.ok((lastDone?.historyTrimmed?.droppedMessages ?? 0) >= 2);
    const last = h.model!.chatRequests().at(-1)!;
    assert.equal(last.messages[0]!.role, 'system');
    assert.equal(last.messages[1]!.role, 'user', 'a trimmed history starts on a user message');
    assert.match(lastUserMessage(last), /^turn 6:/);
    assert.doesNotMatch(JSON.stringify(last.messages), /turn 1:/, 'the oldest turn was dropped');
    const { countTokens } = await import('../../daemon/src/chat/tokens.js');
    const tokens = last.messages.reduce((n, m) => n + 4 + countTokens(String(m.content)), 3);
    assert.ok(tokens <= budget, `history sent was ${tokens} tokens, budget ${budget}`);
    const { messages } = await c.client.request('sessions/get', { sessionId: sessionId! });
    const trimmed = messages.at(-1)!.metadata.historyTrimmed as { droppedMessages: number };
    assert.ok(trimmed.droppedMessages >= 2);
    // Nothing is deleted: all 12 messages remain in the session.
    assert.equal(messages.length, 12);

    // One message alone over the budget still reaches the model, cut to fit, instead of an empty request.
    const huge = await c.client.request('chat/send', { sessionId: sessionId!, content: `huge ${'token '.repeat(2000)}` });
    const hugeDone = await c.done(huge.replyId);
    assert.equal(hugeDone.status, 'complete', JSON.stringify(hugeDone.error));
    const req = h.model!.chatRequests().at(-1)!;
    assert.match(lastUserMessage(req), /^huge token token/);
    assert.match(lastUserMessage(req), /cut to fit/);
  });

  it('two clients on one session both receive every delta and the end', async () => {
    h = await startHarness({ model: { responder: () => ({ content: 'shared answer for the whole team to read', chunkDelayMs: 5 }) } });
    const a = await h.connect();
    const b = await h.connect();
    const session = await a.client.request('sessions/create', { root: h.workspace });
    assert.deepEqual(await b.client.request('sessions/subscribe', { sessionId: session.id }), { subscribed: true });
    const sent = await a.client.request('chat/send', { sessionId: session.id, content: 'hi both' });
    const [doneA, doneB] = await Promise.all([a.done(sent.replyId), b.done(sent.replyId)]);
    assert.equal(doneA.status, 'complete');
    assert.equal(doneB.status, 'complete');
    assert.ok(a.of('chat/delta', sent.replyId).length >= 5);
    assert.deepEqual(b.of('chat/delta', sent.replyId), a.of('chat/delta', sent.replyId));
    assert.equal(b.text(sent.replyId), 'shared answer for the whole team to read');
    // A third client that did not subscribe gets none of it.
    const other = await h.connect();
    await other.client.request('sessions/list', {});
    assert.equal(other.of('chat/delta').length, 0);
  });

  it('sessions: list most recent first and paged, rename, archive, share (refused without a team, allowed in a team project), delete', async () => {
    h = await startHarness({ model: { responder: () => ({ content: 'ok' }) } });
    const c = await h.connect();
    const ids: string[] = [];
    for (const q of ['alpha question', 'beta question', 'gamma question']) {
      const sent = await c.client.request('chat/send', { root: h.workspace, content: q });
      await c.done(sent.replyId);
      ids.push(sent.sessionId);
    }
    const page1 = await c.client.request('sessions/list', { root: h.workspace, limit: 2 });
    assert.deepEqual(page1.sessions.map((s) => s.title), ['gamma question', 'beta question']);
    assert.ok(page1.nextBefore);
    const page2 = await c.client.request('sessions/list', { root: h.workspace, limit: 2, before: page1.nextBefore! });
    assert.deepEqual(page2.sessions.map((s) => s.title), ['alpha question']);
    assert.equal(page2.nextBefore, null);

    const renamed = await c.client.request('sessions/rename', { sessionId: ids[0]!, title: 'Renamed' });
    assert.equal(renamed.title, 'Renamed');
    await c.client.request('sessions/archive', { sessionId: ids[1]! });
    const visible = await c.client.request('sessions/list', { root: h.workspace });
    assert.deepEqual(visible.sessions.map((s) => s.id).sort(), [ids[0]!, ids[2]!].sort());
    await assert.rejects(c.client.request('sessions/share', { sessionId: ids[0]!, visibility: 'team' }), /team/);
    await c.client.request('sessions/delete', { sessionId: ids[2]! });
    await assert.rejects(c.client.request('sessions/get', { sessionId: ids[2]! }), /not found/);

    // In a team project a session can be shared with the team and taken back.
    const team = await h.store.rpc('create_team', { p_name: 'Core' });
    const project = await h.store.rpc('ensure_project', { p_root_uri: 'file:///srv/core', p_name: 'core', p_team_id: team.id });
    const teamSession = await c.client.request('sessions/create', { projectId: project.id, title: 'Design review' });
    assert.equal((await c.client.request('sessions/share', { sessionId: teamSession.id, visibility: 'team' })).visibility, 'team');
    assert.equal((await c.client.request('sessions/share', { sessionId: teamSession.id, visibility: 'private' })).visibility, 'private');
  });

  it('sessions/changed tells subscribers of topic `sessions` about new sessions, replies and the title the model gave', async () => {
    h = await startHarness({
      chat: { titleWithModel: true },
      model: {
        responder: (b) =>
          /title of at most six words/.test(String(b.messages[0]!.content)) ? { content: '"Resumable indexing explained."' } : { content: 'Each file is one transaction.' },
      },
    });
    const watcher = await h.connect();
    await watcher.client.request('daemon/subscribe', { topics: ['sessions'] });
    const c = await h.connect();
    const sent = await c.client.request('chat/send', { root: h.workspace, content: 'How does indexing resume after a crash?' });
    await c.done(sent.replyId);
    const created = await watcher.waitFor('sessions/changed', (p) => p.sessionId === sent.sessionId && p.change === 'created');
    // Named after the question at once, so a reply that never finishes still leaves a recognisable session.
    assert.equal(created.session?.title, 'How does indexing resume after a crash?');
    const titled = await watcher.waitFor('sessions/changed', (p) => p.sessionId === sent.sessionId && p.session?.title === 'Resumable indexing explained');
    assert.equal(titled.change, 'updated');
    // The title request asked for a title, and its tokens were recorded too.
    assert.equal(h.model!.chatRequests().length, 2);
    assert.equal((await h.store.stats()).tables.api_usage, 2);
    // A later reply does not rename the session again.
    await c.client.request('sessions/rename', { sessionId: sent.sessionId, title: 'Mine' });
    const next = await c.client.request('chat/send', { sessionId: sent.sessionId, content: 'more' });
    await c.done(next.replyId);
    await watcher.waitFor('sessions/changed', (p) => p.sessionId === sent.sessionId && p.change === 'updated' && p.session?.title === 'Mine' && p.session.updatedAt > titled.session!.updatedAt);
    assert.equal((await c.client.request('sessions/get', { sessionId: sent.sessionId })).session.title, 'Mine');
  });
});
