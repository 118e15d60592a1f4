/**
 * A throwaway PostgreSQL server from the binaries installed on this machine (CI installs them), for what an
 * in-process PGlite cannot show: several real connections at once. Returns null, with the reason, when the
 * binaries are absent (or when running as root without a `postgres` account to drop to).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { tempHome } from './db.js';

export function findPgBin(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(join(dir, name))) return join(dir, name);
  const lib = '/usr/lib/postgresql';
  if (existsSync(lib)) {
    for (const v of readdirSync(lib).sort().reverse()) if (existsSync(join(lib, v, 'bin', name))) return join(lib, v, 'bin', name);
  }
  return null;
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => done(port));
    });
  });
}

export interface NativePostgres {
  /** postgresql://postgres@127.0.0.1:port/postgres (trust auth, loopback only). */
  url: string;
  /** A scratch folder of this server's, removed by stop(). */
  home: string;
  stop(): Promise<void>;
}

/** Starts a fresh server, or says why it cannot. */
export async function startNativePostgres(): Promise<NativePostgres | { skip: string }> {
  const initdb = findPgBin('initdb');
  const postgres = findPgBin('postgres');
  if (!initdb || !postgres) return { skip: 'no PostgreSQL server binaries (initdb, postgres) on this machine' };
  // PostgreSQL refuses to run as root: run it as the `postgres` account then.
  const asRoot = process.getuid?.() === 0;
  const uid = asRoot ? Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim()) : NaN;
  const gid = asRoot ? Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim()) : NaN;
  if (asRoot && !(uid > 0 && gid > 0 && findPgBin('setpriv'))) return { skip: 'running as root without a postgres account and setpriv' };
  const base = await tempHome();
  const data = join(base.home, 'pgdata');
  mkdirSync(data);
  // setpriv execs in place, so the child's pid is the postmaster's and signals reach it.
  const wrap = (cmd: string, args: string[]): [string, string[]] =>
    asRoot ? ['setpriv', [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--', cmd, ...args]] : [cmd, args];
  if (asRoot) {
    chownSync(base.home, uid, gid);
    chownSync(data, uid, gid);
  }
  const [i, iargs] = wrap(initdb, ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const init = spawnSync(i, iargs, { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  const [p, pargs] = wrap(postgres, ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-k', data, '-c', 'fsync=off']);
  const server: ChildProcess = spawn(p, pargs, { stdio: 'ignore' });
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  const stop = async () => {
    if (server.exitCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      // SIGINT is PostgreSQL's fast shutdown.
      server.kill('SIGINT');
      await exited;
    }
    await base.cleanup();
  };
  for (let tries = 0; ; tries++) {
    const c = new pg.Client(url);
    try {
      await c.connect();
      await c.end();
      break;
    } catch (err) {
      await c.end().catch(() => undefined);
      if (tries > 100) {
        await stop();
        throw err;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return { url, home: base.home, stop };
}
