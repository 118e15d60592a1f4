import assert from 'node:assert/strict';
import { DaemonResponseError } from '../../daemon/src/protocol/client/client.js';
import { startHarness, type Harness } from './harness.js';
import { lastUserMessage, toolResults } from '../support/openai-server.js';

describe('chat over WebSocket with a streaming model', function () {
  this.timeout(60_000);
  let h: Harness;

  afterEach(async () => {
    await h?.close();
  });

  it('commits the user message, streams several deltas, and stores the complete reply with usage', async () => {
    h = await startHarness({ model: { responder: (b) => ({ content: `Indexing resumes per file, you asked: ${lastUserMessage(b)}.`, chunkDelayMs: 5 }) } });
    const c = await h.connect();
    const sent = await c.client.request('chat/send', { root: h.workspace, content: 'How does indexing resume?' });
    // The user message is stored by the time chat/send answers.
    const early = await c.client.request('sessions/get', { sessionId: sent.sessionId });
    assert.equal(early.messages[0]!.id, sent.messageId);
    assert.equal(early.messages[0]!.content, 'How does indexing resume?');

    const done = await c.done(sent.replyId);
    assert.equal(done.status, 'complete');
    const deltas = c.of('chat/delta', sent.replyId);
    assert.ok(deltas.length >= 5, `expected several deltas, got ${deltas.length}`);
    assert.deepEqual(
      deltas.map((d) => d.index),
      deltas.map((_, i) => i),
    );
    assert.equal(c.text(sent.replyId), 'Indexing resumes per file, you asked: How does indexing resume?.');
    assert.equal(done.usage?.model, 'gpt-test');
    assert.ok((done.usage?.promptTokens ?? 0) > 0 && (done.usage?.completionTokens ?? 0) > 0);

    const got = await c.client.request('sessions/get', { sessionId: sent.sessionId });
    const reply = got.messages.find((m) => m.id === sent.replyId)!;
    assert.equal(reply.status, 'complete');
    assert.equal(reply.content, c.text(sent.replyId));
    // Title derived from the first message (titleWithModel is off in the harness).
    assert.equal(got.session.title, 'How does indexing resume?');

    // The client sent a streaming request with usage, the system prompt and the user's words.
    const req = h.model!.chatRequests()[0]!;
    assert.equal(req.stream, true);
    assert.equal(req.stream_options?.include_usage, true);
    assert.equal(req.model, 'gpt-test');
    assert.equal(req.messages[0]!.role, 'system');
    assert.equal(lastUserMessage(req), 'How does indexing resume?');

    // One usage row per model call, and the stored reply carries the same totals.
    assert.equal((await h.store.stats()).tables.api_usage, 1);
    assert.deepEqual(reply.metadata.usage, { promptTokens: done.usage!.promptTokens, completionTokens: done.usage!.completionTokens });
  });

  it('sends earlier turns as history on the next message of the session', async () => {
    h = await startHarness({ model: { responder: (b) => ({ content: `echo ${lastUserMessage(b)}` }) } });
    const c = await h.connect();
    const first = await c.client.request('chat/send', { root: h.workspace, content: 'first question' });
    await c.done(first.replyId);
    const second = await c.client.request('chat/send', { sessionId: first.sessionId, content: 'second question' });
    await c.done(second.replyId);
    const req = h.model!.chatRequests()[1]!;
    assert.deepEqual(
      req.messages.map((m) => [m.role, m.content]),
      [
        ['system', req.messages[0]!.content],
        ['user', 'first question'],
        ['assistant', 'echo first question'],
        ['user', 'second question'],
      ],
    );
  });

  it('refuses a second message while a reply is still streaming in the session', async () => {
    h = await startHarness({ model: { responder: () => ({ content: 'a slow reply with many words in it', chunkDelayMs: 50 }) } });
    const c = await h.connect();
    const first = await c.client.request('chat/send', { root: h.workspace, content: 'one' });
    await assert.rejects(
      c.client.request('chat/send', { sessionId: first.sessionId, content: 'two' }),
      (e: unknown) => e instanceof DaemonResponseError && e.codeName === 'Busy',
    );
    await c.done(first.replyId);
  });

  it('round-trips a tool call: the call and its result are shown to the client live and read back with the reply', async () => {
    h = await startHarness({
      files: { 'docs/indexing.md': '# Indexing\n\nEach file is written in one transaction.\nA crash loses at most one file.\n' },
      model: {
        responder: (b) => {
          const results = toolResults(b);
          if (results.size === 0) return { toolCalls: [{ id: 'call_read1', name: 'read_file', arguments: { path: 'docs/indexing.md' } }] };
          return { content: `The doc says: ${[...results.values()][0]!.split('\n')[3]!.split('\t')[1]}` };
        },
      },
    });
    const c = await h.connect();
    const sent = await c.client.request('chat/send', { root: h.workspace, content: 'How is a file written?' });
    const done = await c.done(sent.replyId);
    assert.equal(done.status, 'complete');
    const tools = c.of('chat/tool', sent.replyId);
    assert.deepEqual(
      tools.map((t) => [t.name, t.status, t.toolCallId]),
      [
        ['read_file', 'running', 'call_read1'],
        ['read_file', 'done', 'call_read1'],
      ],
    );
    assert.deepEqual(tools[0]!.args, { path: 'docs/indexing.md' });
    assert.match(tools[1]!.result!, /Each file is written in one transaction/);
    assert.equal(c.text(sent.replyId), 'The doc says: Each file is written in one transaction.');

    // The second model request carried the tool result back.
    const second = h.model!.chatRequests()[1]!;
    assert.match(toolResults(second).get('call_read1')!, /^docs\/indexing\.md:1-/);
    assert.equal((await h.store.stats()).tables.api_usage, 2, 'a usage row per model call');

    // Read back, the reply carries its tool step as chat/tool announced it; the step's rows are not messages of their own.
    const { messages } = await c.client.request('sessions/get', { sessionId: sent.sessionId });
    assert.deepEqual(messages.map((m) => m.role), ['user', 'assistant']);
    const reply = messages.find((m) => m.id === sent.replyId)!;
    const { sessionId: _session, messageId: _reply, ...live } = tools[1]!;
    assert.deepEqual(reply.tools, [live]);

    // A follow-up question sends the tool steps back in the order the model produced them.
    const next = await c.client.request('chat/send', { sessionId: sent.sessionId, content: 'thanks' });
    await c.done(next.replyId);
    const third = h.model!.chatRequests()[2]!;
    assert.deepEqual(
      third.messages.map((m) => m.role),
      ['system', 'user', 'assistant', 'tool', 'assistant', 'user'],
    );
  });
});
