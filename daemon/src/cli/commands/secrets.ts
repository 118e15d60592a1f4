/**
 * `cairn secrets scan [dir] [--json]`: what indexing that folder would redact, file by file, with the rule and
 * the location, never the value. Runs here, without the daemon: the same crawl (ignore files, size limits,
 * binaries) and the same detector (`daemon/src/secrets/`) as the indexer.
 */
import { resolve } from 'node:path';
import { cairnHome } from '../../config.js';
import { crawl, readTextFile } from '../../kb/crawl.js';
import { cleanText } from '../../kb/indexer.js';
import { isSecretFileName, scanText } from '../../secrets/index.js';
import { CliError, type CliCommand } from '../command.js';

const MAX_FILE_BYTES = 1024 * 1024;

export interface ScanFinding {
  rule: string;
  path: string;
  line: number;
  column: number;
}

export const command: CliCommand = {
  name: 'secrets',
  summary: 'List the secrets indexing would redact in a folder (rule and location, no values): cairn secrets scan [dir].',
  inProcess: 'it reads files on disk, before anything is indexed, and needs no database.',
  usage: 'cairn secrets scan [dir] [--json]',
  async run(ctx) {
    const [sub, dirArg] = ctx.args;
    if (sub !== 'scan') throw new CliError('usage: cairn secrets scan [dir] [--json]', 2);
    const root = resolve(ctx.cwd, dirArg ?? '.');
    let crawled;
    try {
      crawled = await crawl(root, { excludes: [], maxFileBytes: MAX_FILE_BYTES, dataDirs: [cairnHome(ctx.env)] });
    } catch (e) {
      throw new CliError(`cannot scan ${root}: ${(e as Error).message}`, 1);
    }
    const findings: ScanFinding[] = [];
    const secretFiles: string[] = [];
    for (const f of crawled.files) {
      if (isSecretFileName(f.path)) secretFiles.push(f.path);
      const r = await readTextFile(f.abs, MAX_FILE_BYTES);
      if (r.kind !== 'text') continue;
      for (const s of scanText(cleanText(r.text), { path: f.path })) findings.push({ rule: s.rule, path: f.path, line: s.line, column: s.column });
    }
    if (ctx.json) {
      ctx.stdout(JSON.stringify({ root: crawled.root, files: crawled.files.length, findings, secretFiles }));
      return 0;
    }
    for (const f of findings) ctx.stdout(`${f.path}:${f.line}:${f.column}  ${f.rule}`);
    for (const p of secretFiles) ctx.stdout(`${p}  secret file by name`);
    ctx.stdout(`${findings.length} secret${findings.length === 1 ? '' : 's'} in ${new Set(findings.map((f) => f.path)).size} of ${crawled.files.length} files${secretFiles.length ? `, ${secretFiles.length} secret file(s) by name` : ''}`);
    return 0;
  },
};
