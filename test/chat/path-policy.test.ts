/**
 * One path policy for the index and the agent's file tools: every tool (read_file, list_files, grep) × every
 * trick (`..`, absolute, symlinks, case, URL encoding, …) × every hidden target (ignored, secret, outside the
 * folder) answers exactly what it answers for a path that does not exist, and no planted marker comes back. The
 * same cases run through a real chat (the model's tool calls), the crawler, and the allowlist.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Workspace, PathRefused } from '../../daemon/src/chat/workspace-files.js';
import { crawl } from '../../daemon/src/kb/crawl.js';
import { noSuchPath } from '../../daemon/src/workspace/policy.js';
import { toolResults } from '../support/openai-server.js';
import { ALLOWED_FILE, FIXTURE_EXCLUDES, allTricks, writeHiddenFixture, type HiddenFixture } from '../support/path-tricks.js';
import { startHarness, type Harness } from './harness.js';

type Tool = 'read_file' | 'list_files' | 'grep';
const TOOLS: Tool[] = ['read_file', 'list_files', 'grep'];

function runTool(ws: Workspace, tool: Tool, path: string, plant: string): Promise<string> {
  if (tool === 'read_file') return ws.readFile(path);
  if (tool === 'list_files') return ws.listFiles(path, 3);
  return ws.grep(plant, { path });
}

describe('path policy: hidden files are missing files to every tool', function () {
  this.timeout(120_000);
  let top: string;
  let fx: HiddenFixture;
  let ws: Workspace;

  before(async () => {
    top = await mkdtemp(join(tmpdir(), 'cairn-policy-'));
    await mkdir(join(top, 'ws'));
    await mkdir(join(top, 'outside'));
    fx = await writeHiddenFixture(join(top, 'ws'), join(top, 'outside'));
    ws = await Workspace.open(fx.root, { excludes: FIXTURE_EXCLUDES, dataDirs: [] });
  });
  after(async () => {
    await rm(top, { recursive: true, force: true });
  });

  it('a missing path answers the message every hidden path answers', async () => {
    for (const tool of TOOLS) {
      await assert.rejects(runTool(ws, tool, 'nope/missing.ts', 'x'), (e: unknown) => e instanceof PathRefused && e.message === noSuchPath('nope/missing.ts').message);
    }
  });

  for (const tool of TOOLS) {
    it(`${tool}: every trick on every ignored, secret and outside target reads as a missing path`, async () => {
      const cases = allTricks(fx);
      assert.ok(cases.length > 100, `${cases.length} cases`);
      const leaks: string[] = [];
      for (const c of cases) {
        const got = await runTool(ws, tool, c.path, c.target.plant).then(
          (text) => `answered: ${text.slice(0, 120)}`,
          (e: unknown) => (e instanceof PathRefused ? e.message : `threw ${String(e)}`),
        );
        if (got !== noSuchPath(c.path).message) leaks.push(`${c.target.kind} ${c.target.path} via ${c.trick} (${c.path}): ${got}`);
      }
      assert.deepEqual(leaks, []);
    });
  }

  it('walking the whole folder lists and greps nothing hidden, and the allowlisted file is there', async () => {
    const listing = await ws.listFiles('.', 6);
    for (const t of fx.targets) {
      if (t.kind !== 'outside') assert.ok(!listing.split('\n').includes(t.dir ? `${t.path}/` : t.path), `${t.path} listed:\n${listing}`);
    }
    assert.ok(listing.split('\n').includes(ALLOWED_FILE.path), listing);
    assert.match(await ws.grep('PLANTED_'), /^No matches/);
    assert.match(await ws.grep(ALLOWED_FILE.plant), new RegExp(`^${ALLOWED_FILE.path}:1: `));
    assert.match(await ws.readFile(ALLOWED_FILE.path), new RegExp(ALLOWED_FILE.plant));
  });

  it('the indexer leaves out the same files, names the secret ones, and indexes the allowlisted file', async () => {
    const r = await crawl(fx.root, { excludes: FIXTURE_EXCLUDES, dataDirs: [], maxFileBytes: 1 << 20 });
    const paths = r.files.map((f) => f.path);
    for (const t of fx.targets) assert.ok(!paths.includes(t.path), `${t.path} crawled`);
    // A symlink is judged by its target too: links/l<n> point at hidden files.
    assert.deepEqual(paths.filter((p) => p.startsWith('links/')), []);
    assert.ok(paths.includes(ALLOWED_FILE.path));
    // The allowlisted file is indexed without redaction (the indexer skips scanning it); others are scanned.
    assert.deepEqual(r.files.filter((f) => f.secretsAllowed).map((f) => f.path), [ALLOWED_FILE.path]);
    const secretSkips = r.skippedFiles.filter((s) => s.reason === 'secretFile').map((s) => s.path);
    for (const t of fx.targets.filter((x) => x.kind === 'secret')) assert.ok(secretSkips.includes(t.path), `${t.path} not named: ${secretSkips.join(', ')}`);
    assert.equal(r.skipped.secretFile, secretSkips.length);
  });

  it('the cairn.secrets.allow setting lifts the secret-file rule, never an ignore rule', async () => {
    const allowing = await Workspace.open(fx.root, { excludes: FIXTURE_EXCLUDES, dataDirs: [], secretsAllow: ['keys/*.pem', 'build/out.js', 'private/'] });
    assert.match(await allowing.readFile('keys/server.pem'), /PLANTED_PEM_MARKER/);
    assert.match(await allowing.grep('PLANTED_'), /^keys\/server\.pem:2: /);
    await assert.rejects(allowing.readFile('build/out.js'), { message: noSuchPath('build/out.js').message });
    await assert.rejects(allowing.readFile('private/notes.md'), { message: noSuchPath('private/notes.md').message });
    await assert.rejects(allowing.readFile('.env'), { message: noSuchPath('.env').message });
    const r = await crawl(fx.root, { excludes: FIXTURE_EXCLUDES, dataDirs: [], maxFileBytes: 1 << 20, secretsAllow: ['keys/*.pem'] });
    assert.ok(r.files.some((f) => f.path === 'keys/server.pem'));
    assert.ok(!r.files.some((f) => f.path === '.env'));
  });
});

describe('path policy through a chat: the model cannot read, list or grep a hidden file by any tool', function () {
  this.timeout(300_000);
  let h: Harness;
  after(async () => {
    await h?.close();
  });

  before(async () => {
    h = await startHarness({ model: {}, files: {}, chat: { maxToolCalls: 2000 } });
  });

  it('secrets/check answers each secret by rule and place, and the redacted text, never a value', async () => {
    const c = await h.connect();
    const token = `ghp_${'a1B2'.repeat(9)}`;
    const r = await c.client.request('secrets/check', { text: `ship it\nGITHUB_TOKEN=${token}\n` });
    assert.deepEqual(
      r.findings.map((f) => [f.rule, f.line]),
      [['github', 2]],
    );
    assert.equal(r.redacted, 'ship it\nGITHUB_TOKEN=[redacted: github]\n');
    assert.ok(!JSON.stringify(r.findings).includes(token));
    assert.deepEqual(await c.client.request('secrets/check', { text: 'nothing here' }), { findings: [], redacted: 'nothing here' });
  });

  it('every tool × trick × target answers as missing, and no planted marker reaches the model', async () => {
    const outside = join(h.home, 'outside');
    await mkdir(outside);
    const fx = await writeHiddenFixture(h.workspace, outside);
    // The settings' exclude reaches the tools as it reaches the indexer.
    const c = await h.connect();
    await c.client.request('daemon/configure', { settings: { excludes: FIXTURE_EXCLUDES } });
    const calls = allTricks(fx).flatMap((t, i) =>
      TOOLS.map((tool) => ({
        id: `c${i}_${tool}`,
        name: tool,
        path: t.path,
        label: `${tool} ${t.target.path} via ${t.trick}`,
        arguments: tool === 'grep' ? { pattern: t.target.plant, path: t.path } : { path: t.path },
      })),
    );
    calls.push({ id: 'c_grep_all', name: 'grep', path: '.', label: 'grep everything', arguments: { pattern: 'PLANTED_' } as { pattern: string; path: string } });
    h.model!.setResponder((b) =>
      toolResults(b).size === 0 ? { toolCalls: calls.map(({ id, name, arguments: args }) => ({ id, name, arguments: args })) } : { content: 'done' },
    );
    const sent = await c.client.request('chat/send', { root: h.workspace, content: 'read every secret' });
    assert.equal((await c.done(sent.replyId, 240_000)).status, 'complete');
    const results = toolResults(h.model!.chatRequests()[1]!);
    const wrong = calls
      .filter((call) => call.id !== 'c_grep_all')
      .filter((call) => results.get(call.id) !== noSuchPath(call.path).message)
      .map((call) => `${call.label}: ${results.get(call.id)?.slice(0, 120)}`);
    assert.deepEqual(wrong, []);
    assert.match(results.get('c_grep_all')!, /^No matches/);
    const sentToModel = JSON.stringify(h.model!.chatRequests());
    for (const p of fx.plants) assert.ok(!sentToModel.includes(`${p}=1`), `${p} reached the model`);
  });
});
