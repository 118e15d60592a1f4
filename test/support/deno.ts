/**
 * Runs a Supabase Edge Function (`supabase/functions/<name>/index.ts`, a `Deno.serve` entry) under the Deno
 * binary of the npm package `deno`, on a free 127.0.0.1 port, the way the Edge Runtime would serve it:
 *
 * - The environment the Edge Runtime injects (SUPABASE_URL, SUPABASE_ANON_KEY, SUPABASE_SERVICE_ROLE_KEY,
 *   SUPABASE_DB_URL) plus the function's secrets (`supabase secrets set`), and nothing else of ours.
 * - Network only to 127.0.0.1 (`--allow-net=127.0.0.1`), no file writes; the environment holds only those variables.
 * - Nothing is downloaded: `npm:` imports resolve from the repository's node_modules
 *   (`--node-modules-dir=manual`, found through the root package.json), DENO_DIR is a fresh temp folder and
 *   `--cached-only` refuses any remote module; JSR and deno.land are unreachable here anyway.
 * - `Deno.serve()` listens where `DENO_SERVE_ADDRESS` says (Deno 2's override), so the function's code is the
 *   deployed code, unchanged.
 *
 * The request path the function sees is `/<name>/...`, as behind Supabase's `/functions/v1/` route;
 * `startSupabaseTestServers({ functions })` forwards that route here (and checks the JWT first when the
 * function has `verify_jwt`), so clients call `<project URL>/functions/v1/<name>/...` as on a real project.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The Deno executable shipped by the npm package `deno` (its platform package, or the linked copy). */
export function denoBinary(): string {
  const require = createRequire(join(ROOT, 'package.json'));
  const exe = process.platform === 'win32' ? 'deno.exe' : 'deno';
  const linked = join(dirname(require.resolve('deno/package.json')), exe);
  if (existsSync(linked)) return linked;
  const libc = process.platform === 'linux' ? '-glibc' : '';
  const platformPkg = `@deno/${process.platform}-${process.arch}${libc}/package.json`;
  return join(dirname(require.resolve(platformPkg)), exe);
}

export interface EdgeFunctionEnv {
  SUPABASE_URL: string;
  SUPABASE_ANON_KEY: string;
  SUPABASE_SERVICE_ROLE_KEY?: string;
  SUPABASE_DB_URL?: string;
  /** Function secrets (`supabase secrets set NAME=value`). */
  [secret: string]: string | undefined;
}

export interface EdgeFunction {
  name: string;
  /** http://127.0.0.1:<port>; the function's own routes are under `/<name>/`. */
  origin: string;
  pid: number;
  /** Everything the function printed (console.log/error), for a failing test's message. */
  output(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

/** Starts `supabase/functions/<name>/index.ts` and resolves once it answers HTTP. */
export async function startEdgeFunction(name: string, env: EdgeFunctionEnv, opts: { timeoutMs?: number } = {}): Promise<EdgeFunction> {
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) throw new Error(`bad function name ${name}`);
  const entry = join(ROOT, 'supabase', 'functions', name, 'index.ts');
  if (!existsSync(entry)) throw new Error(`no Edge Function at ${entry}`);
  const port = await freePort();
  const denoDir = mkdtempSync(join(tmpdir(), 'cairn-deno-'));
  const fnEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) fnEnv[k] = v;
  const child: ChildProcess = spawn(
    denoBinary(),
    [
      'run',
      '--node-modules-dir=manual',
      '--cached-only',
      '--no-prompt',
      '--no-check',
      '--allow-net=127.0.0.1',
      // Any name, as the Edge Runtime allows (an unset one reads as undefined; postgres.js probes PG*): the
      // child's environment below holds only the runtime's variables and the secrets.
      '--allow-env',
      `--allow-read=${join(ROOT, 'node_modules')},${join(ROOT, 'supabase', 'functions')}`,
      entry,
    ],
    {
      cwd: ROOT,
      // Only what the Edge Runtime gives a function; no proxy settings, no HOME secrets.
      env: {
        PATH: process.env.PATH ?? '',
        HOME: denoDir,
        DENO_DIR: denoDir,
        DENO_NO_UPDATE_CHECK: '1',
        DENO_NO_PROMPT: '1',
        NO_COLOR: '1',
        DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}`,
        ...fnEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  const keep = (b: Buffer) => {
    out += b.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let gone = false;
  void exited.then(() => (gone = true));

  const origin = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (!gone && child.pid) {
      try {
        process.kill(child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      const timer = setTimeout(() => {
        if (!gone && child.pid) process.kill(child.pid, 'SIGKILL');
      }, 3000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(denoDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    if (gone) {
      await stop();
      throw new Error(`Edge Function ${name} exited before answering:\n${out.slice(-4000)}`);
    }
    try {
      await fetch(`${origin}/${name}/`, { method: 'OPTIONS', signal: AbortSignal.timeout(1000) });
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`Edge Function ${name} did not answer within ${opts.timeoutMs ?? 60_000} ms:\n${out.slice(-4000)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { name, origin, pid: child.pid!, output: () => out, stop };
}
