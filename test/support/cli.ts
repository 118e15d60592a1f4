// Runs a `cairn` command in-process as `cairn <name> <argv>` would, against a given daemon client, and captures
// what it prints and its exit code (CliError included), for command tests that need no spawned CLI.
import { parseArgs } from '../../daemon/src/cli/args.js';
import type { RpcClient } from '../../daemon/src/protocol/client/client.js';
import { CliError, type CliCommand, type CliContext } from '../../daemon/src/cli/command.js';

export interface CommandRun {
  code: number;
  out: string[];
  err: string[];
}

export async function runCommand(
  cmd: CliCommand,
  argv: string[],
  opts: { client: unknown; cwd: string; env?: NodeJS.ProcessEnv },
): Promise<CommandRun> {
  const parsed = parseArgs([cmd.name, ...argv]);
  const out: string[] = [];
  const err: string[] = [];
  const ctx: CliContext = {
    args: parsed.positionals,
    flags: parsed.flags,
    json: parsed.flags.json === true,
    cwd: opts.cwd,
    env: opts.env ?? {},
    connect: async () => opts.client as RpcClient,
    // The test's daemon stands in for the private one; the test stops it.
    startPrivateDaemon: async () => ({ client: opts.client as RpcClient, stop: async () => undefined }),
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
  };
  try {
    return { code: await cmd.run(ctx), out, err };
  } catch (e) {
    if (e instanceof CliError) return { code: e.exitCode, out, err: [...err, e.message] };
    throw e;
  }
}
