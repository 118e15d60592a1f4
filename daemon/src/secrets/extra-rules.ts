/**
 * What secretlint's recommended preset leaves out and issue 15 asks for: JWTs, high-entropy values assigned to a
 * name that says key/secret/token/password, and passwords inside any `scheme://user:password@host` URL. Each
 * rule is one linear regular expression (no nested quantifiers) plus a cheap check on the value.
 */
export interface ExtraFinding { rule: string; start: number; end: number }

const JWT = /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}/g;

// name = value / name: value / "name": "value" / NAME=value (.env), the value quoted or bare.
const ASSIGNED = /([A-Za-z0-9_.-]*(?:secret|token|passw(?:or)?d|pwd|api[_-]?key|apikey|access[_-]?key|private[_-]?key|auth[_-]?key|client[_-]?secret|credentials?|signing[_-]?key|_key|-key)[A-Za-z0-9_]*)["']?\s*(?::=|=>|=|:)\s*(["'`]?)([A-Za-z0-9+/=_\-.~!@#$%^&*]{12,512})\2/gi;

const URL_PASSWORD = /\b[a-z][a-z0-9+.-]{1,20}:\/\/[^\s:/@'"`<>]{1,128}:([^\s@/'"`<>]{3,256})@[A-Za-z0-9.[\]-]/gi;

/** Shannon entropy in bits per character. */
export function entropy(value: string): number {
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / value.length;
    h -= p * Math.log2(p);
  }
  return h;
}

const PLACEHOLDER = /^(?:x+|\*+|\.+|<[^>]*>|\$\{[^}]*\}|\{\{[^}]*\}\}|%\w*%?|changeme|password|secret|example|your[_-]?\w*|dummy\w*|test\w*|null|undefined|true|false|none)$/i;

/** A value that reads like a generated credential, not like code, a word or a placeholder. */
export function looksGenerated(value: string): boolean {
  if (value.length < 16 || PLACEHOLDER.test(value)) return false;
  // Code: member access, calls, paths and identifiers in a known case style are not keys.
  if (/^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$/.test(value)) return false;
  if (/^[a-z]+(?:[A-Z][a-z]+)+$|^[a-z]+(?:[_-][a-z]+)+$|^[A-Z]+(?:_[A-Z]+)+$/.test(value)) return false;
  const digits = /\d/.test(value);
  const letters = /[A-Za-z]/.test(value);
  if (!digits || !letters) return false;
  const isHex = /^[0-9a-fA-F]+$/.test(value);
  return entropy(value) >= (isHex ? 3.0 : 3.5);
}

export function runExtraRules(text: string): ExtraFinding[] {
  const out: ExtraFinding[] = [];
  for (const m of text.matchAll(JWT)) out.push({ rule: 'jwt', start: m.index, end: m.index + m[0].length });
  for (const m of text.matchAll(ASSIGNED)) {
    const value = m[3]!;
    if (!looksGenerated(value)) continue;
    const start = m.index + m[0].length - value.length - m[2]!.length;
    out.push({ rule: 'assigned-secret', start, end: start + value.length });
  }
  for (const m of text.matchAll(URL_PASSWORD)) {
    const password = m[1]!;
    if (PLACEHOLDER.test(password) || /^\$|^:/.test(password)) continue;
    const start = m.index + m[0].length - 2 - password.length;
    out.push({ rule: 'url-password', start, end: start + password.length });
  }
  return out;
}
