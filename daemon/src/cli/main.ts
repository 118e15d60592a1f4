/**
 * `cairn`: the command-line client of the daemon (entry of dist/cli.mjs, loaded by bin/cairn.mjs). Every
 * command speaks the same protocol as an editor. Exit codes: 0 success, 1 failure (one line on stderr),
 * 2 usage error. With `--json` a command prints exactly one JSON document on stdout.
 */
import { resolve } from 'node:path';
import { cairnHome } from '../config.js';
import { DaemonClient, DaemonResponseError, ConnectionClosedError } from '../protocol/client/client.js';
import { DaemonStartError, ensureDaemon } from '../protocol/client/ensure.js';
import { isProcessAlive } from '../protocol/client/discovery.js';
import { PROTOCOL_VERSION } from '../protocol/index.js';
import { DAEMON_VERSION } from '../rpc/version.js';
import { parseArgs } from './args.js';
import type { RpcClient } from '../protocol/client/client.js';
import { CliError, type CliCommand, type CliContext } from './command.js';
import { command as backup } from './commands/backup.js';
import { command as chat } from './commands/chat.js';
import { command as daemon } from './commands/daemon.js';
import { command as evalCommand } from './commands/eval.js';
import { command as index } from './commands/index.js';
import { command as mcp } from './commands/mcp.js';
import { command as invitations } from './commands/invitations.js';
import { command as migrate } from './commands/migrate.js';
import { command as restore } from './commands/restore.js';
import { command as search } from './commands/search.js';
import { command as secrets } from './commands/secrets.js';
import { command as sessions } from './commands/sessions.js';
import { command as status } from './commands/status.js';
import { command as stop } from './commands/stop.js';

/** Every command, in the order `cairn --help` lists them. */
const commands: CliCommand[] = [daemon, status, index, search, chat, sessions, invitations, mcp, stop, migrate, backup, restore, evalCommand, secrets];

interface CliIo {
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdout(text: string): void;
  stderr(text: string): void;
}

function helpText(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    `cairn ${DAEMON_VERSION}: agents, chat and a shared knowledge base, from the command line`,
    '',
    'usage: cairn <command> [args] [--json]',
    '',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Every command is a client of the daemon (started when none runs) except these, which run in the cairn process:',
    ...commands.filter((c) => c.inProcess).map((c) => `  ${c.name.padEnd(width)}  ${c.inProcess}`),
    '',
    'Every command takes --json (one JSON document on stdout) and --help.',
    'Environment: CAIRN_HOME, CAIRN_DATABASE_URL, CAIRN_MODEL_BASE_URL, CAIRN_MODEL, OPENAI_API_KEY, CAIRN_EMBEDDINGS.',
    'Exit codes: 0 success, 1 failure, 2 usage error.',
  ].join('\n');
}

/** Settings and keys from the CLI's own environment, handed to a daemon that may have started with another. */
function initializeParams(env: NodeJS.ProcessEnv) {
  const chat: { baseUrl?: string; model?: string } = {};
  if (env.CAIRN_MODEL_BASE_URL) chat.baseUrl = env.CAIRN_MODEL_BASE_URL;
  if (env.CAIRN_MODEL) chat.model = env.CAIRN_MODEL;
  const secrets: { chatApiKey?: string; embeddingsApiKey?: string } = {};
  if (env.OPENAI_API_KEY) {
    secrets.chatApiKey = env.OPENAI_API_KEY;
    secrets.embeddingsApiKey = env.OPENAI_API_KEY;
  }
  return {
    clientName: 'cairn-cli',
    clientVersion: DAEMON_VERSION,
    ...(Object.keys(chat).length ? { settings: { chat } } : {}),
    ...(Object.keys(secrets).length ? { secrets } : {}),
  };
}

/** How the CLI starts a daemon: the same runtime and entry script running `cairn daemon`. */
function daemonSpawnArgs(): { execPath: string; args: string[] } {
  const entry = process.argv[1] ? resolve(process.argv[1]) : '';
  return { execPath: process.execPath, args: [...process.execArgv, entry, 'daemon'] };
}

async function runCli(io: CliIo): Promise<number> {
  let client: DaemonClient | null = null;
  const privateClients: DaemonClient[] = [];
  let json = false;
  try {
    const parsed = parseArgs(io.argv);
    json = parsed.flags.json === true;
    if (parsed.flags.version === true && parsed.command === null) {
      io.stdout(json ? JSON.stringify({ version: DAEMON_VERSION }) : DAEMON_VERSION);
      return 0;
    }
    if (parsed.command === null || parsed.command === 'help') {
      io.stdout(helpText());
      return parsed.command === null && parsed.flags.help !== true ? 2 : 0;
    }
    const cmd = commands.find((c) => c.name === parsed.command);
    if (!cmd) throw new CliError(`unknown command '${parsed.command}'; run cairn --help`, 2);
    if (parsed.flags.help === true || parsed.flags.h === true) {
      io.stdout(`usage: ${cmd.usage}\n\n${cmd.summary}`);
      return 0;
    }
    const ctx: CliContext = {
      args: parsed.positionals,
      flags: parsed.flags,
      json,
      cwd: io.cwd,
      env: io.env,
      stdout: io.stdout,
      stderr: io.stderr,
      async connect(): Promise<RpcClient> {
        if (client) return client;
        const home = cairnHome(io.env);
        const info = await ensureDaemon(home, { spawn: { ...daemonSpawnArgs(), env: io.env, cwd: io.cwd } });
        if (info.protocolVersion !== PROTOCOL_VERSION) {
          throw new CliError(`the running daemon (pid ${info.pid}, ${info.version}) speaks protocol ${info.protocolVersion}, this cairn speaks ${PROTOCOL_VERSION}; run cairn stop and retry`);
        }
        client = await DaemonClient.connect(info);
        await client.request('initialize', initializeParams(io.env));
        return client;
      },
      async startPrivateDaemon(home, env) {
        const info = await ensureDaemon(home, { spawn: { ...daemonSpawnArgs(), env, cwd: io.cwd } });
        const own = await DaemonClient.connect(info);
        privateClients.push(own);
        await own.request('initialize', initializeParams(env));
        const stop = async () => {
          await own.request('shutdown', {}).catch(() => undefined);
          await own.close().catch(() => undefined);
          const deadline = Date.now() + 30_000;
          while (isProcessAlive(info.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        };
        return { client: own, stop };
      },
    };
    return await cmd.run(ctx);
  } catch (err) {
    const { message, code } = describeFailure(err);
    io.stderr(`cairn: ${message}`);
    return code;
  } finally {
    await (client as DaemonClient | null)?.close().catch(() => undefined);
    for (const c of privateClients) await c.close().catch(() => undefined);
  }
}

function describeFailure(err: unknown): { message: string; code: 1 | 2 } {
  if (err instanceof CliError) return { message: err.message, code: err.exitCode };
  if (err instanceof DaemonResponseError) {
    return { message: `${err.message}${err.codeName ? ` (${err.codeName})` : ''}`, code: err.codeName === 'InvalidParams' ? 2 : 1 };
  }
  if (err instanceof DaemonStartError || err instanceof ConnectionClosedError) return { message: err.message, code: 1 };
  return { message: (err as Error)?.message ?? String(err), code: 1 };
}

const code = await runCli({
  argv: process.argv.slice(2),
  env: process.env,
  cwd: process.cwd(),
  stdout: (t) => process.stdout.write(`${t}\n`),
  stderr: (t) => process.stderr.write(`${t}\n`),
});
// `cairn daemon` returns only after shutdown; every other command is done, whatever sockets linger.
process.exit(code);
