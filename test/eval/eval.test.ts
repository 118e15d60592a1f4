import { strict as assert } from 'node:assert';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { DaemonClient } from '../../daemon/src/protocol/client/client.js';
import { command as evalCommand } from '../../daemon/src/cli/commands/eval.js';
import { rankFiles, scoreQuestion } from '../../daemon/src/eval/metrics.js';
import { npmPackage } from '../../daemon/src/eval/corpus.js';
import type { SetReport } from '../../daemon/src/eval/run.js';
import { startKbDaemon, type KbDaemon } from '../kb/support.js';
import { runCommand } from '../support/cli.js';

describe('eval metrics (file level, cutoff 10)', () => {
  const cases: { ranked: string[]; relevant: string[]; rr: number; ndcg: number; recall: number; hit1: number }[] = [
    { ranked: ['a', 'b', 'c'], relevant: ['a'], rr: 1, ndcg: 1, recall: 1, hit1: 1 },
    { ranked: ['a', 'b', 'c'], relevant: ['b'], rr: 0.5, ndcg: 1 / Math.log2(3), recall: 1, hit1: 0 },
    { ranked: ['a', 'b', 'c'], relevant: ['a', 'x'], rr: 1, ndcg: 1 / (1 + 1 / Math.log2(3)), recall: 0.5, hit1: 1 },
    { ranked: ['a', 'b', 'c'], relevant: ['x'], rr: 0, ndcg: 0, recall: 0, hit1: 0 },
    // Rank 11 is outside the cutoff.
    { ranked: [...'abcdefghij'].concat('k'), relevant: ['k'], rr: 0, ndcg: 0, recall: 0, hit1: 0 },
  ];
  for (const c of cases) {
    it(`${c.ranked.slice(0, 3).join(',')}… against ${c.relevant.join(',')}`, () => {
      const s = scoreQuestion(c.ranked, c.relevant);
      assert.ok(Math.abs(s.reciprocalRank - c.rr) < 1e-9, `rr ${s.reciprocalRank}`);
      assert.ok(Math.abs(s.ndcg - c.ndcg) < 1e-9, `ndcg ${s.ndcg}`);
      assert.equal(s.recall, c.recall);
      assert.equal(s.hit1, c.hit1);
    });
  }

  it('ranks a file by its first chunk and keeps ten files', () => {
    assert.deepEqual(rankFiles(['x', 'y', 'x', 'z']), ['x', 'y', 'z']);
    assert.equal(rankFiles(Array.from({ length: 30 }, (_, i) => `f${i}`)).length, 10);
  });

  it('reuses a package already in the eval cache without asking the registry', async () => {
    const cache = await mkdtemp(join(tmpdir(), 'cairn-eval-cache-'));
    try {
      await mkdir(join(cache, 'left-pad@1.3.0', 'package'), { recursive: true });
      await writeFile(join(cache, 'left-pad@1.3.0', '.complete'), 'x');
      const logged: string[] = [];
      assert.equal(await npmPackage('left-pad@1.3.0', cache, (l) => logged.push(l)), join(cache, 'left-pad@1.3.0', 'package'));
      assert.deepEqual(logged, []);
    } finally {
      await rm(cache, { recursive: true, force: true });
    }
  });
});

