import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DaemonClient, DaemonResponseError } from '../../daemon/src/protocol/client/client.js';
import { startDaemon, type RunningDaemon } from '../../daemon/src/host/daemon.js';
import { EmbeddedStore } from '../../daemon/src/store/embedded.js';
import { registerKb } from '../../daemon/src/kb/handlers.js';
import { requests } from '../../daemon/src/protocol/index.js';
import type { NotificationParamsOf } from '../../daemon/src/protocol/index.js';
import { migratedTemplate } from '../support/db.js';
import { FIXTURE } from './support.js';
import { pdfWith } from '../support/pdf.js';
import { HOSTILE_HTML, streamEndlessly } from '../support/adversarial.js';
import type { CliCommand } from '../../daemon/src/cli/command.js';
import { runCommand } from '../support/cli.js';
import { command as indexCommand } from '../../daemon/src/cli/commands/index.js';
import { command as searchCommand } from '../../daemon/src/cli/commands/search.js';

describe('kb/* over JSON-RPC', function () {
  this.timeout(180_000);
  let home: string;
  let ws: string;
  let daemon: RunningDaemon;
  let client: DaemonClient;
  let web: Server;
  let webUrl: string;
  const changed: NotificationParamsOf<'kb/changed'>[] = [];

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'cairn-kb-rpc-'));
    ws = join(home, 'workspace');
    for (const [rel, text] of Object.entries(FIXTURE)) {
      await mkdir(dirname(join(ws, rel)), { recursive: true });
      await writeFile(join(ws, rel), text);
    }
    const template = await migratedTemplate();
    const started = await startDaemon({ home, env: { CAIRN_HOME: home, CAIRN_PORT: '0' }, openStore: (h) => EmbeddedStore.open(h, { template }), subsystems: [registerKb] });
    if (started.kind !== 'started') throw new Error('daemon already running');
    daemon = started.daemon;
    client = await DaemonClient.connect(daemon.info);
    client.onNotification('kb/changed', (p) => changed.push(p));
    await client.request('daemon/subscribe', { topics: ['kb'] });
    web = createServer((req, res) => {
      if (req.url === '/runbook.html') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end('<!doctype html><html><head><title>Incident runbook</title><script>var tracking=1</script></head><body><nav>Home | About</nav><h1>Incidents</h1><p>When the <b>payment gateway</b> returns 502, fail over to the secondary region.</p></body></html>');
      } else if (req.url === '/hostile.html') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(HOSTILE_HTML);
      } else if (req.url === '/endless') {
        streamEndlessly(res);
      } else {
        res.writeHead(404).end('not found');
      }
    });
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    webUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
  });
  after(async () => {
    await client?.close().catch(() => undefined);
    await daemon?.shutdown('test finished');
    await new Promise((r) => web.close(r));
    await rm(home, { recursive: true, force: true });
  });

  it('kb/index reports progress, returns a summary of the declared shape, and kb/status tells what is indexed', async () => {
    const progress: unknown[] = [];
    const summary = await client.request('kb/index', { root: ws, progressToken: 't1' }, { onProgress: (v) => progress.push(v) });
    requests['kb/index'].result.parse(summary);
    assert.equal(summary.files, 4);
    assert.equal(summary.indexed, 4);
    assert.ok(progress.length >= 2, 'begin, reports and end');
    const status = await client.request('kb/status', { root: ws });
    assert.equal(status.activeModel, 'cairn-local-hash-v1-384');
    assert.equal(status.models[0]?.sources, 4);
    assert.deepEqual(status.stale, { added: 0, changed: 0, deleted: 0 });
    assert.equal(status.watching, true);
    await writeFile(join(ws, 'NEW.md'), '# new file\n');
    const stale = await client.request('kb/status', { root: ws, stale: true });
    assert.equal(stale.stale?.added, 1);
  });

  it('picks up an edited file through the watcher within a second, and says so on topic kb', async () => {
    await client.request('kb/index', { root: ws });
    changed.length = 0;
    const t0 = Date.now();
    await writeFile(join(ws, 'src/auth/session.ts'), 'export function revokeAllSessionsForUser(userId: string) { return userId; }\n');
    let hits: Awaited<ReturnType<typeof client.request<'kb/search'>>> = [];
    while (Date.now() - t0 < 5000) {
      hits = await client.request('kb/search', { root: ws, query: 'revoke all sessions for user', limit: 3 });
      if (hits[0]?.snippet.includes('revokeAllSessionsForUser')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const ms = Date.now() - t0;
    assert.ok(hits[0]?.snippet.includes('revokeAllSessionsForUser'), 'the edit is searchable');
    assert.ok(ms < 1500, `searchable after ${ms} ms`);
    assert.ok(changed.some((c) => c.uris.includes('src/auth/session.ts')));
  });

  it('adds a markdown document, a PDF, a web page and a FAQ entry, all found by one search', async () => {
    const docs = await mkdtemp(join(tmpdir(), 'cairn-kb-docs-'));
    try {
      await writeFile(join(docs, 'style.md'), '# Style guide\n\nPrefer early returns over nested conditionals.\n');
      await writeFile(join(docs, 'report.pdf'), pdfWith('Quarterly revenue grew eleven percent'));
      const md = await client.request('kb/addDocument', { root: ws, path: join(docs, 'style.md') });
      assert.equal(md.uri, 'doc:style.md');
      const pdf = await client.request('kb/addDocument', { root: ws, path: join(docs, 'report.pdf') });
      assert.equal(pdf.kind, 'document');
      const page = await client.request('kb/addUrl', { root: ws, url: `${webUrl}/runbook.html` });
      assert.equal(page.title, 'Incident runbook');
      const faq = await client.request('kb/addFaq', { root: ws, question: 'Who approves production deploys?', answer: 'The on-call lead.' });
      assert.equal(faq.uri, 'faq:who-approves-production-deploys');

      assert.equal((await client.request('kb/search', { root: ws, query: 'early returns nested conditionals' }))[0]?.path, 'doc:style.md');
      assert.equal((await client.request('kb/search', { root: ws, query: 'quarterly revenue' }))[0]?.path, 'doc:report.pdf');
      const gw = await client.request('kb/search', { root: ws, query: 'payment gateway 502' });
      assert.equal(gw[0]?.kind, 'url');
      assert.doesNotMatch(gw[0]!.snippet, /tracking|Home \| About/, 'scripts and navigation are dropped');
      assert.equal((await client.request('kb/search', { root: ws, query: 'approves production deploys', kind: 'faq' }))[0]?.title, 'Who approves production deploys?');

      const removed = await client.request('kb/remove', { root: ws, uri: `${webUrl}/runbook.html`, kind: 'url' });
      assert.equal(removed.removed, 1);
      assert.ok(!(await client.request('kb/search', { root: ws, query: 'payment gateway 502' })).some((h) => h.kind === 'url'));
    } finally {
      await rm(docs, { recursive: true, force: true });
    }
  });

  /** Runs a command as `cairn <argv>` would, in the workspace folder, against this daemon. */
  const cli = (cmd: CliCommand, argv: string[]) => runCommand(cmd, argv, { client, cwd: ws });

  it('a hostile page leaves the daemon answering, and an endless body stops at the size limit', async () => {
    let worstPingMs = 0;
    let busy = true;
    const pings = (async () => {
      while (busy) {
        const t0 = performance.now();
        await client.request('daemon/ping', {});
        worstPingMs = Math.max(worstPingMs, performance.now() - t0);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      const page = await client.request('kb/addUrl', { root: ws, url: `${webUrl}/hostile.html` });
      assert.equal(page.kind, 'url');
      const err = await client.request('kb/addUrl', { root: ws, url: `${webUrl}/endless` }).then(() => null, (e: unknown) => e);
      assert.ok(err instanceof DaemonResponseError, String(err));
      assert.equal(err.codeName, 'TooLarge');
    } finally {
      busy = false;
      await pings;
    }
    assert.ok(worstPingMs < 1000, `a ping took ${worstPingMs.toFixed(0)} ms while the pages were read`);
  });

  it('cairn index --json prints one summary; cairn search -k prints path, lines, score and snippet', async () => {
    const idx = await cli(indexCommand, ['.', '--json']);
    assert.equal(idx.code, 0, idx.err.join('\n'));
    assert.equal(idx.out.length, 1);
    const summary = JSON.parse(idx.out[0]!) as { files: number; chunks: number; skipped: Record<string, number>; seconds: number };
    assert.ok(summary.files >= 4 && typeof summary.seconds === 'number' && 'binary' in summary.skipped);
    const found = await cli(searchCommand, ['deploy', 'kubernetes', '-k', '2', '--json']);
    assert.equal(found.code, 0);
    const hits = JSON.parse(found.out[0]!) as { path: string; startLine: number; endLine: number; score: number; snippet: string; kind: string }[];
    assert.ok(hits.length <= 2);
    assert.deepEqual(Object.keys(hits[0]!).sort(), ['endLine', 'kind', 'path', 'score', 'snippet', 'startLine']);
    assert.equal(hits[0]!.path, 'scripts/deploy.py');
    const human = await cli(searchCommand, ['deploy', 'kubernetes']);
    assert.match(human.out[0]!, /scripts\/deploy\.py:\d+-\d+/);
    assert.equal((await cli(searchCommand, [])).code, 2);
    assert.equal((await cli(searchCommand, ['x', '-k', '0'])).code, 2);
  });

  // Bad input, and the typed error each one answers with.
  const bad: [string, () => Promise<unknown>, string, RegExp][] = [
    ['a relative root', () => client.request('kb/index', { root: 'relative/path' }), 'InvalidInput', /absolute/],
    ['a missing folder', () => client.request('kb/search', { root: '/nonexistent/cairn-folder', query: 'x' }), 'NotFound', /no folder/],
    ['a missing document', () => client.request('kb/addDocument', { root: ws, path: '/nonexistent/file.md' }), 'NotFound', /no file/],
    ['a binary document', async () => {
      await writeFile(join(home, 'blob.bin'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x00, 0x01]));
      return client.request('kb/addDocument', { root: ws, path: join(home, 'blob.bin') });
    }, 'InvalidInput', /is not text/],
    ['a URL that answers 404', () => client.request('kb/addUrl', { root: ws, url: `${webUrl}/missing` }), 'ProviderError', /HTTP 404/],
    ['a limit over 100', () => client.request('kb/search', { root: ws, query: 'x', limit: 500 }), 'InvalidParams', /./],
  ];
  for (const [what, call, code, message] of bad) {
    it(`answers ${code} for ${what}`, async () => {
      const err = await call().then(() => null, (e: unknown) => e);
      assert.ok(err instanceof DaemonResponseError, String(err));
      assert.equal(err.codeName, code, err.message);
      assert.match(err.message, message);
    });
  }
});
