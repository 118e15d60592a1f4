/**
 * The Cairn MCP server: the tools, the session resource and the prompt of `tools.ts`, on the official SDK's
 * `McpServer`. Transport-free: `cairn mcp` connects it to stdio (calling the daemon over its WebSocket), and
 * the daemon's `/mcp` endpoint (`http.ts`) to Streamable HTTP (calling itself in-process).
 */
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { RpcError } from '../protocol/errors.js';
import type { CallMethod } from '../rpc/internal.js';
import { DAEMON_VERSION } from '../rpc/version.js';
import { MCP_PROMPT, McpToolInputError, SESSION_RESOURCE, mcpTools, sessionMarkdown, type McpToolDef } from './tools.js';

export interface McpServerOptions {
  readonly call: CallMethod;
  readonly defaultRoot: string | null;
}

/** A tool failure the model can read: the daemon's typed error (code name and message), never a stack. */
function toolError(err: unknown): CallToolResult {
  const text =
    err instanceof McpToolInputError
      ? err.message
      : typeof (err as { codeName?: unknown }).codeName === 'string' // RpcError in the daemon, DaemonResponseError in the CLI
        ? `${(err as RpcError).codeName}: ${(err as Error).message}`
        : `InternalError: ${err instanceof Error ? err.message : String(err)}`;
  return { isError: true, content: [{ type: 'text', text }] };
}

export function createMcpServer(opts: McpServerOptions): McpServer {
  const server = new McpServer(
    { name: 'cairn', title: 'Cairn', version: DAEMON_VERSION },
    {
      instructions:
        "Cairn is the team's knowledge base and shared chat sessions for this workspace. Search it with " +
        'search_knowledge_base before answering questions about the project, and cite path:startLine-endLine.',
    },
  );

  for (const [name, def] of Object.entries(mcpTools) as [string, McpToolDef][]) {
    server.registerTool(
      name,
      {
        title: def.title,
        description: def.description,
        inputSchema: def.input,
        annotations: { title: def.title, readOnlyHint: def.readOnly, openWorldHint: false },
      },
      async (args: unknown, extra): Promise<CallToolResult> => {
        try {
          const r = await def.run(def.input.parse(args), { call: opts.call, defaultRoot: opts.defaultRoot, signal: extra.signal });
          return { content: [{ type: 'text', text: r.text }], ...(r.data ? { structuredContent: r.data } : {}) };
        } catch (err) {
          return toolError(err);
        }
      },
    );
  }

  server.registerResource(
    SESSION_RESOURCE.name,
    new ResourceTemplate(SESSION_RESOURCE.template, {
      list: async (extra) => {
        if (!opts.defaultRoot) return { resources: [] };
        const { sessions } = await opts.call('sessions/list', { root: opts.defaultRoot, limit: 50 }, { signal: extra.signal });
        return {
          resources: sessions.map((s) => ({
            uri: `cairn://session/${s.id}`,
            name: s.title ?? 'Untitled session',
            mimeType: SESSION_RESOURCE.mimeType,
          })),
        };
      },
    }),
    { title: 'Cairn chat session', description: 'A chat session (mine or shared with my team) as Markdown.', mimeType: SESSION_RESOURCE.mimeType },
    async (uri, variables, extra) => {
      const id = String(variables.sessionId ?? '');
      const parsed = z.guid().safeParse(id);
      if (!parsed.success) throw new Error(`Not a session id: ${id.slice(0, 100)}`);
      const r = await opts.call('sessions/get', { sessionId: parsed.data, limit: 500 }, { signal: extra.signal });
      return { contents: [{ uri: uri.href, mimeType: SESSION_RESOURCE.mimeType, text: sessionMarkdown(r.session, r.messages, r.access) }] };
    },
  );

  server.registerPrompt(
    MCP_PROMPT.name,
    { title: MCP_PROMPT.title, description: MCP_PROMPT.description, argsSchema: { question: z.string().describe('The question to answer.') } },
    ({ question }) => ({ messages: [{ role: 'user', content: { type: 'text', text: MCP_PROMPT.text(question) } }] }),
  );
  return server;
}
