import { strict as assert } from 'node:assert';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { crawl, readTextFile } from '../../daemon/src/kb/crawl.js';
import { PathPolicy, tameIgnoreRules } from '../../daemon/src/workspace/policy.js';
import { CRAFTED_GITIGNORE } from '../support/adversarial.js';

describe('kb crawler', () => {
  let ws: string;
  let outside: string;
  const put = async (rel: string, content: string | Buffer) => {
    await mkdir(dirname(join(ws, rel)), { recursive: true });
    await writeFile(join(ws, rel), content);
  };
  beforeEach(async () => {
    ws = await mkdtemp(join(tmpdir(), 'cairn-crawl-'));
    outside = await mkdtemp(join(tmpdir(), 'cairn-outside-'));
  });
  afterEach(async () => {
    await rm(ws, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  const paths = async (opts: { excludes?: string[]; maxFileBytes?: number } = {}) =>
    crawl(ws, { excludes: opts.excludes ?? [], maxFileBytes: opts.maxFileBytes ?? 1024 * 1024, dataDirs: [] });

  it('honours nested .gitignore (scoped, with negation), .cairnignore, settings excludes, .git and node_modules', async () => {
    await put('.gitignore', '*.log\nbuild/\n');
    await put('app.ts', 'a');
    await put('debug.log', 'x');
    await put('build/out.js', 'x');
    await put('pkg/.gitignore', 'generated.ts\n!keep.log\n');
    await put('pkg/generated.ts', 'x');
    await put('pkg/keep.log', 'kept by a deeper negation');
    await put('pkg/src/generated.ts', 'ignored at any depth below pkg');
    await put('other/generated.ts', 'not under pkg: indexed');
    await put('.cairnignore', 'secrets/\n');
    await put('secrets/token.txt', 'x');
    await put('vendor/lib.js', 'x');
    await put('.git/config', 'x');
    await put('node_modules/dep/index.js', 'x');
    await put('sub/node_modules/dep/index.js', 'x');
    const r = await paths({ excludes: ['vendor/'] });
    assert.deepEqual(r.files.map((f) => f.path), ['.cairnignore', '.gitignore', 'app.ts', 'other/generated.ts', 'pkg/.gitignore', 'pkg/keep.log']);
    assert.ok(r.skipped.ignored >= 7);
    const policy = new PathPolicy(r.root, { excludes: ['vendor/'], dataDirs: [] });
    assert.equal(await policy.hidden('pkg/src/generated.ts'), 'ignored');
    assert.equal(await policy.hidden('pkg/keep.log'), null);
    assert.equal(await policy.hidden('build/deep/x.ts'), 'ignored');
  });

  it('a crafted .gitignore cannot stall the crawl, and taming keeps what its rules ignore', async () => {
    await put('.gitignore', `${CRAFTED_GITIGNORE.rule}\nd/**/x/**/x/**/x/**/x/**/gen/\n!d/**/x/**/x/**/x/**/gen/keep.txt\n`);
    await put(CRAFTED_GITIGNORE.deepFile, 'kept');
    await put('a/x/y/b', 'ignored by the crafted rule');
    await put('d/x/x/x/x/gen/out.txt', 'ignored');
    await put('d/x/x/x/x/gen/keep.txt', 'the negation is dropped, so this stays ignored');
    await put('d/src/main.ts', 'kept');
    let worstGapMs = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      worstGapMs = Math.max(worstGapMs, performance.now() - last);
      last = performance.now();
    }, 10);
    const r = await paths().finally(() => clearInterval(ticker));
    assert.deepEqual(r.files.map((f) => f.path), ['.gitignore', CRAFTED_GITIGNORE.deepFile, 'd/src/main.ts']);
    assert.ok(worstGapMs < 1000, `the event loop stalled for ${worstGapMs.toFixed(0)} ms`);
    const cases: Array<[string, string]> = [
      ['build/', 'build/'],
      ['a/**/**/**/b', 'a/**/b'],
      ['**/**/x/**/**', '**/x/**'],
      ['a/**/b/**/c', 'a/**/b/**/c'],
      ['a/**/b/**/c/**/d/', 'a/**/d/'],
      ['!a/**/b/**/c/**/d', ''],
      ['\\*\\*/x', '\\*\\*/x'],
    ];
    for (const [rule, tamed] of cases) assert.equal(tameIgnoreRules(rule), tamed, rule);
  });

  it('skips binaries (by name and by content) and files over the size limit', async () => {
    await put('logo.png', 'not really a png');
    await put('blob.dat', Buffer.from([0x50, 0x4b, 0x00, 0x00, 0x01]));
    await put('big.txt', 'x'.repeat(5000));
    await put('small.txt', 'hello');
    const r = await paths({ maxFileBytes: 4096 });
    assert.deepEqual(r.files.map((f) => f.path), ['blob.dat', 'small.txt']);
    assert.equal(r.skipped.binary, 1);
    assert.equal(r.skipped.tooLarge, 1);
    // Named with their reason, for the user to read.
    assert.deepEqual(r.skippedFiles, [
      { path: 'big.txt', reason: 'tooLarge' },
      { path: 'logo.png', reason: 'binary' },
    ]);
    // Content sniffing happens when the file is read.
    assert.equal((await readTextFile(join(ws, 'blob.dat'), 4096)).kind, 'binary');
    assert.equal((await readTextFile(join(ws, 'small.txt'), 4096)).kind, 'text');
    assert.deepEqual(await readTextFile(join(ws, 'missing.txt'), 4096), { kind: 'unreadable', message: 'ENOENT' });
  });

  it('never leaves the workspace and survives symlink loops', async () => {
    await put('src/a.ts', 'inside');
    await writeFile(join(outside, 'secret.txt'), 'outside the workspace');
    await symlink(join(outside, 'secret.txt'), join(ws, 'src/escape.txt'));
    await symlink(outside, join(ws, 'escape-dir'));
    await symlink(ws, join(ws, 'src/loop'));
    await symlink('../src', join(ws, 'src/again'));
    await symlink(join(ws, 'nowhere'), join(ws, 'dangling'));
    const r = await paths();
    assert.deepEqual(r.files.map((f) => f.path), ['src/a.ts']);
    assert.equal(r.skipped.outsideWorkspace, 2);
    assert.ok(r.skipped.symlinkLoop >= 2);
    assert.deepEqual(r.skippedFiles.filter((f) => f.reason === 'outsideWorkspace').map((f) => f.path), ['escape-dir', 'src/escape.txt']);
    assert.ok(r.skippedFiles.some((f) => f.path === 'dangling' && f.reason === 'symlinkLoop'));
  });

  it('decodes invalid UTF-8 with replacement characters and says so', async () => {
    await put('latin1.txt', Buffer.from([0x63, 0x61, 0x66, 0xe9]));
    const r = await readTextFile(join(ws, 'latin1.txt'), 100);
    assert.equal(r.kind, 'text');
    if (r.kind === 'text') {
      assert.equal(r.invalidUtf8, true);
      assert.equal(r.text, 'caf\uFFFD');
    }
  });
});
