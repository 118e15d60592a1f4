/**
 * Cairn as an MCP server, driven by the official SDK's client over both transports against a real daemon
 * and a real indexed workspace: `cairn mcp` on stdio, and Streamable HTTP at `/mcp` on the daemon's port.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { mcpMarkdown } from '../../daemon/src/mcp/docs.js';
import { mcpTools } from '../../daemon/src/mcp/tools.js';
import { noSuchPath } from '../../daemon/src/workspace/policy.js';
import { ALLOWED_FILE, FIXTURE_EXCLUDES, allTricks, writeHiddenFixture } from '../support/path-tricks.js';
import {
  cliEntry,
  connectWs,
  migratedHome,
  ok,
  removeHome,
  repoRoot,
  runCli,
  startDaemon,
  stopDaemon,
  testEnv,
  type DaemonProcess,
  type RawConnection,
} from '../support/daemon.js';

function text(r: unknown): string {
  const content = (r as CallToolResult).content;
  return content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}

describe('MCP server', function () {
  this.timeout(120_000);
  let home: string;
  let ws: string;
  let daemon: DaemonProcess;
  let conn: RawConnection;
  let stdio: Client;
  let sessionId: string;

  const httpUrl = (query = '') => new URL(`http://127.0.0.1:${daemon.info.port}/mcp${query}`);
  async function httpClient(query = `?root=${encodeURIComponent(ws)}`): Promise<Client> {
    const c = new Client({ name: 'test-http', version: '1.0.0' });
    await c.connect(new StreamableHTTPClientTransport(httpUrl(query), { requestInit: { headers: { Authorization: `Bearer ${daemon.info.token}` } } }));
    return c;
  }

  before(async () => {
    home = await migratedHome();
    ws = await mkdtemp(join(tmpdir(), 'cairn-mcp-ws-'));
    await mkdir(join(ws, 'src'));
    await writeFile(
      join(ws, 'src', 'session.ts'),
      ['// Session tokens.', 'export function refreshSessionToken(token: string): string {', "  return token + '.refreshed';", '}', ''].join('\n'),
    );
    await writeFile(join(ws, 'src', 'math.ts'), 'export const add = (a: number, b: number) => a + b;\n');
    await writeFile(join(tmpdir(), 'cairn-mcp-outside.txt'), 'outside the workspace: must never be read\n');
    daemon = await startDaemon(home);
    conn = await connectWs(daemon.info);
    await ok(conn, 'initialize', { clientName: 'test' });
    await ok(conn, 'kb/index', { root: ws });
    const session = await ok(conn, 'sessions/create', { root: ws, title: 'Token refresh' });
    sessionId = session.id;
    await ok(conn, 'tasks/create', { root: ws, title: 'Retry the refresh on 429' });

    stdio = new Client({ name: 'test-stdio', version: '1.0.0' });
    await stdio.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: ['--import', 'tsx', cliEntry, 'mcp', '--dir', ws],
        cwd: repoRoot,
        env: testEnv(home) as Record<string, string>,
        stderr: 'pipe',
      }),
    );
  });

  after(async () => {
    await stdio?.close();
    conn?.close();
    if (daemon) await stopDaemon(daemon);
    await removeHome(home);
    await rm(ws, { recursive: true, force: true });
    await rm(join(tmpdir(), 'cairn-mcp-outside.txt'), { force: true });
  });

  it('lists every declared tool with its schema, the session resource template and the prompt', async () => {
    const { tools } = await stdio.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), Object.keys(mcpTools).sort());
    const search = tools.find((t) => t.name === 'search_knowledge_base')!;
    assert.deepEqual(search.inputSchema.required, ['query']);
    assert.equal(tools.find((t) => t.name === 'post_note')!.annotations?.readOnlyHint, false);
    const { resourceTemplates } = await stdio.listResourceTemplates();
    assert.deepEqual(resourceTemplates.map((r) => r.uriTemplate), ['cairn://session/{sessionId}']);
    const prompt = await stdio.getPrompt({ name: 'ask_team_knowledge_base', arguments: { question: 'How are tokens refreshed?' } });
    assert.match(JSON.stringify(prompt.messages), /How are tokens refreshed\?.*search_knowledge_base/);
  });

  it('search_knowledge_base finds a function by name and answers its path, line range and text', async () => {
    const r = await stdio.callTool({ name: 'search_knowledge_base', arguments: { query: 'refreshSessionToken', limit: 3 } });
    assert.ok(!r.isError, text(r));
    assert.match(text(r), /^1\. src\/session\.ts:1-4\n/);
    const hits = (r.structuredContent as { hits: { path: string; startLine: number; endLine: number; snippet: string }[] }).hits;
    assert.equal(hits[0]!.path, 'src/session.ts');
    assert.match(hits[0]!.snippet, /export function refreshSessionToken/);
  });

  it('read_file reads the lines asked for, and refuses a path out of the workspace without reading it', async () => {
    const r = await stdio.callTool({ name: 'read_file', arguments: { path: 'src/session.ts', startLine: 2, endLine: 3 } });
    assert.equal(text(r), "src/session.ts:2-3\n2\texport function refreshSessionToken(token: string): string {\n3\t  return token + '.refreshed';\n\n… 2 more lines; read from line 4.");
    const escape = await stdio.callTool({ name: 'read_file', arguments: { path: '../cairn-mcp-outside.txt' } });
    assert.equal(escape.isError, true);
    assert.equal(text(escape), 'InvalidInput: No such file or folder in the workspace: ../cairn-mcp-outside.txt');
    assert.doesNotMatch(text(escape), /must never be read/);
  });

  it('read_file answers every trick on every ignored, secret and outside file as a missing file, and search finds none of them', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'cairn-mcp-hidden-'));
    try {
      const fx = await writeHiddenFixture(ws, outside);
      await ok(conn, 'daemon/configure', { settings: { excludes: FIXTURE_EXCLUDES } });
      await ok(conn, 'kb/index', { root: ws });
      const wrong: string[] = [];
      for (const c of allTricks(fx)) {
        const r = await stdio.callTool({ name: 'read_file', arguments: { path: c.path } });
        if (!r.isError || text(r) !== `InvalidInput: ${noSuchPath(c.path).message}`) wrong.push(`${c.target.path} via ${c.trick}: ${text(r).slice(0, 120)}`);
      }
      assert.deepEqual(wrong, []);
      for (const p of fx.plants) {
        const r = await stdio.callTool({ name: 'search_knowledge_base', arguments: { query: p, limit: 50 } });
        assert.ok(!text(r).includes(`${p}=1`), `${p} found by search`);
      }
      const allowed = await stdio.callTool({ name: 'read_file', arguments: { path: ALLOWED_FILE.path } });
      assert.match(text(allowed), new RegExp(ALLOWED_FILE.plant));
    } finally {
      await ok(conn, 'daemon/configure', { settings: { excludes: [] } });
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('post_note writes into the session, and list_sessions, read_session and the session resource show it', async () => {
    const posted = await stdio.callTool({ name: 'post_note', arguments: { sessionId, text: 'Finding: the 429 comes from the gateway.' } });
    assert.ok(!posted.isError, text(posted));
    assert.match(text(posted), /^Posted as message #1 in session /);

    // What the editor reads: the note is a stored message of the session, by this user.
    const got = await ok(conn, 'sessions/get', { sessionId });
    assert.deepEqual(got.messages.map((m: { role: string; content: string }) => [m.role, m.content]), [['user', 'Finding: the 429 comes from the gateway.']]);

    const list = await stdio.callTool({ name: 'list_sessions', arguments: {} });
    assert.match(text(list), new RegExp(`- Token refresh \\(id ${sessionId}, private, updated `));
    const read = await stdio.callTool({ name: 'read_session', arguments: { sessionId } });
    assert.match(text(read), /^# Token refresh\n/);
    assert.match(text(read), /## User \(#1, .*\)\n\nFinding: the 429 comes from the gateway\./);
    const resource = await stdio.readResource({ uri: `cairn://session/${sessionId}` });
    assert.equal(resource.contents[0]!.mimeType, 'text/markdown');
    assert.match(String((resource.contents[0] as { text: string }).text), /Finding: the 429 comes from the gateway\./);
    const listed = await stdio.listResources();
    assert.ok(listed.resources.some((r) => r.uri === `cairn://session/${sessionId}` && r.name === 'Token refresh'));
  });

  it('list_tasks lists the project tasks', async () => {
    const r = await stdio.callTool({ name: 'list_tasks', arguments: { status: 'todo' } });
    assert.match(text(r), /^- \[todo\] Retry the refresh on 429 \(id [0-9a-f-]{36}\)$/);
  });

  it('answers schema-invalid arguments and unknown sessions with a clear tool error, and keeps serving', async () => {
    const bad = await stdio.callTool({ name: 'search_knowledge_base', arguments: { query: 42 } });
    assert.equal(bad.isError, true);
    assert.match(text(bad), /Invalid arguments for tool search_knowledge_base.*query/);
    const empty = await stdio.callTool({ name: 'read_session', arguments: { sessionId: 'not-a-uuid' } });
    assert.equal(empty.isError, true);
    const missing = await stdio.callTool({ name: 'read_session', arguments: { sessionId: '00000000-0000-4000-8000-000000000000' } });
    assert.equal(missing.isError, true);
    assert.match(text(missing), /^NotFound: /);
    const denied = await stdio.callTool({ name: 'post_note', arguments: { sessionId: '00000000-0000-4000-8000-000000000000', text: 'x' } });
    assert.equal(denied.isError, true);
    // Nothing was written anywhere by the refused calls, and the server still answers.
    const got = await ok(conn, 'sessions/get', { sessionId });
    assert.equal(got.messages.length, 1);
    assert.ok(!(await stdio.callTool({ name: 'list_tasks', arguments: {} })).isError);
  });

  it('over HTTP with the token: lists the tools and searches the folder named by ?root=', async () => {
    const c = await httpClient();
    try {
      assert.equal((await c.listTools()).tools.length, Object.keys(mcpTools).length);
      const r = await c.callTool({ name: 'search_knowledge_base', arguments: { query: 'refreshSessionToken', limit: 1 } });
      assert.match(text(r), /^1\. src\/session\.ts:1-4\n/);
    } finally {
      await c.close();
    }
  });

  it('over HTTP without ?root=, a tool that needs a folder says how to name one', async () => {
    const c = await httpClient('');
    try {
      const r = await c.callTool({ name: 'list_tasks', arguments: {} });
      assert.equal(r.isError, true);
      assert.match(text(r), /Give `root`: the absolute path of the workspace folder/);
      const withRoot = await c.callTool({ name: 'list_tasks', arguments: { root: ws } });
      assert.match(text(withRoot), /Retry the refresh on 429/);
    } finally {
      await c.close();
    }
  });

  it('over HTTP refuses a missing or wrong token and any browser Origin, before any MCP message is read', async () => {
    const init = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
    });
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const post = (h: Record<string, string>) => fetch(httpUrl(), { method: 'POST', headers: { ...headers, ...h }, body: init });
    assert.equal((await post({})).status, 401);
    assert.equal((await post({ authorization: 'Bearer wrong' })).status, 401);
    const rebinding = await post({ authorization: `Bearer ${daemon.info.token}`, origin: 'http://attacker.example' });
    assert.equal(rebinding.status, 403);
    assert.equal((await fetch(httpUrl(), { headers: { authorization: `Bearer ${daemon.info.token}` } })).status, 405);
    const good = await post({ authorization: `Bearer ${daemon.info.token}` });
    assert.equal(good.status, 200);
    assert.equal(((await good.json()) as { result: { serverInfo: { name: string } } }).result.serverInfo.name, 'cairn');
  });

  it('cairn mcp --print-config prints a snippet each client accepts, naming this install', async () => {
    const r = await runCli(['mcp', '--print-config', 'vscode'], testEnv(home));
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
    assert.equal(json.servers.cairn.type, 'stdio');
    assert.deepEqual(json.servers.cairn.args.slice(-3), ['mcp', '--dir', '${workspaceFolder}']);
    const bad = await runCli(['mcp', '--print-config', 'emacs'], testEnv(home));
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--print-config needs one of: vscode, claude-code, cursor/);
  });

  it('docs/mcp.md is what the tool declarations generate', async () => {
    const onDisk = await readFile(join(repoRoot, 'docs', 'mcp.md'), 'utf8');
    assert.ok(onDisk === mcpMarkdown(), 'docs/mcp.md is stale: run `npm run gen:protocol` and commit the result');
  });
});
