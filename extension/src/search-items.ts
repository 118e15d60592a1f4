/**
 * What "Cairn: Search Knowledge Base" shows for each hit, without the editor: the label (path), the description
 * (the enclosing symbol and the lines), the detail (the passage, cut so its first match is in view), which
 * ranges of each to highlight for the query, and which hits are worth showing at all.
 *
 * Matching is identifier-aware, as the index is: a query word matches a whole identifier or one of its parts
 * (`token` lights up `rotateRefreshToken`'s `Token`, `computeQuarterlyTaxRebate` the whole name), and a word
 * also matches its longer forms (`refresh` → `refreshes`, `tokens` → `token`).
 */

/** `[start, end)` offsets into the string they belong to, as VS Code's highlight ranges are. */
export type Range = [number, number];

export interface ItemHighlights {
  label?: Range[];
  description?: Range[];
  detail?: Range[];
}

/** The fields of a kb/search hit the view needs. */
export interface HitView {
  path: string;
  startLine: number;
  endLine: number;
  kind: 'file' | 'document' | 'url' | 'faq';
  title: string | null;
  snippet: string;
  score: number;
  scope?: string | null;
  symbols?: string[];
}

export interface ItemText {
  label: string;
  description: string;
  detail: string;
  highlights: ItemHighlights;
}

/** Words a question carries that say nothing about where the answer is. */
const STOP = new Set(
  'a an and are as at be by can do does for from how i if in into is it its of on or should that the their then there this to use used uses using was we what when where which who why will with without you'.split(' '),
);

const WORD = /[\p{L}\p{N}_$]+/gu;
const PART = /\p{Lu}?[\p{Ll}\p{N}]+|\p{Lu}+(?!\p{Ll})|\p{N}+/gu;

/** The parts of an identifier with their offsets in it: `parseHTTPResponse_v2` → parse, HTTP, Response, v2. */
function identifierParts(word: string): { text: string; start: number }[] {
  const out: { text: string; start: number }[] = [];
  for (const m of word.matchAll(PART)) out.push({ text: m[0], start: m.index });
  return out;
}

/** A plural or verb ending off, so `tokens`, `refreshing`, `cached` find `token`, `refresh`, `cache`. */
function stem(w: string): string {
  for (const end of ['ing', 'es', 'ed', 's']) {
    if (w.length - end.length >= 4 && w.endsWith(end)) return w.slice(0, -end.length);
  }
  return w;
}

export interface QueryTerms {
  /** Whole identifiers of the query, lower case (`computequarterlytaxrebate`). */
  whole: Set<string>;
  /** Stems of its words and identifier parts, 2 characters or more, stop words left out. */
  stems: string[];
}

export function queryTerms(query: string): QueryTerms {
  const whole = new Set<string>();
  const stems = new Set<string>();
  for (const m of query.matchAll(WORD)) {
    const word = m[0];
    const lower = word.toLowerCase();
    if (STOP.has(lower)) continue;
    if (lower.length > 1) whole.add(lower);
    for (const p of identifierParts(word)) {
      const part = p.text.toLowerCase();
      if (part.length > 1 && !STOP.has(part)) stems.add(stem(part));
    }
  }
  return { whole, stems: [...stems] };
}

function partMatches(part: string, terms: QueryTerms): boolean {
  const lower = part.toLowerCase();
  // Short terms (`id`, `db`) only as a whole part; longer ones also as the start of a longer form.
  return terms.stems.some((s) => lower === s || (s.length >= 3 && lower.startsWith(s)));
}

/** The ranges of `text` that match the query's terms, merged and in order. */
export function matchRanges(text: string, terms: QueryTerms): Range[] {
  if (terms.stems.length === 0 && terms.whole.size === 0) return [];
  const ranges: Range[] = [];
  for (const m of text.matchAll(WORD)) {
    const word = m[0];
    const at = m.index;
    if (terms.whole.has(word.toLowerCase())) {
      ranges.push([at, at + word.length]);
      continue;
    }
    for (const p of identifierParts(word)) {
      if (partMatches(p.text, terms)) ranges.push([at + p.start, at + p.start + p.text.length]);
    }
  }
  return mergeRanges(ranges, text);
}

