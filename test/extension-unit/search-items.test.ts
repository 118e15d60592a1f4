/**
 * What the Search QuickPick shows for a hit (extension/src/search-items.ts): which words light up for a query
 * (identifier-aware), the symbol the passage sits in, the passage cut so its match is in view, and which hits
 * are left out because nothing in them matches. Pure text, no editor.
 */
import assert from 'node:assert/strict';
import { detailLine, hitItemText, matchRanges, queryTerms, relevantItems, type HitView } from '../../extension/src/search-items.js';

/** The highlighted substrings of `text`. */
const lit = (text: string, query: string) => matchRanges(text, queryTerms(query)).map(([s, e]) => text.slice(s, e));

const hit = (over: Partial<HitView>): HitView => ({
  path: 'src/auth/session.ts',
  startLine: 1,
  endLine: 3,
  kind: 'file',
  title: 'session.ts',
  snippet: 'export function rotateRefreshToken(token: string): string {',
  score: 1,
  scope: 'function rotateRefreshToken',
  symbols: ['rotateRefreshToken'],
  ...over,
});

describe('search QuickPick items', () => {
  it('lights up whole identifiers and identifier parts, case-insensitively, and longer forms of a word', () => {
    assert.deepEqual(lit('export function computeQuarterlyTaxRebate(invoice)', 'computeQuarterlyTaxRebate'), ['computeQuarterlyTaxRebate']);
    assert.deepEqual(lit('export function rotateRefreshToken(token: string)', 'refresh token'), ['RefreshToken', 'token']);
    assert.deepEqual(lit('const parse_http_response = parseHTTPResponse(raw)', 'http response'), ['http_response', 'HTTPResponse']);
    assert.deepEqual(lit('Tokens are refreshed when the session expires', 'token refreshing session'), ['Tokens', 'refreshed', 'session']);
    // Question words, and a word inside an unrelated one, light up nothing.
    assert.deepEqual(lit('how the retry works: see retryWithBackoff', 'how does the retry work'), ['retry', 'works', 'retry']);
    assert.deepEqual(lit('an attoken, a stoken', 'token'), []);
    assert.deepEqual(lit('the id and the identity', 'id'), ['id']);
    assert.deepEqual(lit('nothing to see', 'the of a'), []);
  });

  it('names the enclosing symbol in the description and highlights the query in all three lines', () => {
    const t = hitItemText(hit({ scope: 'class SessionStore > method refresh', symbols: ['SessionStore.refresh'] }), 'session refresh');
    assert.equal(t.label, '$(file-code) src/auth/session.ts');
    assert.equal(t.description, 'class SessionStore › method refresh · lines 1–3');
    const show = (s: string, rs: [number, number][] | undefined) => (rs ?? []).map(([a, b]) => s.slice(a, b));
    assert.deepEqual(show(t.label, t.highlights.label), ['session']);
    assert.deepEqual(show(t.description, t.highlights.description), ['Session', 'refresh']);
    assert.deepEqual(show(t.detail, t.highlights.detail), ['Refresh']);

    // A passage holding several definitions names the one the query is about.
    const several = hitItemText(hit({ scope: 'interface Invoice', symbols: ['Invoice', 'Invoice.amountCents', 'computeQuarterlyTaxRebate'] }), 'quarterly tax rebate');
    assert.equal(several.description, 'computeQuarterlyTaxRebate · lines 1–3');
    assert.deepEqual(show(several.description, several.highlights.description), ['QuarterlyTaxRebate']);
    const nested = hitItemText(hit({ scope: 'class SessionStore > method refresh', symbols: ['SessionStore', 'SessionStore.refresh', 'SessionStore.expire'] }), 'expire');
    assert.equal(nested.description, 'SessionStore.expire · lines 1–3');
    const unmatched = hitItemText(hit({ scope: 'class SessionStore > method refresh', symbols: ['SessionStore.refresh'] }), 'xylophone');
    assert.equal(unmatched.description, 'class SessionStore › method refresh · lines 1–3');

    const bare = hitItemText(hit({ scope: null, symbols: [] }), 'token');
    assert.equal(bare.description, 'lines 1–3');
    const faq = hitItemText(hit({ kind: 'faq', path: 'faq:where-are-the-notes', title: 'Where are the notes?', scope: null, symbols: [] }), 'notes');
    assert.equal(faq.label, '$(question) faq:where-are-the-notes');
    assert.equal(faq.description, 'Where are the notes?');
  });

  it('starts a long passage shortly before its first match, so the match is not cut off', () => {
    const long = `${'filler words that say nothing at all '.repeat(8)}then the invoice total is rounded\nand more`;
    const line = detailLine(long, queryTerms('invoice'));
    assert.ok(line.startsWith('…'), line);
    assert.match(line, /invoice total/);
    assert.ok(line.length <= 161);
    assert.equal(detailLine('short  text\n  here', queryTerms('here')), 'short text here');
  });

  it('leaves out hits in which nothing matches, unless they score at least half the best (a match by meaning)', () => {
    const items = [
      { hit: hit({ score: 1 }), text: hitItemText(hit({ score: 1 }), 'refresh token') },
      { hit: hit({ score: 0.7, path: 'src/util.ts', snippet: 'export const pad = 2;', scope: null, symbols: [] }), text: hitItemText(hit({ path: 'src/util.ts', snippet: 'export const pad = 2;', scope: null, symbols: [] }), 'refresh token') },
      { hit: hit({ score: 0.2, path: 'src/other.ts', snippet: 'const x = 1;', scope: null, symbols: [] }), text: hitItemText(hit({ path: 'src/other.ts', snippet: 'const x = 1;', scope: null, symbols: [] }), 'refresh token') },
    ];
    assert.deepEqual(relevantItems(items).map((i) => i.hit.path), ['src/auth/session.ts', 'src/util.ts']);
    assert.deepEqual(relevantItems([]), []);
  });
});
