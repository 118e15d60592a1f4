/**
 * The code a question set is about. An npm package is fetched once with `npm pack` (the registry the user's
 * npm is configured for) and unpacked into the eval cache, `$CAIRN_EVAL_CACHE` or `~/.cache/cairn-eval`;
 * later runs reuse it. Only the package's own files are unpacked: no dependencies, no install scripts.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { QuestionSetError } from './questions.js';

const run = promisify(execFile);

export function evalCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.CAIRN_EVAL_CACHE || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'cairn-eval');
}

/** The unpacked package folder for `name@version`, fetching it when the cache does not have it yet. */
export async function npmPackage(spec: string, cacheDir: string, log: (line: string) => void): Promise<string> {
  const safe = spec.replace(/\//g, '+');
  const dest = join(cacheDir, safe);
  const done = join(dest, '.complete');
  if (existsSync(done)) return join(dest, 'package');
  await mkdir(cacheDir, { recursive: true });
  log(`fetching ${spec} from the npm registry into ${cacheDir}`);
  const work = await mkdtemp(join(cacheDir, '.fetch-'));
  try {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const { stdout } = await run(npm, ['pack', spec, '--silent', '--pack-destination', work], { cwd: work, shell: process.platform === 'win32', timeout: 300_000 });
    const tgz = stdout.trim().split('\n').at(-1)?.trim();
    if (!tgz) throw new QuestionSetError(`npm pack ${spec} printed no file name`);
    await run('tar', ['-xzf', join(work, tgz), '-C', work], { timeout: 300_000 });
    const unpacked = join(work, 'package');
    if (!(await stat(unpacked).catch(() => null))?.isDirectory()) {
      // A few packages use another top folder name inside the tarball.
      const dirs = (await readdir(work, { withFileTypes: true })).filter((d) => d.isDirectory());
      if (dirs.length !== 1) throw new QuestionSetError(`${spec}: unexpected tarball layout`);
      await rename(join(work, dirs[0]!.name), unpacked);
    }
    await rm(dest, { recursive: true, force: true });
    await mkdir(dest, { recursive: true });
    await rename(unpacked, join(dest, 'package'));
    await writeFile(done, `${new Date().toISOString()}\n`);
    return join(dest, 'package');
  } catch (e) {
    if (e instanceof QuestionSetError) throw e;
    const err = e as { stderr?: string; message?: string };
    throw new QuestionSetError(`cannot fetch ${spec}: ${(err.stderr || err.message || String(e)).trim().split('\n').at(-1)}`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
