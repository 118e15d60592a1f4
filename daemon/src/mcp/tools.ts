/**
 * What Cairn offers to other agents over the Model Context Protocol, declared once: each tool's name,
 * description and input schema (written for a model to use well) and how it maps onto protocol methods.
 * The MCP server (`server.ts`) registers these; `docs/mcp.md` is generated from them (gen-docs.ts).
 *
 * A tool never reaches the database or the disk itself: it calls protocol methods through `call`, so an MCP
 * client gets exactly what the same user gets in the editor (RLS in team mode, the chat tools' confinement for
 * files), with the protocol's validation and limits.
 */
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import type { KbHit } from '../protocol/kb.js';
import { sessionMarkdown } from '../../../supabase/functions/_shared/session-markdown.js';
import type { CallMethod } from '../rpc/internal.js';

export interface McpToolContext {
  readonly call: CallMethod;
  /** The workspace folder tools use when the model gives none (`cairn mcp` in a folder, or `?root=` over HTTP). */
  readonly defaultRoot: string | null;
  readonly signal: AbortSignal;
}

export interface McpToolResult {
  /** What the model reads. */
  readonly text: string;
  /** The same answer as data, for clients that read `structuredContent`. */
  readonly data?: Record<string, unknown>;
}

export interface McpToolDef<S extends z.ZodObject = z.ZodObject> {
  readonly title: string;
  readonly description: string;
  readonly input: S;
  /** True when the tool changes nothing (clients may run it without asking). */
  readonly readOnly: boolean;
  run(args: z.output<S>, ctx: McpToolContext): Promise<McpToolResult>;
}

function tool<S extends z.ZodObject>(def: McpToolDef<S>): McpToolDef<S> {
  return def;
}

/** Thrown for a request the model can fix; the server answers it as a tool error. */
export class McpToolInputError extends Error {}

const root = z
  .string()
  .optional()
  .describe('Absolute path of the workspace folder (its project and files). Default: the folder this MCP server was started for.');

export function rootOf(args: { root?: string | undefined }, ctx: McpToolContext): string {
  const r = args.root ?? ctx.defaultRoot;
  if (!r) throw new McpToolInputError('Give `root`: the absolute path of the workspace folder (this MCP connection has no default folder).');
  if (!isAbsolute(r)) throw new McpToolInputError(`root must be an absolute path, got "${r}"`);
  return r;
}

const sessionId = z.guid().describe('A session id, as list_sessions returns it.');

/** A session as Markdown: what the `cairn://session/<id>` resource and the read_session tool return. */
export { sessionMarkdown };

function hitsText(query: string, hits: readonly KbHit[]): string {
  if (hits.length === 0) return `No passages in the knowledge base match "${query}".`;
  return hits
    .map((h, i) => {
      const body = h.snippet.length > 1200 ? `${h.snippet.slice(0, 1200)}\n…` : h.snippet;
      return `${i + 1}. ${h.path}:${h.startLine}-${h.endLine}${h.kind === 'file' ? '' : ` (${h.kind})`}\n${body}`;
    })
    .join('\n\n');
}

