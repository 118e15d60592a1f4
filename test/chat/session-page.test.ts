/**
 * `sessions/get` pages (daemon/src/chat/replies.ts readSessionPage): a reply comes with its tool steps folded in,
 * also when the page ends between the reply row and the rows of its steps, and the next page does not show
 * those steps again on their own.
 */
import assert from 'node:assert/strict';
import { AIMessage, ToolMessage } from '@langchain/core/messages';
import { SqlChatMessageHistory } from '../../daemon/src/chat/history.js';
import { readSessionPage } from '../../daemon/src/chat/replies.js';
import type { Store } from '../../daemon/src/store/types.js';
import { freshDb, storeAs, type TestDb } from '../support/db.js';

describe('sessions/get pages: replies with their tool steps', function () {
  this.timeout(180_000);
  let db: TestDb | null = null;
  afterEach(async () => {
    await db?.close();
    db = null;
  });

  /** A question, a reply that read two files (the second result very long), and a follow-up question. */
  async function conversation(store: Store, sessionId: string): Promise<{ replyId: string }> {
    const history = new SqlChatMessageHistory(store, sessionId);
    await history.addUserMessage('where is the retry logic?');
    const reply = await store.rpc('append_message', { p_session_id: sessionId, p_role: 'assistant', p_content: '', p_status: 'streaming' });
    const steps = new SqlChatMessageHistory(store, sessionId, reply.id);
    await steps.addMessage(new AIMessage({ content: '', tool_calls: [{ id: 'call_1', name: 'grep', args: { pattern: 'retry' }, type: 'tool_call' }] }));
    await steps.addMessage(new ToolMessage({ content: 'src/embed.ts:40: retry(', tool_call_id: 'call_1', name: 'grep' }));
    await steps.addMessage(new AIMessage({ content: '', tool_calls: [{ id: 'call_2', name: 'read_file', args: { path: 'src/embed.ts' }, type: 'tool_call' }] }));
    await steps.addMessage(new ToolMessage({ content: 'x'.repeat(5000), tool_call_id: 'call_2', name: 'read_file' }));
    await store.rpc('update_message', { p_message_id: reply.id, p_content: 'In src/embed.ts:40.', p_status: 'complete' });
    await history.addUserMessage('thanks');
    return { replyId: reply.id };
  }

  it('returns user messages and replies only, each reply with its calls and shortened results in order', async () => {
    const tdb = (db = await freshDb());
    const store = storeAs(tdb, await tdb.createUser('ana'));
    const session = await store.rpc('create_session', {});
    const { replyId } = await conversation(store, session.id);

    const page = await readSessionPage(store, session.id, 0, 200);
    assert.equal(page.nextAfterSeq, null);
    assert.deepEqual(
      page.messages.map((m) => [m.role, m.content]),
      [
        ['user', 'where is the retry logic?'],
        ['assistant', 'In src/embed.ts:40.'],
        ['user', 'thanks'],
      ],
    );
    const reply = page.messages[1]!;
    assert.equal(reply.id, replyId);
    assert.deepEqual(
      reply.tools.map((t) => [t.toolCallId, t.name, t.args, t.status]),
      [
        ['call_1', 'grep', { pattern: 'retry' }, 'done'],
        ['call_2', 'read_file', { path: 'src/embed.ts' }, 'done'],
      ],
    );
    assert.equal(reply.tools[0]!.result, 'src/embed.ts:40: retry(');
    assert.equal(reply.tools[1]!.result, `${'x'.repeat(2000)}…`, 'a long result is shortened as chat/tool shortens it');
    assert.deepEqual(page.messages[0]!.tools, []);
  });

  it('a page that ends on the reply row still brings its steps, and the next page starts after them', async () => {
    const tdb = (db = await freshDb());
    const store = storeAs(tdb, await tdb.createUser('ana'));
    const session = await store.rpc('create_session', {});
    await conversation(store, session.id);

    const first = await readSessionPage(store, session.id, 0, 2);
    assert.deepEqual(first.messages.map((m) => m.role), ['user', 'assistant']);
    assert.deepEqual(first.messages[1]!.tools.map((t) => t.toolCallId), ['call_1', 'call_2']);
    assert.equal(first.nextAfterSeq, 2);

    const rest: string[] = [];
    for (let after: number | null = first.nextAfterSeq; after !== null; ) {
      const page = await readSessionPage(store, session.id, after, 2);
      rest.push(...page.messages.map((m) => `${m.role}:${m.content}`));
      after = page.nextAfterSeq;
    }
    assert.deepEqual(rest, ['user:thanks'], 'the steps are not shown again on their own');
  });

  it('shows a call whose result is not in yet as running', async () => {
    const tdb = (db = await freshDb());
    const store = storeAs(tdb, await tdb.createUser('ana'));
    const session = await store.rpc('create_session', {});
    const reply = await store.rpc('append_message', { p_session_id: session.id, p_role: 'assistant', p_content: 'Let me look', p_status: 'streaming' });
    await new SqlChatMessageHistory(store, session.id, reply.id).addMessage(
      new AIMessage({ content: '', tool_calls: [{ id: 'call_x', name: 'read_file', args: { path: 'a' }, type: 'tool_call' }] }),
    );
    const [only] = (await readSessionPage(store, session.id, 0, 200)).messages;
    assert.equal(only!.status, 'streaming');
    assert.deepEqual(only!.tools, [{ toolCallId: 'call_x', name: 'read_file', args: { path: 'a' }, status: 'running' }]);
  });
});
