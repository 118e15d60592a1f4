import assert from 'node:assert/strict';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Workspace, PathRefused } from '../../daemon/src/chat/workspace-files.js';
import { writeTree } from './harness.js';

describe('workspace file tools (list_files, read_file, grep)', () => {
  let root: string;
  let ws: Workspace;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'cairn-ws-'));
    const files: Record<string, string> = {
      '.gitignore': 'build/\n*.log\n',
      'src/a.ts': 'export function retry() {}\n// TODO: backoff\n',
      'src/b.ts': Array.from({ length: 500 }, (_, i) => `line ${i + 1} TODO`).join('\n'),
      'build/out.js': 'TODO in build output\n',
      'debug.log': 'TODO in a log\n',
      'node_modules/x/index.js': 'TODO in a dependency\n',
    };
    await writeTree(root, files);
    ws = await Workspace.open(root, { excludes: [], dataDirs: [] });
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('list_files skips ignored folders and files', async () => {
    const listing = (await ws.listFiles('.', 3)).split('\n');
    assert.deepEqual(listing, ['.gitignore', 'src/', 'src/a.ts', 'src/b.ts']);
  });

  it('read_file numbers lines and pages long files', async () => {
    const first = await ws.readFile('src/b.ts');
    assert.match(first, /^src\/b\.ts:1-400\n1\tline 1 TODO\n/);
    assert.match(first, /100 more lines; read from line 401\.$/);
    const tail = await ws.readFile('src/b.ts', 490, 495);
    assert.equal(tail.split('\n')[0], 'src/b.ts:490-495');
    assert.equal(tail.split('\n')[1], '490\tline 490 TODO');
  });

  it('grep finds matches with path:line, skips ignored files and stops at the bound', async () => {
    const few = await ws.grep('backoff');
    assert.equal(few, 'src/a.ts:2: // TODO: backoff');
    const many = await ws.grep('TODO', { maxResults: 20 });
    const lines = many.split('\n');
    assert.equal(lines.length, 21);
    assert.match(lines[20]!, /stopped at 20 matches/);
    assert.doesNotMatch(many, /build output|in a log|dependency/);
    // A pattern that is not a valid regular expression is searched as text.
    assert.match(await ws.grep('retry('), /^src\/a\.ts:1: export function retry\(\) \{\}$/);
  });

  it('refuses to list or search outside the workspace', async () => {
    await assert.rejects(ws.listFiles('..', 1), PathRefused);
    await assert.rejects(ws.grep('root', { path: '/etc' }), PathRefused);
  });

  it('never reads, lists or searches the daemon\'s own data inside the workspace', async () => {
    const top = await mkdtemp(join(tmpdir(), 'cairn-ws-home-'));
    try {
      await writeTree(top, { '.cairn/daemon.json': '{"token":"live-token-1234"}\n', 'src/a.ts': 'const x = 1;\n' });
      const own = await Workspace.open(top, { excludes: [], dataDirs: [join(top, '.cairn')] });
      await assert.rejects(own.readFile('.cairn/daemon.json'), /No such file or folder in the workspace: .cairn\/daemon.json/);
      assert.doesNotMatch(await own.listFiles('.', 3), /\.cairn/);
      assert.match(await own.grep('live-token'), /^No matches/);
    } finally {
      await rm(top, { recursive: true, force: true });
    }
  });

  it('read_file of a few lines of a huge file reads the range, not the file', async () => {
    const top = await mkdtemp(join(tmpdir(), 'cairn-ws-huge-'));
    try {
      // 256 MiB, sparse: lines of text and then a hole, which a reader of the whole file would load.
      const h = await open(join(top, 'huge.log'), 'w');
      await h.write(`first\nsecond\nthird\n${'filler\n'.repeat(2000)}`);
      await h.truncate(256 * 1024 * 1024);
      await h.close();
      const big = await Workspace.open(top, { excludes: [], dataDirs: [] });
      const before = process.memoryUsage().rss;
      const got = await big.readFile('huge.log', 1, 3);
      const grewMiB = (process.memoryUsage().rss - before) / 2 ** 20;
      assert.equal(got, 'huge.log:1-3\n1\tfirst\n2\tsecond\n3\tthird\n\n… more lines follow; read from line 4.');
      assert.ok(grewMiB < 64, `reading 3 lines grew the process by ${grewMiB.toFixed(0)} MiB`);
    } finally {
      await rm(top, { recursive: true, force: true });
    }
  });
});
