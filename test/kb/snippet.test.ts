// Snippets are what a user reads in search results and offline answers: they show the match and never
// start or end in the middle of a word.
import assert from 'node:assert/strict';
import { snippetFor } from '../../daemon/src/kb/search.js';

describe('search snippets', () => {
  const long = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`).join(' ');
  const cases: Array<{ name: string; content: string; query: string; contains: string }> = [
    { name: 'match deep in one long line', content: `${long('alpha', 90)} reciprocal rank fusion ${long('omega', 90)}`, query: 'reciprocal rank fusion', contains: 'reciprocal rank fusion' },
    { name: 'match in a later line', content: `${long('line', 40)}\n${long('more', 40)}\nconst fusedScore = rrf(ranks);\n${long('tail', 60)}`, query: 'fusedScore', contains: 'fusedScore' },
  ];
  for (const c of cases) {
    it(`${c.name}: shows the match, cut at whole words`, () => {
      const s = snippetFor(c.content, c.query);
      assert.ok(s.includes(c.contains), s);
      assert.ok(s.length <= 302, `${s.length} characters`);
      const words = new Set(c.content.split(/\s+/));
      const body = s.replace(/^…/, '').replace(/…$/, '').trim().split(/\s+/);
      assert.ok(words.has(body[0]!), `starts mid-word: ${body[0]}`);
      assert.ok(words.has(body.at(-1)!), `ends mid-word: ${body.at(-1)}`);
    });
  }
  it('a short chunk comes back whole, without ellipses', () => {
    assert.equal(snippetFor('export function add(a, b) {\n  return a + b;\n}', 'add'), 'export function add(a, b) {\n  return a + b;\n}');
  });
});
