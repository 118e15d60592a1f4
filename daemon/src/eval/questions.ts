/**
 * The question-set format of `cairn eval` (docs/eval.md): a set names the code it is about (an npm package
 * pinned by version, or the folder given with --dir) and lists questions, each with the file paths that
 * answer it, relative to the indexed folder.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

export const QuestionSetSchema = z.object({
  name: z.string().min(1).describe('Short name of the set, shown in the report.'),
  description: z.string().optional().describe('What the questions are like and how they were written.'),
  corpus: z
    .object({
      npm: z
        .string()
        .regex(/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*@\d+\.\d+\.\d+[\w.+-]*$/i, 'an npm package pinned to an exact version, e.g. rxjs@7.8.2')
        .describe('npm package pinned to an exact version, e.g. rxjs@7.8.2; fetched from the registry into the eval cache.'),
      dir: z.string().default('').describe('Folder inside the package to index, e.g. src; empty for the whole package.'),
    })
    .optional()
    .describe('Where the code comes from; without it the set runs on --dir (default: the current folder).'),
  questions: z
    .array(
      z.object({
        query: z.string().min(1).describe('The question or search text, as a user would type it.'),
        relevant: z.array(z.string().min(1)).min(1).describe('Paths of the files that answer it, relative to the indexed folder.'),
      }),
    )
    .min(1),
});

export type QuestionSet = z.infer<typeof QuestionSetSchema>;

export class QuestionSetError extends Error {}

/** Reads question sets from files and folders (every `*.json` of a folder, sorted by name). */
export async function loadQuestionSets(paths: string[]): Promise<{ file: string; set: QuestionSet }[]> {
  const files: string[] = [];
  for (const p of paths) {
    const st = await stat(p).catch(() => null);
    if (!st) throw new QuestionSetError(`${p}: no such file or folder`);
    if (st.isDirectory()) {
      for (const name of (await readdir(p)).filter((n) => n.endsWith('.json')).sort()) files.push(join(p, name));
    } else files.push(p);
  }
  if (files.length === 0) throw new QuestionSetError(`no question sets (*.json) in ${paths.join(', ')}`);
  const out: { file: string; set: QuestionSet }[] = [];
  for (const file of files) {
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(file, 'utf8'));
    } catch (e) {
      throw new QuestionSetError(`${file}: not valid JSON (${(e as Error).message})`);
    }
    const parsed = QuestionSetSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new QuestionSetError(`${file}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
    }
    const set = parsed.data;
    set.questions = set.questions.map((q) => ({ ...q, relevant: q.relevant.map(normalisePath) }));
    out.push({ file, set });
  }
  return out;
}

/** `./src\\a.ts` → `src/a.ts`: relevant paths compare with the indexed paths. */
export function normalisePath(p: string): string {
  return p.replace(/\\/g, '/').replace(/^(\.\/)+/, '').replace(/^\/+/, '');
}
