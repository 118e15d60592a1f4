/**
 * `docs/mcp.md`, generated from the tool declarations in tools.ts (`npm run gen:protocol` runs this file after the
 * protocol's generator; test/mcp checks it is current), so what an agent's user reads is what the server offers.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { MCP_CLIENTS, mcpConfig } from './config.js';
import { MCP_PROMPT, SESSION_RESOURCE, mcpTools, type McpToolDef } from './tools.js';
import { MCP_PATH } from './http.js';

export function mcpMarkdown(): string {
  const out: string[] = [
    '# Cairn over MCP',
    '',
    '<!-- Generated from daemon/src/mcp/tools.ts by `npm run gen:protocol`; do not edit by hand. -->',
    '',
    "The daemon serves the team's knowledge base and chat sessions to any agent that speaks the",
    '[Model Context Protocol](https://modelcontextprotocol.io) (Claude Code, Cursor, VS Code agent mode, Cline, Continue, …),',
    'built on the official `@modelcontextprotocol/sdk`. Every tool calls a method of the daemon protocol, so an MCP client',
    'sees exactly what the user sees in the editor: in team mode what Row Level Security lets the signed-in user read, in',
    'embedded mode the local user; files are read with the chat tools\' confinement to the workspace folder.',
    '',
    '## Transports',
    '',
    '- **stdio**: `cairn mcp [--dir <folder>]` (the folder defaults to the current one; it is the default `root` of every',
    '  tool). It finds or starts the daemon like any `cairn` command. Register it with a client:',
    '',
  ];
  const self = { command: 'cairn', args: ['mcp'] };
  for (const client of MCP_CLIENTS) {
    out.push(`  \`cairn mcp --print-config ${client}\` prints (with the absolute paths of your install):`, '', '  ```', ...mcpConfig(client, self).split('\n').map((l) => `  ${l}`), '  ```', '');
  }
  out.push(
    `- **Streamable HTTP**: \`POST http://127.0.0.1:<port>${MCP_PATH}[?root=<folder>]\` on the daemon's loopback port (from`,
    '  `daemon.json`), stateless (JSON responses, no session id). The same rules as the WebSocket: the token from',
    '  `daemon.json` as `Authorization: Bearer <token>` (401 without it), and any request with an `Origin` header is',
    '  refused (403), so a web page cannot reach it through DNS rebinding. Other methods than POST get 405.',
    '',
    'A tool that fails answers `isError: true` with the daemon\'s error name and message (e.g. `InvalidInput: Refused:',
    '../x is outside the workspace folder.`); arguments that do not fit the schema are refused before anything runs.',
    '',
    '## Tools',
    '',
  );
  for (const [name, def] of Object.entries(mcpTools) as [string, McpToolDef][]) {
    const schema = z.toJSONSchema(def.input, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    delete schema.$schema;
    out.push(
      `### \`${name}\` — ${def.title}${def.readOnly ? '' : ' (writes)'}`,
      '',
      def.description,
      '',
      '```json',
      JSON.stringify(schema, null, 2),
      '```',
      '',
    );
  }
  out.push(
    '## Resources',
    '',
    `- \`${SESSION_RESOURCE.template}\` (${SESSION_RESOURCE.mimeType}): a chat session as Markdown. Listed for the`,
    '  default folder\'s project; any session id the user can read may be read.',
    '',
    '## Prompts',
    '',
    `- \`${MCP_PROMPT.name}\` (argument \`question\`): ${MCP_PROMPT.description}`,
    '',
  );
  return out.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const file = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'docs', 'mcp.md');
  writeFileSync(file, mcpMarkdown());
  process.stdout.write(`wrote ${file} (${Object.keys(mcpTools).length} tools)\n`);
}
