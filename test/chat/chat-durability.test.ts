import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { DaemonClient } from '../../daemon/src/protocol/client/client.js';
import { EmbeddedStore } from '../../daemon/src/store/embedded.js';
import type { DiscoveryInfo } from '../../daemon/src/protocol/client/discovery.js';
import { migratedTemplate } from '../support/db.js';
import { startOpenAIServer, type FakeOpenAIServer } from '../support/openai-server.js';
import { RecordingClient, seedKnowledgeBase, startHarness, type Harness } from './harness.js';
import { toMessage } from '../../daemon/src/chat/rows.js';

const child = resolve(import.meta.dirname, 'fixtures', 'daemon-child.ts');

function startChild(env: NodeJS.ProcessEnv): Promise<{ proc: ChildProcess; info: DiscoveryInfo }> {
  return new Promise((resolvePromise, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child], { env, stdio: ['ignore', 'pipe', 'pipe'], cwd: resolve(import.meta.dirname, '..', '..') });
    let stderr = '';
    proc.stderr!.on('data', (d) => (stderr += String(d)));
    const lines = createInterface({ input: proc.stdout! });
    lines.once('line', (line) => resolvePromise({ proc, info: JSON.parse(line) as DiscoveryInfo }));
    proc.once('exit', (code) => reject(new Error(`daemon child exited with ${code}: ${stderr}`)));
  });
}

