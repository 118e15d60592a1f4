import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { seedKnowledgeBase, startHarness, type Harness } from './harness.js';
import { lastUserMessage, toolResults } from '../support/openai-server.js';
import { searchKnowledgeBase } from '../../daemon/src/kb/search.js';
import { ConfigHolder, configFromEnv } from '../../daemon/src/config.js';
import { Workspace, PathRefused } from '../../daemon/src/chat/workspace-files.js';
import { CATASTROPHIC_REGEX } from '../support/adversarial.js';

describe('chat: agent tools', function () {
  this.timeout(60_000);
  let h: Harness;

  afterEach(async () => {
    await h?.close();
  });

  it('read_file refuses ../, absolute paths outside and symlinks out of the workspace, and the secret never reaches the model', async () => {
    h = await startHarness({
      files: { 'src/ok.ts': 'export const ok = 1;\n' },
      model: {},
    });
    const secret = join(h.home, 'secret.txt');
    await writeFile(secret, 'TOP-SECRET-VALUE\n');
    await mkdir(join(h.workspace, 'docs'), { recursive: true });
    await symlink(secret, join(h.workspace, 'docs', 'link.txt'));
    await symlink(h.home, join(h.workspace, 'outdir'));
    // The absolute path is known only now, so the script is set here.
    h.model!.setResponder((b) => {
      const results = toolResults(b);
      if (results.size === 0) {
        return {
          toolCalls: [
            { id: 'c_dotdot', name: 'read_file', arguments: { path: '../secret.txt' } },
            { id: 'c_abs', name: 'read_file', arguments: { path: secret } },
            { id: 'c_link', name: 'read_file', arguments: { path: 'docs/link.txt' } },
            { id: 'c_dirlink', name: 'list_files', arguments: { path: 'outdir' } },
            { id: 'c_grep', name: 'grep', arguments: { pattern: 'TOP-SECRET', path: '..' } },
            { id: 'c_ok', name: 'read_file', arguments: { path: 'src/ok.ts' } },
          ],
        };
      }
      return { content: 'done' };
    });
    const c = await h.connect();
    const sent = await c.client.request('chat/send', { root: h.workspace, content: 'read everything' });
    assert.equal((await c.done(sent.replyId)).status, 'complete');

    const results = toolResults(h.model!.chatRequests()[1]!);
    for (const id of ['c_dotdot', 'c_abs', 'c_link', 'c_dirlink', 'c_grep']) {
      assert.match(results.get(id)!, /No such file or folder in the workspace/, `${id}: ${results.get(id)}`);
    }
    assert.match(results.get('c_ok')!, /export const ok = 1;/);
    assert.doesNotMatch(JSON.stringify(h.model!.chatRequests()), /TOP-SECRET-VALUE/);

    const shown = c.of('chat/tool', sent.replyId).filter((t) => t.status !== 'running');
    assert.deepEqual(
      shown.map((t) => [t.toolCallId, t.status]).sort(),
      [
        ['c_abs', 'error'],
        ['c_dirlink', 'error'],
        ['c_dotdot', 'error'],
        ['c_grep', 'error'],
        ['c_link', 'error'],
        ['c_ok', 'done'],
      ],
    );
  });

  it('Workspace.resolve: a data table of paths in and out', async () => {
    h = await startHarness({ model: null, files: { 'a/b.txt': 'b\n', 'a/.hidden': 'h\n' } });
    await symlink(join(h.workspace, 'a', 'b.txt'), join(h.workspace, 'inside-link'));
    await symlink('/etc', join(h.workspace, 'etc-link'));
    const ws = await Workspace.open(h.workspace, { excludes: [], dataDirs: [h.home] });
    const cases: Array<[string, 'ok' | 'refused']> = [
      ['a/b.txt', 'ok'],
      ['./a/../a/b.txt', 'ok'],
      [join(h.workspace, 'a/b.txt'), 'ok'],
      ['inside-link', 'ok'],
      ['../', 'refused'],
      ['a/../../x', 'refused'],
      ['/etc/hostname', 'refused'],
      ['etc-link/hostname', 'refused'],
      [`${h.workspace}-sibling/file`, 'refused'],
    ];
    for (const [p, want] of cases) {
      const got = await ws.resolve(p).then(
        () => 'ok',
        (e: unknown) => (e instanceof PathRefused ? 'refused' : `threw ${String(e)}`),
      );
      assert.equal(got, want, p);
    }
  });

  it('grep with a backtracking pattern from the model leaves the daemon answering, and stops within its time limit', async () => {
    h = await startHarness({ files: { 'evil.txt': `${CATASTROPHIC_REGEX.line}\n` }, model: {} });
    h.model!.setResponder((b) =>
      toolResults(b).size === 0
        ? { toolCalls: [{ id: 'c_evil', name: 'grep', arguments: { pattern: CATASTROPHIC_REGEX.pattern } }] }
        : { content: 'done' },
    );
    const c = await h.connect();
    const other = await h.connect();
    const sent = await c.client.request('chat/send', { root: h.workspace, content: 'grep it' });
    await c.waitFor('chat/tool', (t) => t.toolCallId === 'c_evil');
    // While the pattern runs, a second client's pings keep answering.
    let worstPingMs = 0;
    while (!c.of('chat/tool', sent.replyId).some((t) => t.status !== 'running')) {
      const t0 = performance.now();
      await other.client.request('daemon/ping', {});
      worstPingMs = Math.max(worstPingMs, performance.now() - t0);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(worstPingMs < 1000, `a ping took ${worstPingMs.toFixed(0)} ms while grep ran`);
    assert.equal((await c.done(sent.replyId)).status, 'complete');
    assert.match(toolResults(h.model!.chatRequests()[1]!).get('c_evil')!, /grep stopped: the pattern took longer than 5 s/);
  });

  it('chat/cancel stops a grep that is still matching', async () => {
    h = await startHarness({ files: { 'evil.txt': `${CATASTROPHIC_REGEX.line}\n` }, model: {} });
    h.model!.setResponder(() => ({ toolCalls: [{ id: 'c_evil', name: 'grep', arguments: { pattern: CATASTROPHIC_REGEX.pattern } }] }));
    const c = await h.connect();
    const sent = await c.client.request('chat/send', { root: h.workspace, content: 'grep it' });
    await c.waitFor('chat/tool', (t) => t.toolCallId === 'c_evil');
    const t0 = performance.now();
    assert.deepEqual(await c.client.request('chat/cancel', { messageId: sent.replyId }), { cancelled: true });
    assert.equal((await c.done(sent.replyId, 4000)).status, 'cancelled');
    assert.ok(performance.now() - t0 < 4000);
  });

  it("team mode: a project's stored root_uri (a teammate can write file:///) never roots the file tools", async () => {
    h = await startHarness({ model: {} });
    h.model!.setResponder((b) =>
      toolResults(b).size === 0 ? { toolCalls: [{ id: 'c_etc', name: 'read_file', arguments: { path: 'etc/hostname' } }] } : { content: 'done' },
    );
    const team = await h.store.rpc('create_team', { p_name: 'Core' });
    const project = await h.store.rpc('ensure_project', { p_root_uri: 'file:///', p_name: 'everything', p_team_id: team.id });
    const c = await h.connect();
    const session = await c.client.request('sessions/create', { projectId: project.id, title: 'shared' });
    const sent = await c.client.request('chat/send', { sessionId: session.id, content: 'read /etc/hostname' });
    assert.equal((await c.done(sent.replyId)).status, 'complete');
    const result = toolResults(h.model!.chatRequests()[1]!).get('c_etc')!;
    assert.match(result, /no tool named read_file/);
    // The model was offered no file tools at all.
    assert.doesNotMatch(JSON.stringify(h.model!.chatRequests()[0]!.tools ?? []), /read_file|grep|list_files/);
  });

  it('search_knowledge_base round-trips through the real knowledge-base search, with locations', async () => {
    const passages = [
      { path: 'docs/indexing.md', startLine: 10, endLine: 18, content: 'Indexing is resumable: each file is written in one transaction, so a crash loses at most the file in flight.' },
      { path: 'docs/auth.md', startLine: 1, endLine: 6, content: 'Sign in with email and password or OAuth with PKCE; TOTP multi-factor is required for team admin operations.' },
    ];
    h = await startHarness({
      model: {
        responder: (b) => {
          const results = toolResults(b);
          if (results.size === 0) return { toolCalls: [{ id: 'c_kb', name: 'search_knowledge_base', arguments: { query: 'resumable indexing crash transaction' } }] };
          const first = /^1\. (\S+)/m.exec(results.get('c_kb')!)?.[1];
          return { content: `See ${first}.` };
        },
      },
    });
    const config = new ConfigHolder(configFromEnv({}));
    await seedKnowledgeBase(h.store, h.workspace, passages);
    // The same search the tool runs, called directly, finds the passage.
    const direct = await searchKnowledgeBase(h.store, config, { root: h.workspace, query: 'resumable indexing crash transaction', limit: 3 });
    assert.equal(direct[0]?.path, 'docs/indexing.md');

    const c = await h.connect();
    const sent = await c.client.request('chat/send', { root: h.workspace, content: 'Is indexing resumable?' });
    assert.equal((await c.done(sent.replyId)).status, 'complete');
    const result = toolResults(h.model!.chatRequests()[1]!).get('c_kb')!;
    assert.match(result, /^1\. docs\/indexing\.md:10-18/);
    assert.match(result, /written in one transaction/);
    assert.equal(c.text(sent.replyId), 'See docs/indexing.md:10-18.');
    const tool = c.of('chat/tool', sent.replyId).find((t) => t.status === 'done')!;
    assert.equal(tool.name, 'search_knowledge_base');
    assert.deepEqual(tool.args, { query: 'resumable indexing crash transaction' });
  });

  it('create_task and update_task change the project task list; tasks/list shows them', async () => {
    let taskId = '';
    h = await startHarness({
      model: {
        responder: (b) => {
          const results = toolResults(b);
          if (results.size === 0) return { toolCalls: [{ id: 'c_new', name: 'create_task', arguments: { title: 'Retry embeddings on 429', description: 'Back off per retry-after.' } }] };
          if (results.size === 1) {
            taskId = /Created task (\S+)/.exec(results.get('c_new')!)![1]!;
            return { toolCalls: [{ id: 'c_upd', name: 'update_task', arguments: { taskId, status: 'in_progress' } }] };
          }
          return { content: `Task ${taskId} is in progress.` };
        },
      },
    });
    const c = await h.connect();
    const sent = await c.client.request('chat/send', { root: h.workspace, content: 'Track the retry work' });
    assert.equal((await c.done(sent.replyId)).status, 'complete');
    const { tasks } = await c.client.request('tasks/list', { root: h.workspace });
    assert.equal(tasks.length, 1);
    assert.equal(tasks[0]!.id, taskId);
    assert.equal(tasks[0]!.title, 'Retry embeddings on 429');
    assert.equal(tasks[0]!.status, 'in_progress');
    assert.equal(tasks[0]!.sessionId, sent.sessionId);
    // The same over RPC.
    const made = await c.client.request('tasks/create', { root: h.workspace, title: 'Write the docs' });
    const updated = await c.client.request('tasks/update', { taskId: made.id, patch: { status: 'done' } });
    assert.equal(updated.status, 'done');
    assert.deepEqual((await c.client.request('tasks/list', { root: h.workspace, status: 'done' })).tasks.map((t) => t.title), ['Write the docs']);
  });

  it('the step limit stops a model that keeps calling tools, and the reply still ends', async () => {
    h = await startHarness({
      chat: { maxToolCalls: 3 },
      model: { responder: (b) => ({ toolCalls: [{ id: `c_${toolResults(b).size}`, name: 'list_files', arguments: {} }] }) },
    });
    const c = await h.connect();
    const sent = await c.client.request('chat/send', { root: h.workspace, content: 'loop forever' });
    const done = await c.done(sent.replyId);
    assert.equal(done.status, 'complete');
    // Three rounds with tools, then one without them so the model has to answer.
    const requests = h.model!.chatRequests();
    assert.equal(requests.length, 4);
    assert.equal(requests[3]!.tools, undefined);
    assert.equal(c.of('chat/tool', sent.replyId).filter((t) => t.status === 'done').length, 3);
    assert.match(c.text(sent.replyId), /Stopped after 3 tool calls, the limit for one reply/);
  });

  it('agents: the built-in default plus the user\'s own; create, use by name, update, delete', async () => {
    h = await startHarness({ model: { responder: (b) => ({ content: `system was: ${b.messages[0]!.content}` }) } });
    const c = await h.connect();
    const before = await c.client.request('agents/list', {});
    assert.deepEqual(before.agents.map((a) => [a.id, a.builtIn]), [['default', true]]);
    const reviewer = await c.client.request('agents/create', { name: 'reviewer', systemPrompt: 'You review code tersely.', tools: ['read_file'], temperature: 0.1 });
    assert.equal(reviewer.builtIn, false);
    const sent = await c.client.request('chat/send', { root: h.workspace, content: 'review', agentId: 'reviewer' });
    await c.done(sent.replyId);
    const req = h.model!.chatRequests()[0]!;
    assert.match(String(req.messages[0]!.content), /^You review code tersely\./);
    assert.deepEqual(req.tools?.map((t) => t.function.name), ['read_file']);
    assert.ok(Math.abs((req.temperature ?? 0) - 0.1) < 1e-6);
    assert.equal((await c.client.request('sessions/get', { sessionId: sent.sessionId })).session.agentId, reviewer.id);

    const updated = await c.client.request('agents/update', { agentId: reviewer.id, patch: { systemPrompt: 'You review code kindly.' } });
    assert.equal(updated.systemPrompt, 'You review code kindly.');
    await c.client.request('agents/delete', { agentId: reviewer.id });
    assert.deepEqual((await c.client.request('agents/list', {})).agents.map((a) => a.id), ['default']);
    await assert.rejects(c.client.request('chat/send', { root: h.workspace, content: 'x', agentId: 'nobody' }), /No agent named/);
    // The session of a deleted agent falls back to the default agent.
    const next = await c.client.request('chat/send', { sessionId: sent.sessionId, content: 'still there?' });
    await c.done(next.replyId);
    assert.match(String(h.model!.chatRequests().at(-1)!.messages[0]!.content), /^You are Cairn/);
    assert.equal(lastUserMessage(h.model!.chatRequests().at(-1)!), 'still there?');
  });
});
