/**
 * What secretlint's recommended preset leaves out and Cairn must catch too: JWTs, high-entropy values assigned to a
 * name that says key/secret/token/password, and passwords inside any `scheme://user:password@host` URL. Each
 * rule is one linear regular expression (no nested quantifiers) plus a cheap check on the value.
 */
export interface ExtraFinding { rule: string; start: number; end: number }

const JWT = /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}/g;

// A name that says key/secret/token/password, then `=`, `:`, `:=` or `=>` and a value, quoted or bare
// (`apiKey = "..."`, `"client_secret": "..."`, `STRIPE_KEY=...` in .env). The name is found first by plain
// `indexOf` on the lower-cased text (a regular expression with these alternatives costs more than all of
// secretlint's rules together), then the value is matched where the name ends.
const NAME_NEEDLES = ['secret', 'token', 'passw', 'pwd', 'credential', 'key'];
const KEY_QUALIFIER = /(?:[_-]|api|access|private|auth|signing|encryption|master|client|account|license|session)$/;
const ASSIGNED_VALUE = /["']?\s*(?::=|=>|=|:)\s*(["'`]?)([A-Za-z0-9+/=_\-.~!@#$%^&*]{12,512})\1/y;

// After `scheme://`: user, `:`, password, `@`, a host character. No class overlaps its neighbour: linear.
const URL_CREDENTIALS = /([^\s:/@'"`<>]{1,128}):([^\s@/'"`<>]{3,256})@[A-Za-z0-9.[\]-]/y;

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

const PEM_BEGIN = /-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----/g;
const PEM_END = /-----END[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----/g;
const PEM_MAX = 20_000;

export function runExtraRules(text: string): ExtraFinding[] {
  const out: ExtraFinding[] = [];
  if (text.includes('PRIVATE KEY')) {
    for (const m of text.matchAll(PEM_BEGIN)) {
      PEM_END.lastIndex = m.index + m[0].length;
      const e = PEM_END.exec(text);
      // No end marker (a paste cut short): everything after the header, up to the limit, is the key.
      const end = e && e.index - m.index < PEM_MAX ? e.index + e[0].length : Math.min(text.length, m.index + PEM_MAX);
      out.push({ rule: 'private-key-block', start: m.index, end });
    }
  }
  for (const m of text.matchAll(JWT)) out.push({ rule: 'jwt', start: m.index, end: m.index + m[0].length });
  // Lower-casing keeps offsets only when no character changes length (all but a few non-ASCII letters).
  const lower = text.toLowerCase();
  if (lower.length === text.length) {
    const nameEnds = new Set<number>();
    for (const needle of NAME_NEEDLES) {
      for (let at = lower.indexOf(needle); at !== -1; at = lower.indexOf(needle, at + needle.length)) {
        if (needle === 'key' && (!KEY_QUALIFIER.test(lower.slice(Math.max(0, at - 10), at)) || isLetter(lower.charCodeAt(at + 3)))) continue;
        let i = at + needle.length;
        while (i < text.length && isNameChar(text.charCodeAt(i))) i++;
        nameEnds.add(i);
      }
    }
    for (const i of nameEnds) {
      ASSIGNED_VALUE.lastIndex = i;
      const v = ASSIGNED_VALUE.exec(text);
      if (!v || !looksGenerated(v[2]!)) continue;
      const start = i + v[0].length - v[2]!.length - v[1]!.length;
      out.push({ rule: 'assigned-secret', start, end: start + v[2]!.length });
    }
  }
  for (let at = text.indexOf('://'); at !== -1; at = text.indexOf('://', at + 3)) {
    if (at === 0 || !isLetter(text.charCodeAt(at - 1) | 0x20)) continue;
    URL_CREDENTIALS.lastIndex = at + 3;
    const m = URL_CREDENTIALS.exec(text);
    if (!m) continue;
    const password = m[2]!;
    if (PLACEHOLDER.test(password) || /^[$:]/.test(password)) continue;
    const start = at + 3 + m[1]!.length + 1;
    out.push({ rule: 'url-password', start, end: start + password.length });
  }
  return out;
}

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isNameChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
