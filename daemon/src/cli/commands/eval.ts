/**
 * `cairn eval <questions.json|folder>... [--dir d] [--json] [--verbose] [--embeddings model2vec:<dir>]`:
 * measures search on question sets (docs/eval.md). It starts a daemon of its own in a temporary
 * `$CAIRN_HOME` (embedded store, the offline embedder unless --embeddings says otherwise), so the user's
 * index and settings are neither used nor touched, and stops it at the end.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFromEnv } from '../../config.js';
import { evalCacheDir } from '../../eval/corpus.js';
import { loadQuestionSets, QuestionSetError } from '../../eval/questions.js';
import { formatReport, runEval } from '../../eval/run.js';
import { CliError, type CliCommand } from '../command.js';

/** Variables that would point the private daemon at another store or model. */
const DROPPED_ENV = /^(CAIRN_DATABASE_URL|CAIRN_EMBEDDINGS.*|CAIRN_MODEL.*|OPENAI_API_KEY|CAIRN_SUPABASE.*)$/;

export const command: CliCommand = {
  name: 'eval',
  summary: 'Measure search on question sets (MRR@10, nDCG@10, recall@10, hit@1, latency) against two BM25 baselines in the same run.',
  usage: 'cairn eval <questions.json|folder>... [--dir d] [--verbose] [--embeddings model2vec:<dir>] [--json]',
  async run(ctx) {
    if (ctx.args.length === 0) throw new CliError('cairn eval needs a question set (a .json file, or a folder of them); see docs/eval.md', 2);
    const embeddings = ctx.flags.embeddings;
    if (embeddings !== undefined && (typeof embeddings !== 'string' || !/^(local-hash|model2vec:.+)$/.test(embeddings))) {
      throw new CliError('--embeddings must be local-hash or model2vec:<folder>', 2);
    }
    let sets;
    try {
      sets = await loadQuestionSets(ctx.args.map((a) => join(a.startsWith('/') ? '' : ctx.cwd, a)));
    } catch (e) {
      if (e instanceof QuestionSetError) throw new CliError(e.message, 2);
      throw e;
    }
    const home = await mkdtemp(join(tmpdir(), 'cairn-eval-'));
    const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(ctx.env).filter(([k]) => !DROPPED_ENV.test(k)));
    if (typeof embeddings === 'string') env.CAIRN_EMBEDDINGS = embeddings;
    const log = (line: string) => ctx.stderr(`eval: ${line}`);
    let daemon: Awaited<ReturnType<typeof ctx.startPrivateDaemon>> | null = null;
    try {
      daemon = await ctx.startPrivateDaemon(home, env);
      const reports = await runEval(daemon.client, sets, {
        dir: typeof ctx.flags.dir === 'string' ? ctx.flags.dir : null,
        cwd: ctx.cwd,
        cacheDir: evalCacheDir(ctx.env),
        maxFileBytes: configFromEnv(env).maxFileBytes,
        log,
      });
      ctx.stdout(ctx.json ? JSON.stringify({ sets: reports }) : formatReport(reports, ctx.flags.verbose === true));
      return 0;
    } catch (e) {
      if (e instanceof QuestionSetError) throw new CliError(e.message, 1);
      throw e;
    } finally {
      await daemon?.stop();
      await rm(home, { recursive: true, force: true });
    }
  },
};
