/**
 * VS Code's own Chat view: the `@cairn` participant and the language-model search tool. The tool is invoked
 * through `vscode.lm.invokeTool`, as agent mode would. The participant's handler is driven through the API with
 * a recording response stream: this editor (code-server without a signed-in Copilot) has no chat model, so the
 * Chat view cannot send a request to a participant here.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { cairn, ready, waitFor } from './helpers.js';
import { MODEL_KEY_SECRET } from '../../../extension/src/settings.js';
import { participantHandler, SEARCH_TOOL } from '../../../extension/src/participant.js';

interface Recorded {
  markdown: string;
  anchors: { uri: string; line: number; title: string | undefined }[];
  references: vscode.Location[];
  progress: string[];
}

function recordingStream(): { stream: vscode.ChatResponseStream; out: Recorded } {
  const out: Recorded = { markdown: '', anchors: [], references: [], progress: [] };
  const md = (v: string | vscode.MarkdownString) => (out.markdown += typeof v === 'string' ? v : v.value);
  const stream = {
    markdown: md,
    anchor(value: vscode.Location | vscode.Uri, title?: string) {
      if (value instanceof vscode.Location) out.anchors.push({ uri: value.uri.fsPath, line: value.range.start.line, title });
      out.markdown += `[${title ?? ''}]`;
    },
    reference(value: vscode.Location | vscode.Uri) {
      if (value instanceof vscode.Location) out.references.push(value);
    },
    progress: (v: string) => out.progress.push(v),
    button() {},
    filetree() {},
    push() {},
  };
  return { stream: stream as unknown as vscode.ChatResponseStream, out };
}

function request(prompt: string, command?: string): vscode.ChatRequest {
  return { prompt, command, references: [], toolReferences: [], toolInvocationToken: undefined } as unknown as vscode.ChatRequest;
}

const never = new vscode.CancellationTokenSource().token;

describe('VS Code chat integration', function () {
  this.timeout(120_000);

  before(async () => {
    const api = await cairn();
    const client = await ready(api);
    await vscode.commands.executeCommand('cairn.indexWorkspace');
    // The model key as "Cairn: Set Model API Key" stores it (the test model server is the chat suite's).
    await api.ctx.extension.secrets.store(MODEL_KEY_SECRET, process.env.CAIRN_TEST_MODEL_KEY!);
    await waitFor('the daemon to hold the model key', async () => (await client.request('daemon/configure', {})).chat.hasApiKey);
  });

  it('registers the knowledge-base search as a language-model tool with its input schema', () => {
    const info = vscode.lm.tools.find((t) => t.name === SEARCH_TOOL);
    assert.ok(info, `registered tools: ${vscode.lm.tools.map((t) => t.name).join(', ')}`);
    assert.deepEqual((info.inputSchema as { required?: string[] }).required, ['query']);
  });

  it('the search tool, invoked through vscode.lm, answers passages with their file, lines and URI', async () => {
    const result = await vscode.lm.invokeTool(SEARCH_TOOL, { input: { query: 'computeQuarterlyTaxRebate', limit: 3 }, toolInvocationToken: undefined }, never);
    const text = result.content.map((p) => (p instanceof vscode.LanguageModelTextPart ? p.value : '')).join('');
    assert.match(text, /^1\. src\/billing\/invoice\.ts:\d+-\d+ \(file:\/\/\/.*src\/billing\/invoice\.ts#L\d+\)\n/);
    assert.match(text, /computeQuarterlyTaxRebate/);
  });

  it('@cairn /search streams the passages as anchors and references that point at the right lines', async () => {
    const api = await cairn();
    const client = await ready(api);
    const { stream, out } = recordingStream();
    const result = await participantHandler(api.ctx)(request('computeQuarterlyTaxRebate', 'search'), { history: [] } as unknown as vscode.ChatContext, stream, never);
    assert.deepEqual(result?.metadata, { command: 'search', hits: out.anchors.length });
    const top = (await client.request('kb/search', { root: api.ctx.workspaceRoot()!, query: 'computeQuarterlyTaxRebate', limit: 1 }))[0]!;
    assert.ok(out.anchors[0]!.uri.endsWith('src/billing/invoice.ts'));
    assert.equal(out.anchors[0]!.line, top.startLine - 1);
    assert.equal(out.anchors[0]!.title, `${top.path}:${top.startLine}-${top.endLine}`);
    assert.equal(out.references[0]!.uri.fsPath, out.anchors[0]!.uri);
    assert.match(out.markdown, /computeQuarterlyTaxRebate/);
    assert.deepEqual(out.progress, ['Searching the knowledge base…']);
  });

  it('@cairn /search says so when nothing matches', async () => {
    const api = await cairn();
    const { stream, out } = recordingStream();
    await participantHandler(api.ctx)(request('', 'search'), { history: [] } as unknown as vscode.ChatContext, stream, never);
    assert.match(out.markdown, /Type what to look for after `\/search`/);
  });

  it('@cairn with a question answers through the daemon agent, with the passages as references, and stores the session', async () => {
    const api = await cairn();
    const client = await ready(api);
    const { stream, out } = recordingStream();
    const result = await participantHandler(api.ctx)(request('Where is the tax rebate computed?'), { history: [] } as unknown as vscode.ChatContext, stream, never);
    const meta = result?.metadata as { command: string; sessionId: string; status: string };
    assert.equal(meta.status, 'complete', out.markdown);
    assert.match(out.markdown, /computeQuarterlyTaxRebate/);
    assert.ok(out.references.some((r) => r.uri.fsPath.endsWith('src/billing/invoice.ts')));
    const stored = await client.request('sessions/get', { sessionId: meta.sessionId });
    assert.equal(stored.messages.at(-1)?.content.trim(), out.markdown.trim(), 'what the Chat view got is what the session stored');
  });

  it('@cairn /sessions lists the project sessions as links that open them', async () => {
    const api = await cairn();
    const client = await ready(api);
    const { sessions } = await client.request('sessions/list', { root: api.ctx.workspaceRoot()!, limit: 20 });
    assert.ok(sessions.length > 0);
    const { stream, out } = recordingStream();
    await participantHandler(api.ctx)(request('', 'sessions'), { history: [] } as unknown as vscode.ChatContext, stream, never);
    assert.ok(out.markdown.includes(`command:cairn.openSession?${encodeURIComponent(JSON.stringify([sessions[0]!.id]))}`), out.markdown);
  });
});
