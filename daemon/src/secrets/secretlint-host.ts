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

interface LoadedRule { id: string; short: string; handlers: { file?: FileHandler }; trigger: ((text: string) => boolean) | null }

/**
 * Literals without which a rule cannot report (each rule's own pattern starts with one of them), so a text
 * without any is not handed to that rule: 28 passes of a regular expression over every file cost more than the
 * indexing itself, `includes` costs nearly nothing. A rule missing here (a new one in a later preset) always
 * runs; test/secrets/detect.test.ts checks that the prefilter changes no finding on both corpora and that
 * every rule of the preset is listed.
 */
export const RULE_TRIGGERS: Record<string, string[] | RegExp> = {
  aws: /secret/i,
  gcp: ['private_key', '\\u00'],
  privatekey: ['PRIVATE KEY'],
  npm: ['npm_', '_authToken', 'x-oauth-basic'],
  slack: ['xox', 'xapp-', 'hooks.slack.com'],
  basicauth: ['://'],
  openai: ['T3BlbkFJ'],
  anthropic: ['sk-ant-'],
  groq: ['gsk_'],
  huggingface: ['hf_'],
  linear: ['lin_api_'],
  notion: ['ntn_'],
  sendgrid: ['SG.'],
  shopify: ['shppa_', 'shpca_', 'shpat_', 'shpss_'],
  stripe: ['sk_live_', 'sk_test_', 'rk_live_', 'rk_test_'],
  github: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_', 'x-oauth-basic'],
  gitlab: ['glpat-'],
  grafana: ['glc_', 'glsa_'],
  '1password': ['ops_ey'],
  'database-connection-string': ['://'],
  'hashicorp-vault': ['hvs.', 'hvb.', 'hvr.'],
  vercel: ['vcp_', 'vci_', 'vca_', 'vcr_', 'vck_'],
  databricks: ['dapi'],
  docker: ['dckr_pat_'],
  figma: ['figd_'],
  cloudflare: ['cfk_', 'cfut_', 'cfat_'],
  tailscale: ['tskey-'],
  'filter-comments': ['secretlint-'],
};

function triggerOf(short: string): LoadedRule['trigger'] {
  const t = RULE_TRIGGERS[short];
  if (!t) return null;
  if (t instanceof RegExp) return (text) => t.test(text);
  return (text) => t.some((lit) => text.includes(lit));
}

/** Off only in the test that proves the prefilter changes nothing. */
let prefilter = true;
export function setPrefilter(on: boolean): void {
  prefilter = on;
}

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
    const short = id.replace(/^@secretlint\/secretlint-rule-/, '');
    loaded.push({ id, short, handlers, trigger: triggerOf(short) });
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
      if (prefilter && rule.trigger && !rule.trigger(content)) continue;
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

/** The short names of every rule the preset has (for the test that keeps RULE_TRIGGERS complete). */
export function presetRuleNames(): string[] {
  loadedRules ??= loadRules();
  return loadedRules.map((r) => r.short);
}
