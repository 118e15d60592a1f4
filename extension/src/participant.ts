/**
 * Cairn in VS Code's own Chat view: the `@cairn` chat participant (answers from the knowledge base through the
 * daemon's orchestrator, `/search`, `/sessions`) and the knowledge-base search as a language-model tool that
 * agent mode can call by itself. Both are thin: every answer comes from daemon methods, as the chat view's do.
 */
import * as vscode from 'vscode';
import { join } from 'node:path';
import type { ParamsOf, ResultOf } from '../../daemon/src/protocol/index.js';
import type { Ctx } from './ctx.js';
import { describeError, log } from './log.js';

export const PARTICIPANT_ID = 'cairn.kb';
export const SEARCH_TOOL = 'cairn_searchKnowledgeBase';

type Hit = ResultOf<'kb/search'>[number];

/** What the model gives the search tool (package.json `languageModelTools` declares the same fields): `kb/search` params without the folder. */
export type SearchToolInput = Pick<ParamsOf<'kb/search'>, 'query' | 'limit' | 'pathPrefix'>;

/** A passage's place in the workspace, for references and anchors; null for documents, URLs and FAQs. */
export function hitLocation(root: string, hit: Hit): vscode.Location | null {
  if (hit.kind !== 'file') return null;
  const start = Math.max(0, hit.startLine - 1);
  return new vscode.Location(vscode.Uri.file(join(root, hit.path)), new vscode.Range(start, 0, Math.max(start, hit.endLine - 1), 0));
}

