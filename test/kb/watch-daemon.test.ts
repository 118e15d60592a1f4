/**
 * `kb/index` with `watch: true` through the real daemon: files rewritten afterwards, as a `git checkout` does
 * in bursts, are searchable without another index run, announced by a few `kb/changed` (not one per file).
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectWs, migratedHome, ok, readLog, removeHome, startDaemon, stopDaemon, type DaemonProcess, type RawConnection } from '../support/daemon.js';

const source = (p: number, f: number, word = '') =>
  `// package ${p}, module ${f} ${word}\nexport function ledger_${p}_${f}(total: number): number {\n  return total * ${f + 1};\n}\n`;

describe('kb/index watch: true keeps the index live', function () {
  this.timeout(240_000);
  let home: string;
  let ws: string;
  let daemon: DaemonProcess;
  let rpc: RawConnection;

  before(async () => {
    ws = await mkdtemp(join(tmpdir(), 'cairn-watch-ws-'));
    for (let p = 0; p < 3; p++) {
      await mkdir(join(ws, 'packages', `pkg-${p}`, 'src'), { recursive: true });
      for (let f = 0; f < 40; f++) await writeFile(join(ws, 'packages', `pkg-${p}`, 'src', `m${f}.ts`), source(p, f));
    }
    home = await migratedHome();
    daemon = await startDaemon(home);
    rpc = await connectWs(daemon.info);
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') console.log(`--- daemon log (tail)\n${(await readLog(home)).split('\n').slice(-30).join('\n')}`);
  });
  after(async () => {
    await rpc?.close().catch(() => undefined);
    if (daemon) await stopDaemon(daemon);
    if (home) await removeHome(home);
    if (ws) await rm(ws, { recursive: true, force: true });
  });

  it('finds the words a mass rewrite brought, after a few kb/changed', async () => {
    await ok(rpc, 'kb/index', { root: ws, watch: true });
    await ok(rpc, 'daemon/subscribe', { topics: ['kb'] });
    const word = 'checkedoutword';
    const paths: string[] = [];
    for (let p = 0; p < 3; p++) for (let f = 0; f < 40; f += 2) paths.push(join(ws, 'packages', `pkg-${p}`, 'src', `m${f}.ts`));
    for (let i = 0; i < paths.length; i += 20) {
      await Promise.all(paths.slice(i, i + 20).map((abs) => {
        const m = /pkg-(\d+)\/src\/m(\d+)\.ts$/.exec(abs)!;
        return writeFile(abs, source(Number(m[1]), Number(m[2]), word));
      }));
    }
    const deadline = Date.now() + 60_000;
    let hits: { path: string }[] = [];
    while (Date.now() < deadline) {
      hits = await ok(rpc, 'kb/search', { root: ws, query: word, limit: 100 });
      if (new Set(hits.map((h) => h.path)).size === paths.length) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(new Set(hits.map((h) => h.path)).size, paths.length, `${paths.length} rewritten files found`);
    const changed = rpc.notifications('kb/changed').filter((n) => n.params.reason === 'watch');
    assert.ok(changed.length >= 1 && changed.length <= 6, `${changed.length} kb/changed for ${paths.length} files`);
  });
});
