/** `cairn index [dir] [--force] [--json]`: indexes a folder into the project knowledge base, incrementally. */
import { resolve } from 'node:path';
import { CliError, type CliCommand } from '../command.js';

export const command: CliCommand = {
  name: 'index',
  summary: 'Index a folder (default: the current one) into the project knowledge base; only changed files cost time.',
  usage: 'cairn index [dir] [--force] [--json]',
  async run(ctx) {
    if (ctx.args.length > 1) throw new CliError('cairn index takes at most one folder', 2);
    const root = resolve(ctx.cwd, ctx.args[0] ?? '.');
    const client = await ctx.connect();
    // Progress on stderr only for a person watching: piped output and --json stay clean.
    const showProgress = !ctx.json && process.stderr.isTTY === true;
    let lastLine = 0;
    const summary = await client.request(
      'kb/index',
      // The CLI runs once and exits: the daemon should not keep watching a folder nobody has open.
      { root, force: ctx.flags.force === true, watch: false, progressToken: `cli-index-${process.pid}` },
      {
        onProgress: (v) => {
          if (!showProgress || v.kind !== 'report') return;
          const now = Date.now();
          if (now - lastLine < 500) return;
          lastLine = now;
          ctx.stderr(`indexing: ${v.message ?? ''}${typeof v.percentage === 'number' ? ` (${v.percentage}%)` : ''}`);
        },
      },
    );
    const skipped = summary.skipped;
    if (ctx.json) {
      ctx.stdout(JSON.stringify(summary));
      return summary.complete ? 0 : 1;
    }
    const skippedTotal = skipped.binary + skipped.tooLarge + skipped.unreadable + skipped.outsideWorkspace + skipped.symlinkLoop + skipped.embedFailed + skipped.writeFailed + skipped.secretFile;
    const lines = [
      `indexed ${summary.root}`,
      `  files:   ${summary.files} (${summary.indexed} written, ${summary.unchanged} unchanged, ${summary.deleted} removed)`,
      `  chunks:  ${summary.chunks} written (${summary.embedded} embedded, ${summary.reused} reused)`,
      `  skipped: ${skippedTotal} (binary ${skipped.binary}, too large ${skipped.tooLarge}, unreadable ${skipped.unreadable}, outside ${skipped.outsideWorkspace}, links ${skipped.symlinkLoop}, embedding failed ${skipped.embedFailed}, write failed ${skipped.writeFailed}, secret files ${skipped.secretFile}); ${skipped.ignored} ignored; ${skipped.invalidUtf8} with invalid UTF-8`,
      `  model:   ${summary.model}${summary.activeModel !== summary.model ? ` (search still uses ${summary.activeModel})` : ''}`,
      `  seconds: ${summary.seconds}`,
    ];
    for (const e of summary.errors) lines.push(`  error:   ${e.path}: ${e.message}`);
    ctx.stdout(lines.join('\n'));
    return summary.complete ? 0 : 1;
  },
};
