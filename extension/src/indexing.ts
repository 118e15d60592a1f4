/** "Cairn: Index Workspace": a cancellable progress notification fed by the daemon's `$/progress`. */
import * as vscode from 'vscode';
import type { ResultOf } from '../../daemon/src/protocol/index.js';
import type { DaemonClient } from './client.js';
import { explain, isCancellation } from './errors.js';
import { log } from './log.js';
import { revealLines } from './locations.js';
import { join } from 'node:path';

export async function indexWorkspace(
  client: DaemonClient,
  root: string,
  onPercent: (p: number | null) => void,
): Promise<ResultOf<'kb/index'> | null> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Cairn: indexing', cancellable: true },
    async (progress, token) => {
      const ac = new AbortController();
      token.onCancellationRequested(() => ac.abort());
      let last = 0;
      onPercent(0);
      try {
        const summary = await client.request(
          'kb/index',
          { root },
          {
            signal: ac.signal,
            onProgress: (v) => {
              const pct = typeof v.percentage === 'number' ? v.percentage : last;
              progress.report({ message: v.message, increment: Math.max(0, pct - last) });
              last = Math.max(last, pct);
              onPercent(last);
            },
          },
        );
        const skipped = Object.values(summary.skipped).reduce((a, b) => a + b, 0) - summary.skipped.ignored;
        const redacted = summary.redactions > 0 ? `, ${summary.redactions} secret${summary.redactions === 1 ? '' : 's'} redacted` : '';
        const text = `Cairn indexed ${summary.files} files (${summary.indexed} changed, ${summary.chunks} chunks${summary.deleted ? `, ${summary.deleted} removed` : ''}${skipped ? `, ${skipped} skipped` : ''}${redacted}) in ${summary.seconds.toFixed(1)} s.`;
        logSummary(root, text, summary);
        const first = summary.redactedFiles[0];
        const openFirst = 'Open First Redaction';
        const act = (a: string | undefined) => {
          if (a === openFirst && first) void revealLines(vscode.Uri.file(join(root, ...first.path.split('/'))), first.line, first.line);
          else if (a) void vscode.commands.executeCommand('cairn.showLog');
        };
        if (summary.errors.length > 0) {
          void vscode.window
            .showWarningMessage(`${text} ${summary.errors.length} file(s) failed, e.g. ${summary.errors[0]?.path}: ${summary.errors[0]?.message}`, ...(first ? [openFirst] : []), 'Show Log')
            .then(act);
        } else if (first) {
          // Secrets were found in indexed files: say where, so the user can remove them (or allow a false positive).
          void vscode.window.showInformationMessage(`${text} The secrets are stored as [redacted: <rule>]; the files are listed in the log.`, openFirst, 'Show Log').then(act);
        } else {
          void vscode.window.setStatusBarMessage(text, 8000);
        }
        return summary;
      } catch (err) {
        if (isCancellation(err)) {
          void vscode.window.showInformationMessage('Cairn: indexing cancelled. Files already indexed stay; the next run continues from there.');
          return null;
        }
        const e = explain(err);
        log().error(`indexing ${root} failed: ${e.message}`);
        void vscode.window.showErrorMessage(`Cairn could not index: ${e.message}`, ...e.actions.map((a) => a.label)).then((picked) => {
          const a = e.actions.find((x) => x.label === picked);
          if (a) void vscode.commands.executeCommand(a.command, ...(a.args ?? []));
        });
        return null;
      } finally {
        onPercent(null);
      }
    },
  );
}

const SKIP_REASONS: Record<ResultOf<'kb/index'>['skippedFiles'][number]['reason'], string> = {
  binary: 'binary content',
  tooLarge: 'over the size limit',
  unreadable: 'unreadable',
  outsideWorkspace: 'a symlink leaving the workspace',
  symlinkLoop: 'a symlink loop',
  embedFailed: 'embedding failed (retried on the next run)',
  writeFailed: 'the database refused the write (retried on the next run)',
  secretFile: 'a secret file, hidden from the index and the agent (setting cairn.secrets.allow allows a false positive)',
};

/** The run's summary, every skipped file with its reason and every failure, in the Output channel ("Cairn: Show Log"). */
function logSummary(root: string, text: string, summary: ResultOf<'kb/index'>): void {
  log().info(`${root}: ${text}`);
  for (const f of summary.skippedFiles) log().info(`  skipped ${f.path}: ${SKIP_REASONS[f.reason] ?? f.reason}`);
  for (const e of summary.errors) log().warn(`  failed ${e.path}: ${e.message}`);
  for (const f of summary.redactedFiles) {
    log().info(`  redacted ${f.redactions} secret${f.redactions === 1 ? '' : 's'} in ${f.path}:${f.line} (${f.rules.join(', ')})`);
  }
  if (summary.redactions > 0) log().info('  a false positive can be allowed with the setting cairn.secrets.allow or a .cairnignore line "!secret-allow: <glob>"');
}
