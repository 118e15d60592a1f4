import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { cairn, logText, ready, waitFor } from './helpers.js';
import { MODEL_KEY_SECRET } from '../../../extension/src/settings.js';
import type { CairnApi } from '../../../extension/src/extension.js';

function lastReply(api: CairnApi) {
  const entries = api.chat.snapshot().entries;
  return entries[entries.length - 1];
}

describe('chat', function () {
  this.timeout(120_000);

  before(async () => {
    const api = await cairn();
    const client = await ready(api);
    // The key goes where "Cairn: Set Model API Key" puts it; secrets.onDidChange hands it to the daemon.
    await api.ctx.extension.secrets.store(MODEL_KEY_SECRET, process.env.CAIRN_TEST_MODEL_KEY!);
    await waitFor('the daemon to hold the model key', async () => {
      const c = await client.request('daemon/configure', {});
      return c.chat.hasApiKey && c.chat.baseUrl !== null;
    });
    await vscode.commands.executeCommand('cairn.newChat');
  });

  it('streams a reply into the chat and stores it in the session', async () => {
    const api = await cairn();
    const client = await ready(api);
    const deltas: string[] = [];
    const sub = api.ctx.onNotification('chat/delta', (p) => deltas.push(p.delta));
    try {
      await api.chat.send('Where is the tax rebate computed?');
      const reply = await waitFor('the reply to complete', () => {
        const r = lastReply(api);
        return r?.role === 'assistant' && r.status !== 'streaming' ? r : null;
      });
      assert.equal(reply.status, 'complete', reply.error?.message);
      assert.match(reply.content, /computeQuarterlyTaxRebate/);
      assert.ok(deltas.length >= 3, `the reply arrived in ${deltas.length} deltas`);
      const sessionId = api.chat.snapshot().sessionId!;
      const stored = await client.request('sessions/get', { sessionId });
      assert.deepEqual(stored.messages.map((m) => m.role), ['user', 'assistant']);
      assert.equal(stored.messages[1]?.content, reply.content, 'what the view shows is what was stored');
    } finally {
      sub.dispose();
    }
  });

  it('stops a reply mid-stream and keeps what arrived', async () => {
    const api = await cairn();
    await api.chat.send('Please answer slowly');
    await waitFor('some streamed words', () => (lastReply(api)?.content.includes('word3') ? true : null));
    await api.chat.stop();
    const reply = await waitFor('the reply to stop', () => (lastReply(api)?.status === 'cancelled' ? lastReply(api) : null), 10_000);
    assert.ok(!reply!.content.includes('The end.'), 'the reply stopped before its end');
  });

  it('shows a huge reply without freezing the editor', async () => {
    const api = await cairn();
    await api.chat.send('Give me a huge answer');
    const reply = await waitFor('the huge reply', () => {
      const r = lastReply(api);
      return r?.role === 'assistant' && r.status !== 'streaming' ? r : null;
    }, 60_000);
    assert.equal(reply.status, 'complete', reply.error?.message);
    assert.ok(reply.content.length >= 500_000, `reply length ${reply.content.length}`);
    // The extension host still answers promptly.
    const t0 = Date.now();
    await vscode.commands.executeCommand('workbench.action.files.newUntitledFile');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    assert.ok(Date.now() - t0 < 3000, `a command took ${Date.now() - t0} ms after the huge reply`);
  });

  it('shows one clear error box for a refused key, logs it, and clears the box once the key is fixed', async () => {
    const api = await cairn();
    const secrets = api.ctx.extension.secrets;
    await vscode.commands.executeCommand('cairn.newChat');
    try {
      await secrets.store(MODEL_KEY_SECRET, 'sk-wrong-key-for-the-test');
      await api.ctx.configure();
      await api.chat.send('Where is the tax rebate computed?');
      const reply = await waitFor('the reply to fail', () => (lastReply(api)?.status === 'failed' ? lastReply(api) : null), 30_000);
      const box = await waitFor('the error box', () => api.chat.snapshot().error);
      assert.doesNotMatch(box.message, /\[object Object\]/);
      // One message, said once: the daemon's words (what failed, where, and the fix), not a prefix over them.
      assert.equal(box.message, reply!.error?.message);
      assert.match(box.message, /refused the API key \(HTTP 401\)/);
      assert.doesNotMatch(box.message, /OPENAI_API_KEY|sk-wrong/);
      assert.ok(box.actions.some((a) => a.command === 'cairn.setModelApiKey'), 'the box offers to set the key');
      await waitFor('the failure in the Output channel', () => logText(api).includes('chat reply failed (ProviderError): The model provider refused the API key'));
    } finally {
      await secrets.store(MODEL_KEY_SECRET, process.env.CAIRN_TEST_MODEL_KEY!);
    }
    // Fixing the key is what the box asked for: it goes without a dismiss.
    await waitFor('the error box to clear after the key was fixed', () => api.chat.snapshot().error === null, 10_000);
  });

  it('marks the reply failed when the daemon dies mid-chat, and reloads the open chat after reconnecting', async () => {
    const api = await cairn();
    await vscode.commands.executeCommand('cairn.newChat');
    await api.chat.send('Tell me about deployments, slowly');
    await waitFor('some streamed words', () => (lastReply(api)?.content.includes('word2') ? true : null));
    const sessionId = api.chat.snapshot().sessionId;
    const { pid } = JSON.parse(readFileSync(join(process.env.CAIRN_HOME!, 'daemon.json'), 'utf8')) as { pid: number };
    process.kill(pid, 'SIGKILL');
    const failed = await waitFor('the reply to be marked failed', () => (lastReply(api)?.status === 'failed' ? lastReply(api) : null), 10_000);
    assert.match(failed!.error?.message ?? '', /daemon stopped/i);
    await ready(api);
    await waitFor('the chat to reload', () => api.chat.snapshot().sessionId === sessionId && api.chat.snapshot().entries.length >= 2);
    const entries = api.chat.snapshot().entries;
    assert.equal(entries[0]?.content, 'Tell me about deployments, slowly', 'the user message survived the crash');
    assert.notEqual(entries[1]?.status, 'streaming', 'the interrupted reply is not left streaming');
  });
});