export const mcpTools = {
  search_knowledge_base: tool({
    title: 'Search the knowledge base',
    description:
      "Searches the team's Cairn knowledge base for the workspace (indexed source files, added documents, URLs and FAQ) " +
      'by keywords and meaning. Returns the best passages with their location as path:startLine-endLine and the text. ' +
      'Use exact identifiers when you know them; narrow with pathPrefix, glob, language or kind. Read more of a file with read_file.',
    input: z.object({
      query: z.string().min(1).max(4000).describe('What to look for: an identifier, an error message, or a question.'),
      limit: z.number().int().min(1).max(50).default(8).describe('How many passages (default 8).'),
      pathPrefix: z.string().optional().describe('Only files under this folder, e.g. "daemon/src/".'),
      glob: z.string().optional().describe('Only paths matching this glob, e.g. "src/**/*.ts".'),
      language: z.string().optional().describe('Only this language, e.g. "typescript".'),
      kind: z.enum(['file', 'document', 'url', 'faq']).optional().describe('Only this kind of source.'),
      root,
    }),
    readOnly: true,
    async run(a, ctx) {
      const hits = await ctx.call(
        'kb/search',
        { root: rootOf(a, ctx), query: a.query, limit: a.limit, pathPrefix: a.pathPrefix, glob: a.glob, language: a.language, kind: a.kind },
        { signal: ctx.signal },
      );
      return {
        text: hitsText(a.query, hits),
        data: { hits: hits.map((h) => ({ path: h.path, startLine: h.startLine, endLine: h.endLine, kind: h.kind, snippet: h.snippet })) },
      };
    },
  }),
  read_file: tool({
    title: 'Read a workspace file',
    description:
      'Reads lines of a text file in the workspace folder, with line numbers (up to 400 lines per call). Paths are ' +
      'relative to the folder; paths that leave it are refused. Use after search_knowledge_base to see more context.',
    input: z.object({
      path: z.string().min(1).describe('File path relative to the workspace folder, e.g. "src/index.ts".'),
      startLine: z.number().int().min(1).default(1).describe('First line (default 1).'),
      endLine: z.number().int().min(1).optional().describe('Last line (default startLine + 399).'),
      root,
    }),
    readOnly: true,
    async run(a, ctx) {
      const r = await ctx.call('workspace/readFile', { root: rootOf(a, ctx), path: a.path, startLine: a.startLine, endLine: a.endLine }, { signal: ctx.signal });
      return { text: r.text };
    },
  }),
  list_sessions: tool({
    title: 'List chat sessions',
    description:
      "Lists the Cairn chat sessions of the workspace's project that the user can read: their own and, in a team, the " +
      "sessions teammates shared. Newest first. Read one with read_session or the cairn://session/<id> resource.",
    input: z.object({
      visibility: z.enum(['any', 'private', 'team']).default('any').describe('Only private sessions, only team-shared ones, or both.'),
      limit: z.number().int().min(1).max(100).default(20),
      includeArchived: z.boolean().default(false),
      root,
    }),
    readOnly: true,
    async run(a, ctx) {
      const { sessions } = await ctx.call('sessions/list', { root: rootOf(a, ctx), limit: a.limit, includeArchived: a.includeArchived }, { signal: ctx.signal });
      const shown = sessions.filter((s) => a.visibility === 'any' || s.visibility === a.visibility);
      const text =
        shown.length === 0
          ? 'No sessions.'
          : shown.map((s) => `- ${s.title ?? 'Untitled'} (id ${s.id}, ${s.visibility}, updated ${s.updatedAt})`).join('\n');
      return { text, data: { sessions: shown.map((s) => ({ id: s.id, title: s.title, visibility: s.visibility, updatedAt: s.updatedAt })) } };
    },
  }),
  read_session: tool({
    title: 'Read a chat session',
    description: 'Returns a Cairn chat session as Markdown: its title, visibility and the conversation (user and assistant messages).',
    input: z.object({ sessionId, limit: z.number().int().min(1).max(500).default(200).describe('At most this many messages.') }),
    readOnly: true,
    async run(a, ctx) {
      const r = await ctx.call('sessions/get', { sessionId: a.sessionId, limit: a.limit }, { signal: ctx.signal });
      return { text: sessionMarkdown(r.session, r.messages, r.access) };
    },
  }),
  post_note: tool({
    title: 'Post a note to a session',
    description:
      'Adds a note to a Cairn chat session as the user (no reply is generated), e.g. to record a finding for the team. ' +
      'Only sessions the user may write; teammates see the note in their editor.',
    input: z.object({ sessionId, text: z.string().min(1).max(100_000).describe('The note, in Markdown.') }),
    readOnly: false,
    async run(a, ctx) {
      const m = await ctx.call('sessions/post', { sessionId: a.sessionId, content: a.text }, { signal: ctx.signal });
      return { text: `Posted as message #${m.seq} in session ${m.sessionId}.`, data: { messageId: m.id, seq: m.seq } };
    },
  }),
  list_tasks: tool({
    title: 'List tasks',
    description: "Lists the tasks of the workspace's project (title, status, description), optionally of one status.",
    input: z.object({ status: z.enum(['todo', 'in_progress', 'done', 'cancelled']).optional(), root }),
    readOnly: true,
    async run(a, ctx) {
      const { tasks } = await ctx.call('tasks/list', { root: rootOf(a, ctx), status: a.status }, { signal: ctx.signal });
      const text =
        tasks.length === 0
          ? 'No tasks.'
          : tasks.map((t) => `- [${t.status}] ${t.title} (id ${t.id})${t.description ? `\n  ${t.description.split('\n')[0]}` : ''}`).join('\n');
      return { text, data: { tasks: tasks.map((t) => ({ id: t.id, title: t.title, status: t.status, description: t.description })) } };
    },
  }),
} as const;

export const MCP_PROMPT = {
  name: 'ask_team_knowledge_base',
  title: 'Ask the team knowledge base',
  description: "Answer a question from the team's Cairn knowledge base, citing path:lines for every claim.",
  text: (question: string) =>
    `Answer this question about the project from the team's knowledge base: ${question}\n\n` +
    'First call search_knowledge_base (with exact identifiers where you know them), read the most relevant passages ' +
    'with read_file if you need more context, and cite each source as path:startLine-endLine. If the knowledge base has ' +
    'nothing relevant, say so instead of guessing.',
} as const;

export const SESSION_RESOURCE = { name: 'session', template: 'cairn://session/{sessionId}', mimeType: 'text/markdown' } as const;
