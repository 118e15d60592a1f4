import { strict as assert } from 'node:assert';
import { mkdtemp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonClient } from '../../daemon/src/protocol/client/client.js';
import { startDaemon, type RunningDaemon } from '../../daemon/src/host/daemon.js';
import { EmbeddedStore } from '../../daemon/src/store/embedded.js';
import { registerKb } from '../../daemon/src/kb/handlers.js';
import { migratedTemplate } from '../support/db.js';

// A user indexes their home folder, which holds the daemon's own home (`~/.cairn`): the discovery file with the
// live token, the logs and the database must not become searchable passages.
describe('kb: the daemon never indexes its own data', function () {
  this.timeout(180_000);
  let top: string;
  let home: string;
  let daemon: RunningDaemon;
  let client: DaemonClient;

  before(async () => {
    top = await mkdtemp(join(tmpdir(), 'cairn-own-data-'));
    home = join(top, '.cairn');
    await mkdir(join(top, 'src'), { recursive: true });
    await writeFile(join(top, 'src', 'app.ts'), 'export const greeting = "hello from the workspace";\n');
    // Another daemon's home elsewhere in the folder (an old CAIRN_HOME), known by its discovery file.
    await mkdir(join(top, 'backup', 'old-home'), { recursive: true });
    await writeFile(join(top, 'backup', 'old-home', 'daemon.json'), '{"token":"old-home-token-0000"}\n');
    await writeFile(join(top, 'backup', 'old-home', 'notes.md'), 'old-home-token-0000\n');
    const template = await migratedTemplate();
    const started = await startDaemon({ home, env: { CAIRN_HOME: home, CAIRN_PORT: '0' }, openStore: (h) => EmbeddedStore.open(h, { template }), subsystems: [registerKb] });
    if (started.kind !== 'started') throw new Error('daemon already running');
    daemon = started.daemon;
    // A link from the workspace into the home is no way in either.
    await symlink(join(home, 'daemon.json'), join(top, 'src', 'discovery-link.json'));
    client = await DaemonClient.connect(daemon.info);
  });
  after(async () => {
    await client?.close().catch(() => undefined);
    await daemon?.shutdown('test finished');
    await rm(top, { recursive: true, force: true });
  });

  it('indexing a folder that contains CAIRN_HOME leaves out the home, other daemons\' homes and links into them', async () => {
    const token = (JSON.parse(await readFile(join(home, 'daemon.json'), 'utf8')) as { token: string }).token;
    const summary = await client.request('kb/index', { root: top });
    assert.equal(summary.files, 1, JSON.stringify(summary));
    for (const query of [token, 'old-home-token-0000', 'daemon starting']) {
      const hits = await client.request('kb/search', { root: top, query, limit: 20 });
      assert.deepEqual(hits.map((h) => h.path).filter((p) => p !== 'src/app.ts'), [], `search for ${query.slice(0, 12)}…`);
    }
    const status = await client.request('kb/status', { root: top, stale: true });
    assert.deepEqual(status.stale, { added: 0, changed: 0, deleted: 0 }, 'the daemon writing its logs is no change to index');
  });

  it('indexing the home itself indexes nothing', async () => {
    const summary = await client.request('kb/index', { root: home });
    assert.equal(summary.files, 0);
  });
});
