/**
 * A synchronous host for secretlint's rules. `@secretlint/core`'s `lintSource` only answers through a Promise
 * (its event emitter awaits every rule), and it builds every rule's context again for each text. The rules
 * themselves are synchronous scanners written against the documented rule API (`create(context, options)`
 * returning `{ file(source) }`, reporting through `context.report`), so this file runs the recommended preset's
 * rules directly: the same rules and the same `secretlint-disable` comments, but callable from the logger and
 * the indexer's hot loop without an `await`. test/secrets/detect.test.ts checks that it finds what `lintSource`
 * finds on the planted corpus.
 */
import { rules as recommendedRules } from '@secretlint/secretlint-rule-preset-recommend';

export interface HostFinding {
  /** Short rule name: `aws`, `github`, `privatekey`, ... (the rule id without `@secretlint/secretlint-rule-`). */
  rule: string;
  start: number;
  end: number;
}

interface Range { start: number; end: number; target: string | undefined }

interface Source { content: string; filePath: string | undefined; ext: string; contentType: 'text' }

type FileHandler = (source: Source) => unknown;

interface LoadedRule { id: string; short: string; handlers: { file?: FileHandler } }

// One report sink per scan: the rules' contexts are built once and write to whichever scan is running.
let reported: Array<{ ruleId: string; range: [number, number] }> | null = null;
let ignored: Range[] | null = null;

const translator = (_messages: unknown) => (messageId: string) => ({ message: messageId, messageId });

function loadRules(): LoadedRule[] {
  const loaded: LoadedRule[] = [];
  for (const creator of recommendedRules as unknown as Array<{
    meta: { id: string; supportedContentTypes?: string[] };
    create(context: unknown, options: unknown): { file?: FileHandler };
  }>) {
    const id = creator.meta.id;
    const context = {
      sharedOptions: {},
      createTranslator: translator,
      // Only the rule and the range are kept: a report's `data` holds the secret itself.
      report(descriptor: { range: [number, number] }) {
        reported?.push({ ruleId: id, range: descriptor.range });
      },
      ignore(descriptor: { range: [number, number]; targetRuleId?: string }) {
        ignored?.push({ start: descriptor.range[0], end: descriptor.range[1], target: descriptor.targetRuleId });
      },
    };
    const handlers = creator.create(context, {});
    loaded.push({ id, short: id.replace(/^@secretlint\/secretlint-rule-/, ''), handlers });
  }
  return loaded;
}

let loadedRules: LoadedRule[] | null = null;

/** Runs every recommended rule over `content` and returns what they report, minus `secretlint-disable`d ranges. */
export function runSecretlint(content: string, filePath?: string): HostFinding[] {
  loadedRules ??= loadRules();
  const source: Source = { content, filePath, ext: filePath ? extOf(filePath) : '.txt', contentType: 'text' };
  const mine: Array<{ ruleId: string; range: [number, number] }> = [];
  const mineIgnored: Range[] = [];
  reported = mine;
  ignored = mineIgnored;
  try {
    for (const rule of loadedRules) {
      const result = rule.handlers.file?.(source);
      // Every text rule of the preset is synchronous; a rule that answers later (binary content only, today)
      // is not waited for, and its late reports land in no scan.
      if (result && typeof (result as Promise<unknown>).then === 'function') (result as Promise<unknown>).catch(() => {});
    }
  } finally {
    reported = null;
    ignored = null;
  }
  const shortOf = new Map(loadedRules.map((r) => [r.id, r.short]));
  const findings: HostFinding[] = [];
  for (const m of mine) {
    const [start, end] = m.range;
    const skip = mineIgnored.some((ig) => start >= ig.start && end <= ig.end
      && (ig.target === undefined || ig.target === '*' || ig.target === m.ruleId));
    if (!skip) findings.push({ rule: shortOf.get(m.ruleId) ?? m.ruleId, start, end });
  }
  return findings;
}

function extOf(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot) : '';
}
