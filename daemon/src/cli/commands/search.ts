/** `cairn search "<query>" [--dir d] [-k n] [--json]`: hybrid search of the project knowledge base. */
import { resolve } from 'node:path';
import { CliError, type CliCommand } from '../command.js';

export const command: CliCommand = {
  name: 'search',
  summary: 'Search the knowledge base of a folder (default: the current one): full-text and vector ranks fused.',
  usage: 'cairn search "<query>" [--dir d] [-k n] [--glob g] [--kind file|document|url|faq] [--json]',
  async run(ctx) {
    const query = ctx.args.join(' ').trim();
    if (!query) throw new CliError('cairn search needs a query', 2);
    const k = ctx.flags.k ?? ctx.flags.limit ?? '10';
    const limit = Number(k);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new CliError('-k must be a whole number from 1 to 100', 2);
    const dir = typeof ctx.flags.dir === 'string' ? ctx.flags.dir : '.';
    const kind = ctx.flags.kind;
    if (kind !== undefined && !['file', 'document', 'url', 'faq'].includes(String(kind))) throw new CliError('--kind must be file, document, url or faq', 2);
    const client = await ctx.connect();
    const hits = await client.request('kb/search', {
      root: resolve(ctx.cwd, dir),
      query,
      limit,
      ...(typeof ctx.flags.glob === 'string' ? { glob: ctx.flags.glob } : {}),
      ...(kind ? { kind: kind as 'file' | 'document' | 'url' | 'faq' } : {}),
    });
    if (ctx.json) {
      ctx.stdout(JSON.stringify(hits.map((h) => ({ path: h.path, startLine: h.startLine, endLine: h.endLine, score: h.score, snippet: h.snippet, kind: h.kind }))));
      return 0;
    }
    if (hits.length === 0) {
      ctx.stdout('no results (is the folder indexed? run cairn index)');
      return 0;
    }
    ctx.stdout(
      hits
        .map((h) => {
          const where = h.kind === 'file' ? `${h.path}:${h.startLine}-${h.endLine}` : `${h.path} (${h.kind})`;
          const snippet = h.snippet.replace(/\s+/g, ' ').trim().slice(0, 160);
          return `${h.score.toFixed(4)}  ${where}\n        ${snippet}`;
        })
        .join('\n'),
    );
    return 0;
  },
};
