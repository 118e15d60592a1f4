/** The snippets that register `cairn mcp` with common MCP clients (`cairn mcp --print-config`, docs/mcp.md). */
import { resolve } from 'node:path';

export const MCP_CLIENTS = ['vscode', 'claude-code', 'cursor'] as const;
export type McpClient = (typeof MCP_CLIENTS)[number];

/** The command that starts this very CLI: the same runtime and entry script, so the snippet works as printed. */
function selfCommand(): { command: string; args: string[] } {
  const entry = process.argv[1] ? resolve(process.argv[1]) : 'cairn';
  return { command: process.execPath, args: [entry, 'mcp'] };
}

export function mcpConfig(client: McpClient, self = selfCommand()): string {
  switch (client) {
    case 'vscode':
      return [
        '// .vscode/mcp.json (or "MCP: Open User Configuration")',
        JSON.stringify({ servers: { cairn: { type: 'stdio', command: self.command, args: [...self.args, '--dir', '${workspaceFolder}'] } } }, null, 2),
      ].join('\n');
    case 'claude-code':
      return [
        '# run in the project folder (or put the JSON below in .mcp.json)',
        `claude mcp add cairn -- ${[self.command, ...self.args].map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}`,
        JSON.stringify({ mcpServers: { cairn: { command: self.command, args: self.args } } }, null, 2),
      ].join('\n');
    case 'cursor':
      return ['// .cursor/mcp.json in the project', JSON.stringify({ mcpServers: { cairn: { command: self.command, args: self.args } } }, null, 2)].join('\n');
  }
}