/** Overlapping or touching ranges as one (`Refresh` + `Token` → `RefreshToken`; `http` + `_` + `response`). */
export function mergeRanges(ranges: Range[], text = ''): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && (r[0] <= last[1] || /^[_$]+$/.test(text.slice(last[1], r[0])))) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

/** The passage on one line, at most `max` characters, started shortly before its first match so it is in view. */
export function detailLine(snippet: string, terms: QueryTerms, max = 160): string {
  const flat = snippet.replace(/\s+/g, ' ').trim();
  const first = matchRanges(flat, terms)[0];
  let start = 0;
  if (first && first[1] > max - 20) {
    // Back to a word boundary about 30 characters before the match.
    start = Math.max(0, first[0] - 30);
    while (start > 0 && flat[start - 1] !== ' ') start++;
  }
  let text = flat.slice(start);
  if (text.length > max) text = `${text.slice(0, max - 1)}…`;
  return start > 0 ? `…${text}` : text;
}

const ICONS: Record<HitView['kind'], string> = { file: 'file-code', url: 'globe', faq: 'question', document: 'book' };

/**
 * The symbol to name for a hit: the definition in the passage that the query matches best (a chunk can hold
 * several), shown with its kind when it ends the scope chain (`function computeQuarterlyTaxRebate`), else its
 * qualified name; without a match, the chain the passage starts in (`class SessionStore › method refresh`).
 */
export function symbolText(hit: Pick<HitView, 'scope' | 'symbols'>, terms: QueryTerms): string | null {
  const chain = hit.scope ? hit.scope.split(' > ') : [];
  let best: string | null = null;
  let bestLength = 0;
  for (const s of hit.symbols ?? []) {
    const length = matchRanges(s, terms).reduce((n, [a, b]) => n + b - a, 0);
    if (length > bestLength) {
      best = s;
      bestLength = length;
    }
  }
  if (best) {
    const name = best.split('.').pop()!;
    const last = chain[chain.length - 1];
    return last && last.endsWith(` ${name}`) ? chain.join(' › ') : best;
  }
  if (chain.length) return chain.join(' › ');
  return hit.symbols?.[0] ?? null;
}

/** The three lines of a hit and where the query matches them. */
export function hitItemText(hit: HitView, query: string): ItemText {
  const terms = queryTerms(query);
  const iconPrefix = `$(${ICONS[hit.kind]}) `;
  const label = `${iconPrefix}${hit.path}`;
  const where = hit.kind === 'file' ? `lines ${hit.startLine}–${hit.endLine}` : (hit.title ?? hit.kind);
  const scope = symbolText(hit, terms);
  const description = scope ? `${scope} · ${where}` : where;
  const detail = detailLine(hit.snippet, terms);
  const shift = (rs: Range[], by: number): Range[] => rs.map(([s, e]) => [s + by, e + by]);
  return {
    label,
    description,
    detail,
    highlights: {
      label: shift(matchRanges(hit.path, terms), iconPrefix.length),
      description: scope ? matchRanges(scope, terms) : [],
      detail: matchRanges(detail, terms),
    },
  };
}

/** Whether any of an item's lines matches the query. */
export function hasMatch(h: ItemHighlights): boolean {
  return Boolean(h.label?.length || h.description?.length || h.detail?.length);
}

/**
 * The hits worth showing: those where a query word shows (path, symbol or passage), and those that match by
 * meaning only (an embedding model's vector hit) when they score at least half the best hit. The daemon's
 * order is kept.
 */
export function relevantItems<T extends { hit: Pick<HitView, 'score'>; text: ItemText }>(items: T[]): T[] {
  const best = Math.max(0, ...items.map((i) => i.hit.score));
  return items.filter((i) => hasMatch(i.text.highlights) || (best > 0 && i.hit.score >= best / 2));
}