function fence(text: string): string {
  const ticks = '`'.repeat(Math.max(3, ...[...text.matchAll(/`+/g)].map((m) => m[0].length + 1)));
  return `${ticks}\n${text}\n${ticks}`;
}

async function connected(ctx: Ctx, stream: vscode.ChatResponseStream) {
  const client = await ctx.waitForClient(15_000);
  const root = ctx.workspaceRoot();
  if (!client) stream.markdown('The Cairn daemon is not running. Run **Cairn: Reconnect** or see the Cairn output channel.');
  else if (!root) stream.markdown('Open a folder first: Cairn answers from the knowledge base of the workspace folder.');
  return client && root ? { client, root } : null;
}

async function search(ctx: Ctx, request: vscode.ChatRequest, stream: vscode.ChatResponseStream, token: vscode.CancellationToken): Promise<vscode.ChatResult> {
  const c = await connected(ctx, stream);
  if (!c) return {};
  const query = request.prompt.trim();
  if (!query) {
    stream.markdown('Type what to look for after `/search`, e.g. `/search refresh token`.');
    return {};
  }
  stream.progress('Searching the knowledge base…');
  const ac = new AbortController();
  const sub = token.onCancellationRequested(() => ac.abort());
  try {
    const hits = await c.client.request('kb/search', { root: c.root, query, limit: 10 }, { signal: ac.signal });
    if (hits.length === 0) {
      stream.markdown(`No passages match “${query}”. Try other words, or run **Cairn: Index Workspace** if this folder is new.`);
      return { metadata: { command: 'search', hits: 0 } };
    }
    for (const [i, hit] of hits.entries()) {
      const where = hitLocation(c.root, hit);
      stream.markdown(`${i + 1}. `);
      if (where) {
        stream.anchor(where, `${hit.path}:${hit.startLine}-${hit.endLine}`);
        stream.reference(where);
      } else stream.markdown(`${hit.title ?? hit.path} (${hit.kind})`);
      stream.markdown(`\n\n${fence(hit.snippet.length > 600 ? `${hit.snippet.slice(0, 600)}\n…` : hit.snippet)}\n\n`);
    }
    return { metadata: { command: 'search', hits: hits.length } };
  } finally {
    sub.dispose();
  }
}

async function sessions(ctx: Ctx, stream: vscode.ChatResponseStream): Promise<vscode.ChatResult> {
  const c = await connected(ctx, stream);
  if (!c) return {};
  const { sessions: rows } = await c.client.request('sessions/list', { root: c.root, limit: 20 });
  if (rows.length === 0) {
    stream.markdown('No Cairn sessions in this project yet. Ask `@cairn` a question, or start one with **Cairn: New Chat**.');
    return { metadata: { command: 'sessions', sessions: 0 } };
  }
  const md = new vscode.MarkdownString(undefined, true);
  md.isTrusted = { enabledCommands: ['cairn.openSession'] };
  md.appendMarkdown('Cairn sessions of this project (open one to continue it in the Cairn chat):\n\n');
  for (const s of rows) {
    const args = encodeURIComponent(JSON.stringify([s.id]));
    const title = (s.title ?? 'Untitled chat').replace(/[[\]]/g, '');
    md.appendMarkdown(`- [${title}](command:cairn.openSession?${args}) — ${s.visibility === 'team' ? 'team' : 'private'}, ${new Date(s.updatedAt).toLocaleString()}\n`);
  }
  stream.markdown(md);
  return { metadata: { command: 'sessions', sessions: rows.length } };
}

/** A question: the passages found are shown as references, and the daemon's agent answers (streamed). */
async function ask(ctx: Ctx, request: vscode.ChatRequest, stream: vscode.ChatResponseStream, token: vscode.CancellationToken): Promise<vscode.ChatResult> {
  const c = await connected(ctx, stream);
  if (!c) return {};
  stream.progress('Searching the knowledge base…');
  const hits = await c.client.request('kb/search', { root: c.root, query: request.prompt, limit: 5 });
  for (const hit of hits) {
    const where = hitLocation(c.root, hit);
    if (where) stream.reference(where);
  }
  stream.progress('Asking the Cairn agent…');
  let replyId: string | null = null;
  const early: { delta: string; messageId: string; index: number }[] = [];
  let finish: (r: { status: string; error?: string | undefined }) => void = () => undefined;
  const finished = new Promise<{ status: string; error?: string | undefined }>((r) => (finish = r));
  const subs = [
    ctx.onNotification('chat/delta', (p) => {
      if (replyId === null) early.push(p);
      else if (p.messageId === replyId) stream.markdown(p.delta);
    }),
    ctx.onNotification('chat/done', (p) => {
      if (p.messageId === replyId) finish({ status: p.status, error: p.error?.message });
    }),
    token.onCancellationRequested(() => replyId && void c.client.request('chat/cancel', { messageId: replyId }).catch(() => undefined)),
  ];
  try {
    const sent = await c.client.request('chat/send', { root: c.root, content: request.prompt });
    replyId = sent.replyId;
    for (const p of early.sort((a, b) => a.index - b.index)) if (p.messageId === replyId) stream.markdown(p.delta);
    const done = await finished;
    if (done.status === 'failed') stream.markdown(`\n\n_The answer failed: ${(done.error ?? 'see the Cairn output channel').replace(/\.$/, '')}._`);
    if (done.status === 'cancelled') stream.markdown('\n\n_Stopped._');
    return { metadata: { command: 'ask', sessionId: sent.sessionId, status: done.status } };
  } finally {
    for (const s of subs) s.dispose();
  }
}

/** The participant's handler, exported for the real-editor test, which drives it through the API. */
export function participantHandler(ctx: Ctx): vscode.ChatRequestHandler {
  return async (request, _context, stream, token) => {
    try {
      if (request.command === 'search') return await search(ctx, request, stream, token);
      if (request.command === 'sessions') return await sessions(ctx, stream);
      return await ask(ctx, request, stream, token);
    } catch (err) {
      const message = describeError(err);
      log().warn(`@cairn: ${message}`);
      return { errorDetails: { message } };
    }
  };
}

/** The search tool's text for a model: one passage per entry, each with its workspace path, line range and file URI. */
export function toolText(root: string, query: string, hits: readonly Hit[]): string {
  if (hits.length === 0) return `The Cairn knowledge base has no passages matching "${query}".`;
  return hits
    .map((h, i) => {
      const where = hitLocation(root, h);
      const head = where ? `${h.path}:${h.startLine}-${h.endLine} (${where.uri.toString()}#L${h.startLine})` : `${h.title ?? h.path} (${h.kind})`;
      return `${i + 1}. ${head}\n${h.snippet.length > 1200 ? `${h.snippet.slice(0, 1200)}\n…` : h.snippet}`;
    })
    .join('\n\n');
}

export function registerChatIntegration(ctx: Ctx): vscode.Disposable[] {
  const out: vscode.Disposable[] = [];
  // Hosts without the Chat or Language Model API (older or stripped-down editors) simply go without.
  if (typeof vscode.chat?.createChatParticipant === 'function') {
    const participant = vscode.chat.createChatParticipant(PARTICIPANT_ID, participantHandler(ctx));
    participant.iconPath = new vscode.ThemeIcon('database');
    participant.followupProvider = {
      provideFollowups(result) {
        const meta = result.metadata as { command?: string } | undefined;
        return meta?.command === 'ask'
          ? [{ prompt: 'Show the passages this answer is based on', label: 'Show the matching passages', command: 'search' }]
          : [];
      },
    };
    out.push(participant);
  } else log().info('this editor has no Chat API: the @cairn participant is not registered');
  if (typeof vscode.lm?.registerTool === 'function') {
    out.push(
      vscode.lm.registerTool<SearchToolInput>(SEARCH_TOOL, {
        prepareInvocation: (options) => ({ invocationMessage: `Searching the Cairn knowledge base for “${options.input.query}”` }),
        async invoke(options, token) {
          const client = await ctx.waitForClient(15_000);
          const root = ctx.workspaceRoot();
          if (!client || !root) throw new Error(client ? 'No workspace folder is open.' : 'The Cairn daemon is not running.');
          const ac = new AbortController();
          const sub = token.onCancellationRequested(() => ac.abort());
          try {
            const { query, limit, pathPrefix } = options.input;
            const hits = await client.request('kb/search', { root, query, limit: Math.min(20, Math.max(1, limit ?? 8)), ...(pathPrefix ? { pathPrefix } : {}) }, { signal: ac.signal });
            return new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(toolText(root, query, hits))]);
          } finally {
            sub.dispose();
          }
        },
      }),
    );
  } else log().info('this editor has no Language Model Tools API: the Cairn search tool is not registered');
  return out;
}
