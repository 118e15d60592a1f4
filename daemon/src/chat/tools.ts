/**
 * The agent's tools, as LangChain tools with zod schemas. File tools work through `Workspace`, which
 * confines every path to the workspace folder; task tools go through the SQL API as the acting user.
 */
import { tool, type StructuredToolInterface } from '@langchain/core/tools';
import { convertToOpenAITool } from '@langchain/core/utils/function_calling';
import { z } from 'zod';
import type { Store } from '../store/types.js';
import type { Workspace } from './workspace-files.js';

import type { KbHit } from '../protocol/kb.js';
import { AgentToolName } from '../protocol/agents.js';
import type { ParamsOf } from '../protocol/index.js';

/** Knowledge-base search of one workspace folder's project (the kb subsystem's `searchKnowledgeBase`). */
export type KbSearch = (
  store: Store,
  q: ParamsOf<'kb/search'>,
  signal?: AbortSignal,
) => Promise<KbHit[]>;

export const TOOL_NAMES = AgentToolName.options;
export type ToolName = (typeof TOOL_NAMES)[number];

export interface ToolContext {
  store: Store;
  workspace: Workspace | null;
  kbSearch: KbSearch | null;
  projectId: string | null;
  sessionId: string;
  signal: AbortSignal;
}

export function formatKbHits(hits: KbHit[], maxChars = 1200): string {
  return hits
    .map((h, i) => {
      const body = h.snippet.length > maxChars ? `${h.snippet.slice(0, maxChars)}\n…` : h.snippet;
      return `${i + 1}. ${h.path}:${h.startLine}-${h.endLine} (score ${h.score.toFixed(3)})\n${body}`;
    })
    .join('\n\n');
}

/** The tools available in this context, filtered to the agent's allowed names. */
export function buildTools(ctx: ToolContext, allowed: readonly string[]): StructuredToolInterface[] {
  const tools: StructuredToolInterface[] = [];
  const want = (n: ToolName) => allowed.includes(n);
  const ws = ctx.workspace;

  if (want('search_knowledge_base') && ctx.kbSearch && ws) {
    const kbSearch = ctx.kbSearch;
    tools.push(
      tool(
        async ({ query, limit, pathPrefix, language }) => {
          const hits = await kbSearch(ctx.store, { root: ws.root, query, limit: limit ?? 8, pathPrefix, language }, ctx.signal);
          return hits.length > 0 ? formatKbHits(hits) : `The knowledge base has no passages matching "${query}".`;
        },
        {
          name: 'search_knowledge_base',
          description:
            "Searches the project's knowledge base (indexed workspace files, added documents, FAQ) by meaning and keywords. " +
            'Returns the most relevant passages with their locations as path:startLine-endLine. Use it first for questions about the project.',
          schema: z.object({
            query: z.string().min(1).describe('What to look for, in natural language or as keywords.'),
            limit: z.number().int().min(1).max(20).optional().describe('How many passages (default 8).'),
            pathPrefix: z.string().optional().describe('Only files under this folder, e.g. "daemon/src/".'),
            language: z.string().optional().describe('Only files of this language, e.g. "typescript".'),
          }),
        },
      ),
    );
  }
  if (want('read_file') && ws) {
    tools.push(
      tool(async ({ path, startLine, endLine }) => ws.readFile(path, startLine ?? 1, endLine), {
        name: 'read_file',
        description: 'Reads a text file of the workspace, with line numbers (up to 400 lines at a time). Paths are relative to the workspace folder.',
        schema: z.object({
          path: z.string().min(1),
          startLine: z.number().int().min(1).optional(),
          endLine: z.number().int().min(1).optional(),
        }),
      }),
    );
  }
  if (want('list_files') && ws) {
    tools.push(
      tool(async ({ path, depth }) => ws.listFiles(path ?? '.', depth ?? 2), {
        name: 'list_files',
        description: 'Lists files and folders (folders end with /) under a workspace folder, skipping ignored files.',
        schema: z.object({
          path: z.string().optional().describe('Folder relative to the workspace (default: the workspace itself).'),
          depth: z.number().int().min(1).max(6).optional().describe('How many levels down (default 2).'),
        }),
      }),
    );
  }
  if (want('grep') && ws) {
    tools.push(
      tool(async ({ pattern, path, ignoreCase, maxResults }) => ws.grep(pattern, { path, ignoreCase, maxResults, signal: ctx.signal }), {
        name: 'grep',
        description: 'Finds lines matching a regular expression in workspace files; answers path:line: text, at most 50 by default.',
        schema: z.object({
          pattern: z.string().min(1),
          path: z.string().optional().describe('File or folder to search (default: the whole workspace).'),
          ignoreCase: z.boolean().optional(),
          maxResults: z.number().int().min(1).max(200).optional(),
        }),
      }),
    );
  }
  if (want('create_task') && ctx.projectId) {
    const projectId = ctx.projectId;
    tools.push(
      tool(
        async ({ title, description }) => {
          const t = await ctx.store.rpc('create_task', {
            p_project_id: projectId,
            p_title: title,
            p_description: description ?? null,
            p_session_id: ctx.sessionId,
          });
          return `Created task ${t.id} "${t.title}" (${t.status}).`;
        },
        {
          name: 'create_task',
          description: "Adds a task to the project's task list, linked to this conversation.",
          schema: z.object({ title: z.string().min(1).max(300), description: z.string().max(20_000).optional() }),
        },
      ),
    );
  }
  if (want('update_task')) {
    tools.push(
      tool(
        async ({ taskId, title, description, status }) => {
          const patch: Record<string, unknown> = {};
          if (title !== undefined) patch.title = title;
          if (description !== undefined) patch.description = description;
          if (status !== undefined) patch.status = status;
          const t = await ctx.store.rpc('update_task', { p_task_id: taskId, p_patch: patch });
          return `Updated task ${t.id} "${t.title}" (${t.status}).`;
        },
        {
          name: 'update_task',
          description: 'Changes the title, description or status (todo, in_progress, done, cancelled) of a task.',
          schema: z.object({
            taskId: z.string().min(1),
            title: z.string().min(1).max(300).optional(),
            description: z.string().max(20_000).optional(),
            status: z.enum(['todo', 'in_progress', 'done', 'cancelled']).optional(),
          }),
        },
      ),
    );
  }
  return tools;
}

const definitions = new Map<string, ReturnType<typeof convertToOpenAITool>>();

/**
 * The tools as OpenAI function definitions. Their schemas never change, so each is converted from zod to JSON
 * Schema once rather than on every model call.
 */
export function toolDefinitions(tools: StructuredToolInterface[]): ReturnType<typeof convertToOpenAITool>[] {
  return tools.map((t) => {
    let d = definitions.get(t.name);
    if (!d) definitions.set(t.name, (d = convertToOpenAITool(t)));
    return d;
  });
}
