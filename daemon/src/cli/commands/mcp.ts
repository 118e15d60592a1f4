/**
 * `cairn mcp [--dir d]`: Cairn's MCP server on stdio, for agents that spawn a command (Claude Code, Cursor,
 * VS Code's mcp.json, …). It is a client of the daemon like every command, so it sees what the signed-in user
 * sees. `cairn mcp --print-config <client>` prints the snippet that registers it with a client.
 */
import { resolve } from 'node:path';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { MCP_CLIENTS, mcpConfig, type McpClient } from '../../mcp/config.js';
import { createMcpServer } from '../../mcp/server.js';
import { CliError, type CliCommand } from '../command.js';

export const command: CliCommand = {
  name: 'mcp',
  summary: "Serve Cairn's knowledge base and sessions to other agents over MCP on stdio (or print a client's config).",
  usage: `cairn mcp [--dir d] | cairn mcp --print-config ${MCP_CLIENTS.join('|')}`,
  async run(ctx) {
    const print = ctx.flags['print-config'];
    if (print !== undefined) {
      if (typeof print !== 'string' || !(MCP_CLIENTS as readonly string[]).includes(print)) {
        throw new CliError(`--print-config needs one of: ${MCP_CLIENTS.join(', ')}`, 2);
      }
      ctx.stdout(mcpConfig(print as McpClient));
      return 0;
    }
    const dir = typeof ctx.flags.dir === 'string' ? ctx.flags.dir : '.';
    const client = await ctx.connect();
    const server = createMcpServer({ call: (method, params, opts) => client.request(method, params, opts), defaultRoot: resolve(ctx.cwd, dir) });
    const transport = new StdioServerTransport();
    const closed = new Promise<void>((done) => {
      transport.onclose = done;
      process.stdin.once('end', done);
      process.stdin.once('close', done);
    });
    await server.connect(transport);
    ctx.stderr(`cairn mcp: serving ${resolve(ctx.cwd, dir)} on stdio`);
    await closed;
    await server.close();
    return 0;
  },
};