describe('chat durability', function () {
  this.timeout(120_000);

  describe('kill -9 of the daemon in the middle of a reply', function () {
    // Two cold daemon processes (tsx + PGlite each): measured 30-45 s per start at load 20-24 on 2 cores (1-3 s
    // idle), so 104 s for the whole test in such a run even from the migrated image; the budget is sized from that.
    this.timeout(180_000);
    let home: string;
    let model: FakeOpenAIServer;
    const procs: ChildProcess[] = [];
    const clients: DaemonClient[] = [];
    let templateFile: string;

    // The migrated database image, built once per process (in a hook, so its cost is not the test's budget);
    // the child starts its fresh home from it, as the in-process harness does.
    before(async () => {
      home = await mkdtemp(join(tmpdir(), 'cairn-chat-kill-'));
      templateFile = join(home, 'template.tar.gz');
      await writeFile(templateFile, Buffer.from(await (await migratedTemplate()).arrayBuffer()));
    });

    after(async () => {
      for (const c of clients) await c.close().catch(() => undefined);
      for (const p of procs) if (p.exitCode === null && p.signalCode === null && p.pid) process.kill(p.pid, 'SIGKILL');
      await model?.close();
      if (home) await rm(home, { recursive: true, force: true });
    });

    it('keeps the user message and the partial reply, marked failed after restart (never missing, never streaming)', async () => {
      const workspace = join(home, 'workspace');
      await mkdir(workspace);
      model = await startOpenAIServer({ responder: () => ({ content: Array.from({ length: 200 }, (_, i) => `w${i}`).join(' '), chunkDelayMs: 20 }) });
      const env = { ...process.env, CAIRN_HOME: home, CAIRN_PORT: '0', CAIRN_MODEL_BASE_URL: model.baseURL, CAIRN_MODEL: 'gpt-test', OPENAI_API_KEY: 'sk-x', CAIRN_TEST_TEMPLATE: templateFile };

      const first = await startChild(env);
      procs.push(first.proc);
      const c1 = new RecordingClient(await DaemonClient.connect(first.info));
      clients.push(c1.client);
      const sent = await c1.client.request('chat/send', { root: workspace, content: 'a question before the crash' });
      await c1.waitFor('chat/delta', (d) => d.messageId === sent.replyId && d.index >= 30);
      // Past at least one periodic save (every 200 ms in the child).
      await new Promise((r) => setTimeout(r, 300));
      const streamedBeforeKill = c1.text(sent.replyId);
      first.proc.kill('SIGKILL');
      await new Promise((r) => first.proc.once('exit', r));

      const second = await startChild(env);
      procs.push(second.proc);
      const c2 = await DaemonClient.connect(second.info);
      clients.push(c2);
      const { session, messages } = await c2.request('sessions/get', { sessionId: sent.sessionId });
      // Named after its question, not left as one more "New chat" in the Sessions view.
      assert.equal(session.title, 'a question before the crash');
      const user = messages.find((m) => m.id === sent.messageId);
      const reply = messages.find((m) => m.id === sent.replyId);
      assert.equal(user?.content, 'a question before the crash');
      assert.equal(user?.status, 'complete');
      assert.ok(reply, 'the reply row exists');
      assert.equal(reply.status, 'failed');
      assert.match(String(reply.metadata.error), /stopped before the reply finished/);
      assert.ok(reply.content.length > 0, 'most of the partial reply was saved');
      assert.ok(streamedBeforeKill.startsWith(reply.content), 'what was saved is what the client saw');
      // The session works again after the restart.
      const c2r = new RecordingClient(c2);
      const again = await c2.request('chat/send', { sessionId: sent.sessionId, content: 'and after' });
      assert.equal((await c2r.done(again.replyId, 60_000)).status, 'complete');
      second.proc.kill('SIGTERM');
      await new Promise((r) => second.proc.once('exit', r));
    });
  });

  describe('daemon shutdown in the middle of a reply', () => {
    it('stops the reply and stores it as failed with the reason before the database closes', async () => {
      const h = await startHarness({ model: { responder: () => ({ content: Array.from({ length: 300 }, (_, i) => `w${i}`).join(' '), chunkDelayMs: 10 }) } });
      let reopened: EmbeddedStore | null = null;
      try {
        const c = await h.connect();
        const sent = await c.client.request('chat/send', { root: h.workspace, content: 'long answer please' });
        await c.waitFor('chat/delta', (d) => d.messageId === sent.replyId && d.index >= 5);
        const t0 = Date.now();
        assert.equal(await h.daemon.shutdown('test shutdown'), 0);
        assert.ok(Date.now() - t0 < 5000, 'shutdown does not wait for the model to finish');
        reopened = await EmbeddedStore.open(h.home);
        const rows = await reopened.rpc('list_messages', { p_session_id: sent.sessionId });
        const reply = toMessage(rows.find((r) => r.id === sent.replyId)!);
        assert.equal(reply.status, 'failed');
        assert.match((reply.metadata.error as { message: string }).message, /shut down before the reply finished/);
        assert.ok(reply.content.startsWith('w0 w1 w2 w3 w4 w5'));
      } finally {
        await reopened?.close();
        await h.close();
      }
    });
  });

  describe('no model configured (the offline default)', () => {
    let h: Harness;
    afterEach(async () => {
      await h?.close();
    });

    it('answers from the knowledge base with locations, says no model is connected and how to connect one, streamed and stored', async () => {
      h = await startHarness({ model: null });
      await seedKnowledgeBase(h.store, h.workspace, [
        { path: 'docs/indexing.md', startLine: 10, endLine: 18, content: 'Indexing is resumable: each file is written in one transaction, so a crash loses at most the file in flight.' },
        { path: 'docs/auth.md', startLine: 1, endLine: 6, content: 'Sign in with email and password or OAuth with PKCE.' },
      ]);
      const c = await h.connect();
      const sent = await c.client.request('chat/send', { root: h.workspace, content: 'is indexing resumable after a crash?' });
      const done = await c.done(sent.replyId);
      assert.equal(done.status, 'complete');
      assert.equal(done.usage, undefined, 'no model, no usage');
      const text = c.text(sent.replyId);
      assert.ok(c.of('chat/delta', sent.replyId).length >= 3, 'streamed as several deltas');
      assert.match(text, /No chat model is connected/);
      assert.match(text, /1\. `docs\/indexing\.md:10-18`/);
      assert.match(text, /written in one transaction/);
      assert.match(text, /Cairn: Set Model API Key/);
      assert.match(text, /cairn --help/);
      // Read in the editor too, where the daemon's environment variables mean nothing.
      assert.doesNotMatch(text, /OPENAI_API_KEY|CAIRN_MODEL/);
      const { messages } = await c.client.request('sessions/get', { sessionId: sent.sessionId });
      const reply = messages.find((m) => m.id === sent.replyId)!;
      assert.equal(reply.status, 'complete');
      assert.equal(reply.content, text);
      assert.equal(reply.metadata.offline, true);
      assert.deepEqual((reply.metadata.sources as unknown[])[0], { path: 'docs/indexing.md', startLine: 10, endLine: 18 });
      assert.equal((await h.store.stats()).tables.api_usage, 0);
    });

    it('says plainly when the knowledge base has nothing for the question', async () => {
      h = await startHarness({ model: null });
      const c = await h.connect();
      const sent = await c.client.request('chat/send', { root: h.workspace, content: 'zyxwvut quantum marmalade' });
      await c.done(sent.replyId);
      const text = c.text(sent.replyId);
      assert.match(text, /No chat model is connected/);
      assert.match(text, /no passage matching your question/);
      assert.match(text, /Cairn: Index Workspace/);
    });
  });
});