describe('cairn eval on a folder of your own', function () {
  this.timeout(180_000);
  let home: string;
  let ws: string;
  let daemon: KbDaemon;
  let client: DaemonClient;
  const files: Record<string, string> = {
    'src/session/refresh.ts': 'export function refreshSessionToken(token: string) {\n  // exchange the refresh token for a new access token\n  return fetchNewAccessToken(token);\n}\n',
    'src/billing/invoice.ts': 'export class InvoiceRenderer {\n  renderPdf(invoice: Invoice) {\n    return layoutPages(invoice.lines);\n  }\n}\n',
    'src/util/retry.ts': 'export async function withBackoff<T>(fn: () => Promise<T>, attempts = 5) {\n  for (let i = 0; ; i++) {\n    try { return await fn(); } catch (e) { if (i >= attempts) throw e; await sleep(2 ** i * 100); }\n  }\n}\n',
    'README.md': '# Demo\n\nA small app with sessions, invoices and retries.\n',
  };
  const write = async (rel: string, text: string) => {
    await mkdir(dirname(join(ws, rel)), { recursive: true });
    await writeFile(join(ws, rel), text);
  };
  const questions = (qs: { query: string; relevant: string[] }[]) => JSON.stringify({ name: 'mine', questions: qs });

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'cairn-eval-'));
    ws = join(home, 'workspace');
    for (const [rel, text] of Object.entries(files)) await write(rel, text);
    daemon = await startKbDaemon(join(home, 'daemon'));
    client = daemon.client;
  });
  after(async () => {
    await daemon?.stop();
    await rm(home, { recursive: true, force: true });
  });

  it('indexes the folder, asks every question and reports Cairn beside both baselines', async () => {
    await write('../q.json', questions([
      { query: 'refreshSessionToken', relevant: ['src/session/refresh.ts'] },
      { query: 'InvoiceRenderer renderPdf', relevant: ['src/billing/invoice.ts'] },
      { query: 'withBackoff', relevant: ['src/util/retry.ts'] },
    ]));
    const run = await runCommand(evalCommand, [join(home, 'q.json'), '--dir', ws, '--json'], { client, cwd: ws });
    assert.equal(run.code, 0, run.err.join('\n'));
    const { sets } = JSON.parse(run.out.join('\n')) as { sets: SetReport[] };
    assert.equal(sets.length, 1);
    const s = sets[0]!;
    assert.equal(s.questions, 3);
    assert.equal(s.files, 4);
    assert.ok(s.chunks >= 4);
    assert.deepEqual(Object.keys(s.engines).sort(), ['bm25', 'bm25Path', 'cairn']);
    // Exact identifiers that occur in one file only: every engine puts that file first.
    for (const e of ['cairn', 'bm25', 'bm25Path'] as const) assert.equal(s.engines[e].mrr, 1, `${e}: ${JSON.stringify(s.results)}`);
    assert.equal(s.ratios.bm25.mrr, 1);
    assert.ok(s.engines.cairn.latencyMs.p95 >= s.engines.cairn.latencyMs.p50);
    assert.deepEqual(s.results[0]!.cairnTop[0], 'src/session/refresh.ts');
  });

  it('prints a table per set with the ratios', async () => {
    await write('../q.json', questions([{ query: 'refreshSessionToken', relevant: ['src/session/refresh.ts'] }]));
    const run = await runCommand(evalCommand, [join(home, 'q.json'), '--dir', ws], { client, cwd: ws });
    assert.equal(run.code, 0, run.err.join('\n'));
    const text = run.out.join('\n');
    assert.match(text, /^mine: 1 questions over .* \(4 files, \d+ chunks, cairn-local-hash-v1-384/m);
    assert.match(text, /cairn ÷ bm25 \+ path\s+1\.00/);
  });

  it('refuses a relevant path that is not in the index, naming the question', async () => {
    await write('../q.json', questions([{ query: 'where are invoices rendered', relevant: ['src/billing/invoices.ts'] }]));
    const run = await runCommand(evalCommand, [join(home, 'q.json'), '--dir', ws], { client, cwd: ws });
    assert.equal(run.code, 1);
    assert.match(run.err.join('\n'), /"where are invoices rendered" → src\/billing\/invoices\.ts/);
  });

  it('refuses a malformed question set before starting anything', async () => {
    await write('../bad.json', JSON.stringify({ name: 'bad', questions: [{ query: 'x', relevant: [] }] }));
    const run = await runCommand(evalCommand, [join(home, 'bad.json')], { client, cwd: ws });
    assert.equal(run.code, 2);
    assert.match(run.err.join('\n'), /questions\.0\.relevant/);
    const none = await runCommand(evalCommand, [], { client, cwd: ws });
    assert.equal(none.code, 2);
  });
});
