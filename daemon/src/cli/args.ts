/**
 * Argument parsing for `cairn`: `command [subcommand] [positionals] [--flag value | --flag=value | --bool | -k 5] [-- rest]`.
 * Flags that never take a value are listed, so `--json foo` keeps `foo` positional.
 */
import { CliError } from './command.js';

/** Flags that are switches, never followed by a value. */
const BOOLEAN_FLAGS = new Set(['json', 'help', 'h', 'stdio', 'version', 'force', 'all', 'watch', 'no-start', 'archived', 'verbose']);

export interface ParsedArgs {
  command: string | null;
  positionals: string[];
  flags: Record<string, string | boolean>;
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const positionals: string[] = [];
  const flags: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const name = eq === -1 ? a.slice(2) : a.slice(2, eq);
      if (eq !== -1) flags[name] = a.slice(eq + 1);
      else if (BOOLEAN_FLAGS.has(name)) flags[name] = true;
      else {
        const value = argv[i + 1];
        if (value === undefined || (value.startsWith('-') && value.length > 1 && !/^-\d/.test(value))) {
          throw new CliError(`--${name} needs a value`, 2);
        }
        flags[name] = value;
        i++;
      }
      continue;
    }
    if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) {
      const name = a.slice(1);
      if (name.length !== 1) throw new CliError(`unknown option ${a} (short options are one letter; use --${name})`, 2);
      if (BOOLEAN_FLAGS.has(name)) flags[name] = true;
      else {
        const value = argv[i + 1];
        if (value === undefined) throw new CliError(`-${name} needs a value`, 2);
        flags[name] = value;
        i++;
      }
      continue;
    }
    positionals.push(a);
  }
  const [command = null, ...rest] = positionals;
  return { command, positionals: rest, flags };
}
