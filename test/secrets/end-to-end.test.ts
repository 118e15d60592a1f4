/**
 * Secret redaction end to end: 200 planted secrets of 26 kinds spread over indexed files, documents and FAQ entries,
 * chat messages and tool results, through a real daemon (the production store composition, the kb and chat
 * subsystems) and the contract-faithful OpenAI server. Afterwards no planted value is in any row of any table,
 * any request the model server received, any stored or shared session, or the daemon's log.
 */
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DaemonClient } from '../../daemon/src/protocol/client/client.js';
import { startDaemon, type RunningDaemon } from '../../daemon/src/host/daemon.js';
import { EmbeddedStore } from '../../daemon/src/store/embedded.js';
import { SwitchableStore } from '../../daemon/src/store/switchable.js';
import { registerKb } from '../../daemon/src/kb/handlers.js';
import { createChatSubsystem } from '../../daemon/src/chat/handlers.js';
import { migratedTemplate } from '../support/db.js';
import { startOpenAIServer, toolResults, type FakeOpenAIServer } from '../support/openai-server.js';
import { leaked, plants, type Plant } from './corpus.js';

describe('secrets: nothing planted leaves the machine', function () {
  this.timeout(180_000);
  let home: string;
  let daemon: RunningDaemon | null = null;
  let model: FakeOpenAIServer | null = null;
  let client: DaemonClient | null = null;

  afterEach(async () => {
    await client?.close().catch(() => undefined);
    await daemon?.shutdown('test finished');
    await model?.close();
    await rm(home, { recursive: true, force: true });
  });

  it('200 secrets over files, documents, FAQ, chat messages and tool results: none in the database, a model request, a session or the log', async () => {
    const all = plants(200);
    const inFiles = all.slice(0, 100);
    const inDocs = all.slice(100, 120);
    const inTools = all.slice(120, 160);
    const inChat = all.slice(160, 200);

    home = await mkdtemp(join(tmpdir(), 'cairn-secrets-e2e-'));
    const ws = join(home, 'workspace');
    const files: Record<string, string> = {};
    const exts = ['ts', 'yml', 'md', 'py', 'json'];
    for (let i = 0; i < inFiles.length; i += 5) {
      const k = i / 5;
      const body = inFiles.slice(i, i + 5).map((p, n) => `# setting ${n}\n${p.text}\n`).join('\n');
      files[`src/mod${k}/settings${k}.${exts[k % exts.length]}`] = `zebraConfigLoader${k} reads these settings\n\n${body}\nEnd of zebraConfigLoader${k}.\n`;
    }
    for (let i = 0; i < inTools.length; i += 10) files[`notes/tool${i / 10}.txt`] = inTools.slice(i, i + 10).map((p) => p.text).join('\n\n') + '\n';
    for (const [rel, text] of Object.entries(files)) {
      await mkdir(dirname(join(ws, rel)), { recursive: true });
      await writeFile(join(ws, rel), text);
    }

    let firstAsk = true;
    model = await startOpenAIServer({ apiKey: 'sk-test-key' });
    model.setResponder((body) => {
      if (firstAsk && toolResults(body).size === 0) {
        firstAsk = false;
        return {
          toolCalls: [
            ...[0, 1, 2, 3].map((k) => ({ id: `read${k}`, name: 'read_file', arguments: { path: `notes/tool${k}.txt` } })),
            { id: 'grep', name: 'grep', arguments: { pattern: 'token|key|secret|password', ignoreCase: true } },
            { id: 'search', name: 'search_knowledge_base', arguments: { query: 'zebraConfigLoader3 settings' } },
          ],
        };
      }
      return { content: 'Noted.' };
    });
    const template = await migratedTemplate();
    const env: NodeJS.ProcessEnv = {
      CAIRN_HOME: home,
      CAIRN_PORT: '0',
      CAIRN_LOG_LEVEL: 'debug',
      CAIRN_MODEL_BASE_URL: model.baseURL,
      CAIRN_MODEL: 'gpt-test',
      OPENAI_API_KEY: 'sk-test-key',
    };
    let store!: SwitchableStore;
    const started = await startDaemon({
      home,
      env,
      // The production composition (daemon/src/host/run.ts): the local store inside the switchable one.
      openStore: async (h) => (store = new SwitchableStore(await EmbeddedStore.open(h, { template }))),
      subsystems: [registerKb, createChatSubsystem({ titleWithModel: true })],
    });
    assert.equal(started.kind, 'started');
    daemon = started.kind === 'started' ? started.daemon : null;
    client = await DaemonClient.connect(daemon!.info);

    // Indexed files: every file with a secret is reported, with its count.
    const indexed = await client.request('kb/index', { root: ws, watch: false });
    assert.equal(indexed.redactedFiles.length, Object.keys(files).length);
    assert.ok(indexed.redactions >= inFiles.length + inTools.length, `redactions ${indexed.redactions}`);
    const first = indexed.redactedFiles.find((f) => f.path === 'src/mod0/settings0.ts')!;
    assert.ok(first.redactions >= 5, String(first.redactions));
    assert.equal(first.line, 4);

    // Documents and FAQ entries.
    for (let i = 0; i < inDocs.length; i += 5) {
      const doc = await client.request('kb/addDocument', { root: ws, title: `Runbook ${i}`, text: `# Runbook ${i}\n\n${inDocs.slice(i, i + 4).map((p) => p.text).join('\n\n')}\n`, format: 'markdown' });
      assert.ok(doc.redactions >= 4);
      const faq = await client.request('kb/addFaq', { root: ws, question: `Which key does staging use? ${inDocs[i + 4]!.text.split('\n')[0]}`, answer: inDocs[i + 4]!.text });
      assert.ok(faq.redactions >= 1);
    }

    // Search shows the marker where the secret was; the rest of the file is still found.
    const hits = await client.request('kb/search', { root: ws, query: 'zebraConfigLoader3', limit: 5 });
    const hit = hits.find((h) => h.path === 'src/mod3/settings3.py');
    assert.ok(hit, JSON.stringify(hits.map((h) => h.path)));
    assert.match(hits.map((h) => h.snippet).join('\n') + JSON.stringify(await client.request('kb/search', { root: ws, query: 'setting zebraConfigLoader3 reads', limit: 10 })), /\[redacted: [a-z0-9-]+\]/);

    // Chat: 8 messages of 5 secrets each (the first one runs the tools), then one posted message.
    let sessionId: string | undefined;
    let totalRedacted = 0;
    const done = new Set<string>();
    client.onNotification('chat/done', (p) => void done.add(p.messageId));
    for (let i = 0; i < inChat.length - 5; i += 5) {
      const content = `Please check this config:\n${inChat.slice(i, i + 5).map((p) => p.text).join('\n')}`;
      const sent = await client.request('chat/send', { root: ws, content, ...(sessionId ? { sessionId } : {}) });
      sessionId = sent.sessionId;
      totalRedacted += sent.redactions;
      const until = Date.now() + 60_000;
      while (!done.has(sent.replyId) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      assert.ok(done.has(sent.replyId), 'reply finished');
    }
    assert.ok(totalRedacted >= 35, `chat/send redactions ${totalRedacted}`);
    await client.request('sessions/post', { sessionId: sessionId!, content: inChat.slice(-5).map((p) => p.text).join('\n') });
    await client.request('sessions/share', { sessionId: sessionId!, visibility: 'team' }).catch(() => undefined);

    // The tools really read the planted files (their results came back redacted).
    const toolReq = model.chatRequests().find((b) => toolResults(b).size > 0)!;
    assert.ok(toolReq, 'a request carried tool results');
    assert.match([...toolResults(toolReq).values()].join('\n'), /\[redacted: /);

    // Nowhere: every row of every table, every model request, the session as a teammate reads it, the log.
    const local = store.local as EmbeddedStore;
    const rows = await local.asOwner(async (tx) => {
      const tables = (await tx.query<{ s: string; t: string }>(`select table_schema as s, table_name as t from information_schema.tables where table_schema in ('public', 'private', 'auth') and table_type = 'BASE TABLE'`)).rows;
      const out: string[] = [];
      for (const { s, t } of tables) {
        for (const r of (await tx.query<{ row: string }>(`select x::text as row from "${s}"."${t}" x`)).rows) out.push(r.row);
      }
      return out;
    });
    const dbText = rows.join('\n');
    assert.match(dbText, /\[redacted: /, 'redacted text was stored');
    const check = (where: string, text: string, list: Plant[] = all) => assert.deepEqual(leaked(text, list), [], `planted values in ${where}`);
    for (const row of rows) {
      const bad = all.flatMap((p) => p.needles).find((n) => row.toLowerCase().includes(n.toLowerCase()));
      if (bad) {
        const at = row.toLowerCase().indexOf(bad.toLowerCase());
        assert.fail(`a planted value in the row ${row.slice(0, 120)} … ${row.slice(Math.max(0, at - 400), at + 80)}`);
      }
    }
    assert.ok(model.chatRequests().length >= 9);
    check('model requests', JSON.stringify(model.requests));
    const messages = await client.request('sessions/get', { sessionId: sessionId! });
    check('the stored session', JSON.stringify(messages));
    await client.close();
    client = null;
    await daemon!.shutdown('test finished');
    daemon = null;
    check('the daemon log', await readFile(join(home, 'logs', 'daemon.log'), 'utf8'));
  });
});
