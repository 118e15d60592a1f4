/**
 * The chat model (extension/src/chat/model.ts) and the chat page (html.ts), without an editor: stored replies
 * show their tool steps as the live reply did, a teammate's change merges without losing the reply streaming
 * to us or a message that failed to send, and the page loads only its own nonce'd script.
 */
import assert from 'node:assert/strict';
import { ChatModel, toEntries, type StoredMessage } from '../../extension/src/chat/model.js';
import { chatPageCsp, chatPageHtml } from '../../extension/src/chat/html.js';

const sessionId = '6f1d3c2a-8b7e-4c1f-9a2d-0e5b7c9d1a23';
const me = '4a5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d';
const teammate = '0b8e2f4c-1d3a-4e5f-8a7b-9c0d1e2f3a4b';
let n = 0;

function stored(m: Partial<StoredMessage> & Pick<StoredMessage, 'role' | 'content'>): StoredMessage {
  n++;
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    sessionId,
    seq: n,
    authorId: me,
    status: 'complete',
    toolCalls: null,
    toolCallId: null,
    name: null,
    metadata: {},
    createdAt: '2026-12-07T18:00:00.000Z',
    tools: [],
    ...m,
  };
}

const session = { id: sessionId, title: 'Retries', projectId: null, agentId: null, ownerId: me, visibility: 'team' as const, archived: false, createdAt: '', updatedAt: '' };

describe('chat model', () => {
  it("shows a stored reply with its tool steps, its error, and a teammate's message with their name", () => {
    const question = stored({ role: 'user', content: 'where?', authorId: teammate });
    const reply = stored({
      role: 'assistant',
      content: 'In embed.ts.',
      status: 'failed',
      metadata: { error: { code: 'ModelError', message: 'the model went away' } },
      tools: [{ toolCallId: 'call_1', name: 'grep', args: { pattern: 'retry' }, status: 'done', result: 'embed.ts:40' }],
    });
    const entries = toEntries([question, reply], (id) => (id === teammate ? 'Bob' : undefined));
    assert.deepEqual(entries[0], { id: question.id, role: 'user', content: 'where?', status: 'complete', tools: [], author: 'Bob' });
    assert.deepEqual(entries[1]!.tools, reply.tools);
    assert.deepEqual(entries[1]!.error, { code: 'ModelError', message: 'the model went away' });
    entries[1]!.tools[0]!.status = 'running';
    assert.equal(reply.tools[0]!.status, 'done', 'the model does not write into what the daemon returned');
  });

  it('streams a reply: deltas, a tool call then its result in place, and the end', () => {
    const chat = new ChatModel();
    assert.equal(chat.isCurrent(sessionId, true), true, 'while sending, the first session that speaks is ours');
    assert.equal(chat.isCurrent(sessionId, false), false);
    chat.open(sessionId, session, 'owner', [], () => undefined);
    const messageId = '11111111-1111-4111-8111-111111111111';
    chat.delta({ sessionId, messageId, delta: 'Look', index: 0 });
    chat.tool({ sessionId, messageId, toolCallId: 'c1', name: 'grep', args: {}, status: 'running' });
    chat.tool({ sessionId, messageId, toolCallId: 'c1', name: 'grep', args: {}, status: 'done', result: 'x' });
    chat.delta({ sessionId, messageId, delta: 'ing', index: 1 });
    assert.equal(chat.streaming?.id, messageId);
    chat.done({ sessionId, messageId, status: 'complete' });
    assert.deepEqual(chat.entries, [{ id: messageId, role: 'assistant', content: 'Looking', status: 'complete', tools: [{ toolCallId: 'c1', name: 'grep', args: {}, status: 'done', result: 'x' }] }]);
    assert.equal(chat.streaming, undefined);
  });

  it("merges a teammate's change, keeping the reply streaming to us and a message that failed to send", () => {
    const chat = new ChatModel();
    const q1 = stored({ role: 'user', content: 'first' });
    const mine = stored({ role: 'assistant', content: 'Par', status: 'streaming' });
    chat.open(sessionId, session, 'owner', [q1, mine], () => undefined);
    chat.ensureReply(mine.id).content = 'Partial answer';
    chat.entries.push({ id: 'local-1', role: 'user', content: 'not sent', status: 'failed', tools: [] });
    assert.equal(chat.rereadFrom(), mine.seq - 1, 're-read from the first unfinished message');

    const theirs = stored({ role: 'user', content: 'a teammate asks', authorId: teammate });
    chat.merge(chat.rereadFrom(), [{ ...mine, content: 'Partial' }, theirs], (id) => (id === teammate ? 'Bob' : undefined));
    assert.deepEqual(
      chat.entries.map((e) => [e.content, e.author ?? 'me']),
      [
        ['first', 'me'],
        ['Partial answer', 'me'],
        ['a teammate asks', 'Bob'],
        ['not sent', 'me'],
      ],
    );
    assert.equal(chat.rereadFrom(), mine.seq - 1);
  });

  it('ends what was streaming when the daemon goes away, and says so', () => {
    const chat = new ChatModel();
    chat.ensureReply('r1').content = 'half';
    assert.equal(chat.connectionLost('the process exited'), true);
    assert.equal(chat.entries[0]!.status, 'failed');
    assert.match(chat.entries[0]!.error!.message, /daemon stopped during this reply \(the process exited\)/);
    assert.equal(chat.connectionLost('again'), false, 'nothing left to end');
  });

  it('a new chat forgets the session, its entries, its error and its replies', () => {
    const chat = new ChatModel();
    chat.open(sessionId, session, 'read', [stored({ role: 'user', content: 'hi' })], () => undefined);
    chat.error = { message: 'x', actions: [] };
    chat.ensureReply('r2');
    chat.clear();
    assert.deepEqual(chat.snapshot(true), { sessionId: null, title: null, entries: [], agentId: 'default', connected: true, access: 'owner', error: null, indexed: null });
    assert.equal(chat.ownReplies.size, 0);
  });
});

describe('chat page', () => {
  it('loads only its own script and styles, by a fresh nonce, and nothing inline', () => {
    const sources = { cspSource: 'https://file+.vscode-resource.vscode-cdn.net', asset: (p: string) => `https://assets.test/${p}` };
    const html = chatPageHtml(sources);
    const nonce = /script-src 'nonce-([A-Za-z0-9]{32})'/.exec(html)?.[1];
    assert.ok(nonce, 'a 32-character nonce');
    assert.equal(chatPageHtml(sources).includes(nonce), false, 'every page gets its own nonce');
    assert.match(html, new RegExp(`<script nonce="${nonce}" src="https://assets.test/main.js"></script>`));
    assert.doesNotMatch(html, /unsafe-inline|unsafe-eval/);
    assert.equal(chatPageCsp('S', 'N'), "default-src 'none'; style-src S 'nonce-N'; font-src S; img-src S data:; script-src 'nonce-N'");
  });
});
