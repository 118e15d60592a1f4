/**
 * Cairn over MCP in team mode: an MCP client of a signed-in member's daemon sees what RLS lets that member
 * see (a teammate's shared session) and nothing of another team, through the local Supabase test servers.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { connectWs, migratedHome, ok, removeHome, startDaemon, stopDaemon, type DaemonProcess, type RawConnection } from '../support/daemon.js';
import { signUp, startProject, type Project } from './harness.js';
import { buildTeam, leaveAll, type Team } from './scenarios.js';

const text = (r: unknown) => (r as CallToolResult).content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');

describe('MCP in team mode', function () {
  this.timeout(180_000);
  let project: Project;
  let alpha: Team;
  let beta: Team;
  let home: string;
  let folder: string;
  let daemon: DaemonProcess;
  let rpc: RawConnection;
  let mcp: Client;
  const ids = { alphaShared: '', alphaPrivate: '', betaShared: '' };

  before(async () => {
    project = await startProject();
    const world = { project, person: (name: string) => signUp(project, name) };
    alpha = await buildTeam(world, 'alpha');
    beta = await buildTeam(world, 'beta');
    // Ann (alpha's owner) shares a session with her team and keeps one private; beta's owner shares one with beta.
    const shared = await alpha.owner.store.rpc('create_session', { p_project_id: alpha.projectId, p_title: 'Alpha rollout plan', p_visibility: 'team' });
    await alpha.owner.store.rpc('append_message', { p_session_id: shared.id, p_role: 'user', p_content: 'ALPHA-SHARED-MARKER: roll out on Tuesday.' });
    const mine = await alpha.owner.store.rpc('create_session', { p_project_id: alpha.projectId, p_title: 'Ann private notes', p_visibility: 'private' });
    await alpha.owner.store.rpc('append_message', { p_session_id: mine.id, p_role: 'user', p_content: 'ALPHA-PRIVATE-MARKER' });
    const other = await beta.owner.store.rpc('create_session', { p_project_id: beta.projectId, p_title: 'Beta acquisition', p_visibility: 'team' });
    await beta.owner.store.rpc('append_message', { p_session_id: other.id, p_role: 'user', p_content: 'BETA-MARKER: confidential.' });
    Object.assign(ids, { alphaShared: shared.id, alphaPrivate: mine.id, betaShared: other.id });

    // Bob, alpha's member, signs in on his daemon and maps his folder to the team project, as the extension does.
    home = await migratedHome();
    folder = await mkdtemp(join(tmpdir(), 'cairn-mcp-team-'));
    daemon = await startDaemon(home);
    rpc = await connectWs(daemon.info);
    const session = alpha.member.person.session();
    await ok(rpc, 'auth/setSession', { supabaseUrl: project.url, anonKey: project.anonKey, accessToken: session.accessToken, refreshToken: session.refreshToken });
    await ok(rpc, 'workspace/chooseProject', { root: folder, projectId: alpha.projectId });

    mcp = new Client({ name: 'test-team', version: '1.0.0' });
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${daemon.info.port}/mcp?root=${encodeURIComponent(folder)}`), {
        requestInit: { headers: { Authorization: `Bearer ${daemon.info.token}` } },
      }),
    );
  });

  after(async () => {
    await mcp?.close();
    await rpc?.close();
    if (daemon) await stopDaemon(daemon);
    if (home) await removeHome(home);
    if (folder) await rm(folder, { recursive: true, force: true });
    for (const t of [alpha, beta]) if (t) await leaveAll([t.owner, t.member, t.viewer, t.outsider]);
    await project?.close();
  });

  it("lists and reads a teammate's shared session, and nothing private or of another team", async () => {
    const list = text(await mcp.callTool({ name: 'list_sessions', arguments: {} }));
    assert.match(list, new RegExp(`Alpha rollout plan \\(id ${ids.alphaShared}, team,`));
    assert.doesNotMatch(list, /Ann private notes|Beta acquisition/);
    const read = await mcp.callTool({ name: 'read_session', arguments: { sessionId: ids.alphaShared } });
    assert.match(text(read), /ALPHA-SHARED-MARKER/);
    assert.match(text(read), /your access: write/);
  });

  it("answers another team's session and a teammate's private one as not found, with none of their content", async () => {
    for (const sessionId of [ids.betaShared, ids.alphaPrivate]) {
      const r = await mcp.callTool({ name: 'read_session', arguments: { sessionId } });
      assert.equal(r.isError, true);
      assert.match(text(r), /^NotFound: /);
      assert.doesNotMatch(text(r), /MARKER|Beta acquisition|Ann private/);
      await assert.rejects(mcp.readResource({ uri: `cairn://session/${sessionId}` }), (err: Error) => !/MARKER/.test(err.message));
      const post = await mcp.callTool({ name: 'post_note', arguments: { sessionId, text: 'INJECTED' } });
      assert.equal(post.isError, true);
    }
    // Nothing was written into the other sessions.
    const betaMessages = await beta.owner.store.rpc('list_messages', { p_session_id: ids.betaShared, p_after_seq: 0, p_limit: 50 });
    assert.deepEqual(betaMessages.map((m) => m.content), ['BETA-MARKER: confidential.']);
  });

  it("posts a note into the team's shared session, which the teammate who shared it reads", async () => {
    const r = await mcp.callTool({ name: 'post_note', arguments: { sessionId: ids.alphaShared, text: 'From Bob via MCP: staging is green.' } });
    assert.ok(!r.isError, text(r));
    const seen = await alpha.owner.store.rpc('list_messages', { p_session_id: ids.alphaShared, p_after_seq: 0, p_limit: 50 });
    const note = seen.find((m) => m.content === 'From Bob via MCP: staging is green.');
    assert.ok(note, 'Ann reads the note');
    assert.equal(note.author_id, alpha.member.person.id, 'attributed to Bob, the signed-in user');
  });
});
