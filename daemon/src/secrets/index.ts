/**
 * Secret detection and redaction, the one module every path out of the machine calls: chunks before
 * they are embedded or stored, text before it reaches a model or a stored session, and the daemon's log lines.
 *
 * Detection is secretlint's recommended preset (the source of truth: AWS, GCP, GitHub, Slack, Stripe, OpenAI,
 * Anthropic, private keys, npm, SendGrid, database connection strings, basic auth, ...), run synchronously by
 * `secretlint-host.ts`, plus three rules the preset lacks (`extra-rules.ts`): JWTs, high-entropy values assigned
 * to a key/secret/token/password name, and passwords in `scheme://user:password@host` URLs.
 */
import { runSecretlint } from './secretlint-host.js';
import { runExtraRules } from './extra-rules.js';

export { isSecretFileName } from './files.js';

export interface SecretFinding {
  /** Rule that matched: a secretlint rule's short name (`aws`, `github`, `privatekey`, ...) or `jwt`, `assigned-secret`, `url-password`. */
  rule: string;
  /** UTF-16 offset of the secret's first character in the scanned text. */
  start: number;
  /** UTF-16 offset just past the secret. */
  end: number;
  /** 1-based line of `start`. */
  line: number;
  /** 1-based column of `start` (UTF-16 units). */
  column: number;
}

/**
 * Every secret in `text`, sorted by position, overlaps merged (the first rule at a position names it).
 * `opts.path` lets path-aware rules (e.g. `.env` handling) know the file. Synchronous; never throws on content.
 */
export function scanText(text: string, opts: { path?: string } = {}): SecretFinding[] {
  if (text.length < 8) return [];
  const raw = [...runSecretlint(text, opts.path), ...runExtraRules(text)]
    .filter((f) => f.end > f.start)
    .sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: Array<{ rule: string; start: number; end: number }> = [];
  for (const f of raw) {
    const last = merged[merged.length - 1];
    if (last && f.start < last.end) {
      last.end = Math.max(last.end, f.end);
      continue;
    }
    merged.push({ ...f });
  }
  if (merged.length === 0) return [];
  const out: SecretFinding[] = [];
  let line = 1;
  let lineStart = 0;
  let pos = 0;
  for (const f of merged) {
    for (; pos < f.start; pos++) {
      if (text.charCodeAt(pos) === 10) { line++; lineStart = pos + 1; }
    }
    out.push({ rule: f.rule, start: f.start, end: f.end, line, column: f.start - lineStart + 1 });
  }
  return out;
}

/**
 * `text` with each finding replaced by `[redacted: <rule>]` (findings from `scanText` on this same text). A secret
 * that spans lines (a PEM key) leaves its line breaks after the marker, so line numbers after it do not move.
 */
export function redactText(text: string, findings: SecretFinding[]): string {
  if (findings.length === 0) return text;
  const sorted = [...findings].sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  for (const f of sorted) {
    if (f.start < at) continue;
    out += text.slice(at, f.start) + `[redacted: ${f.rule}]` + '\n'.repeat(countNewlines(text, f.start, f.end));
    at = f.end;
  }
  return out + text.slice(at);
}

/** `scanText` then `redactText`, with the count: what every path out calls. */
export function redactSecrets(text: string, opts: { path?: string } = {}): { text: string; redactions: number; rules: string[] } {
  const findings = scanText(text, opts);
  if (findings.length === 0) return { text, redactions: 0, rules: [] };
  return { text: redactText(text, findings), redactions: findings.length, rules: [...new Set(findings.map((f) => f.rule))] };
}

function countNewlines(text: string, start: number, end: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', start); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
