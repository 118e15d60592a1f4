/**
 * The `cairn` CLI contract scripts rely on: argument parsing, exit codes (0 success, 1 failure with one
 * line on stderr, 2 usage), and `--json` printing exactly one JSON document.
 */
import assert from 'node:assert/strict';
import { parseArgs } from '../../daemon/src/cli/args.js';
import { readDiscovery } from '../../daemon/src/protocol/client/discovery.js';
import { alive, migratedHome, removeHome, runCli, testEnv } from '../support/daemon.js';

describe('cairn argument parsing', () => {
  const table: { argv: string[]; parsed?: ReturnType<typeof parseArgs>; usageError?: RegExp }[] = [
    { argv: [], parsed: { command: null, positionals: [], flags: {} } },
    { argv: ['status', '--json'], parsed: { command: 'status', positionals: [], flags: { json: true } } },
    { argv: ['search', 'how do we deploy', '-k', '5', '--dir', 'src'], parsed: { command: 'search', positionals: ['how do we deploy'], flags: { k: '5', dir: 'src' } } },
    { argv: ['search', '--json', 'query'], parsed: { command: 'search', positionals: ['query'], flags: { json: true } } },
    { argv: ['chat', '--session=abc', 'hello'], parsed: { command: 'chat', positionals: ['hello'], flags: { session: 'abc' } } },
    { argv: ['search', '--', '--not-a-flag', '-k'], parsed: { command: 'search', positionals: ['--not-a-flag', '-k'], flags: {} } },
    { argv: ['search', '-k', '-3'], parsed: { command: 'search', positionals: [], flags: { k: '-3' } } },
    { argv: ['daemon', '--stdio'], parsed: { command: 'daemon', positionals: [], flags: { stdio: true } } },
    { argv: ['search', 'q', '--dir'], usageError: /--dir needs a value/ },
    { argv: ['search', 'q', '--dir', '--json'], usageError: /--dir needs a value/ },
    { argv: ['search', '-k'], usageError: /-k needs a value/ },
    { argv: ['search', '-kx'], usageError: /short options are one letter/ },
  ];
  for (const row of table) {
    it(`${JSON.stringify(row.argv)} → ${row.usageError ? 'usage error' : JSON.stringify(row.parsed)}`, () => {
      if (row.usageError) {
        assert.throws(
          () => parseArgs(row.argv),
          (e: Error & { exitCode?: number }) => row.usageError!.test(e.message) && e.exitCode === 2,
        );
      } else assert.deepEqual(parseArgs(row.argv), row.parsed);
    });
  }
});

describe('cairn command line', function () {
  this.timeout(180_000);
  let home: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    home = await migratedHome();
    env = testEnv(home);
  });

  after(async () => {
    await runCli(['stop'], env);
    await removeHome(home);
  });

  const usage: { argv: string[]; stderr: RegExp }[] = [
    { argv: ['frobnicate'], stderr: /unknown command 'frobnicate'/ },
    { argv: ['backup'], stderr: /usage: cairn backup <file>/ },
    { argv: ['restore', 'a', 'b'], stderr: /usage: cairn restore <file>/ },
    { argv: ['status', 'extra'], stderr: /takes no arguments/ },
    { argv: ['daemon', 'extra'], stderr: /takes no arguments/ },
    { argv: ['search', 'q', '--dir'], stderr: /--dir needs a value/ },
  ];
  for (const u of usage) {
    it(`exits 2 with one line on stderr for: cairn ${u.argv.join(' ')}`, async () => {
      const r = await runCli(u.argv, env);
      assert.equal(r.code, 2);
      assert.match(r.stderr, u.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.equal(r.stdout, '');
    });
  }

  it('prints help listing every command and exits 0', async () => {
    const r = await runCli(['--help'], env);
    assert.equal(r.code, 0);
    for (const name of ['daemon', 'status', 'index', 'search', 'chat', 'sessions', 'invitations', 'stop', 'migrate', 'backup', 'restore']) assert.match(r.stdout, new RegExp(`^  ${name} `, 'm'));
    // The commands that do not go through the daemon say so, each with its reason; migrate is not one of them.
    const inProcess = r.stdout.slice(r.stdout.indexOf('which run in the cairn process:'));
    assert.deepEqual([...inProcess.matchAll(/^  (\S+) +\S/gm)].map((m) => m[1]), ['daemon', 'restore', 'secrets']);
    const sub = await runCli(['backup', '--help'], env);
    assert.equal(sub.code, 0);
    assert.match(sub.stdout, /usage: cairn backup <file>/);
  });

  it('exits 1 with one line on stderr when a command fails', async () => {
    const r = await runCli(['restore', '/nonexistent/snapshot.tar.gz', '--json'], env);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^cairn: no such file: \/nonexistent\/snapshot\.tar\.gz\n$/);
  });

  it('exits 1 with the reason on one line when the daemon cannot start', async () => {
    const r = await runCli(['status', '--json'], { ...env, CAIRN_HOST: '0.0.0.0' });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^cairn: the Cairn daemon failed to start: .*refusing to listen on 0\.0\.0\.0.*\n$/);
  });

  it('reports "no daemon" from stop without starting one', async () => {
    const r = await runCli(['stop', '--json'], env);
    assert.equal(r.code, 0);
    assert.deepEqual(JSON.parse(r.stdout), { stopped: false, pid: null });
    assert.equal(await readDiscovery(home), null);
  });

  it('status --json starts the daemon and prints exactly the documented document', async () => {
    const r = await runCli(['status', '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(doc).sort(), ['pid', 'port', 'protocolVersion', 'schemaVersion', 'store', 'user', 'version']);
    const info = await readDiscovery(home);
    assert.equal(doc.pid, info?.pid);
    assert.equal(doc.port, info?.port);
    assert.equal(doc.store, 'embedded');
    assert.equal(doc.protocolVersion, 1);
    assert.match(doc.schemaVersion, /^\d{14}$/);
    assert.match(doc.user.id, /^[0-9a-f-]{36}$/);
    assert.ok(alive(doc.pid));
  });

  it('status without --json prints a readable summary of the same daemon', async () => {
    const info = await readDiscovery(home);
    const r = await runCli(['status'], env);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /store: +embedded, schema \d{14}/);
    assert.match(r.stdout, new RegExp(`pid ${info?.pid}, 127\\.0\\.0\\.1:${info?.port}`));
  });

  it('migrate --json reports the schema of the running daemon with nothing pending', async () => {
    const r = await runCli(['migrate', '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.store, 'embedded');
    assert.deepEqual(doc.pending, []);
  });

  it('stop --json stops the daemon and waits for its process to end', async () => {
    const info = await readDiscovery(home);
    const r = await runCli(['stop', '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { stopped: true, pid: info?.pid });
    assert.equal(alive(info!.pid), false);
    assert.equal(await readDiscovery(home), null);
  });

  it('migrate --json with no daemon asks one started for it, and leaves no daemon behind', async () => {
    const r = await runCli(['migrate', '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(Object.keys(JSON.parse(r.stdout)).sort(), ['pending', 'schemaVersion', 'store']);
    assert.equal(await readDiscovery(home), null);
  });
});
