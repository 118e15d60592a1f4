/**
 * Which text in the chat is a workspace location the user can click (webview/src/locations.ts): the forms
 * Cairn and models cite (`path:start-end`, `path:line`, "Sources: a, b", the search tool's numbered list), and
 * what merely looks like one (hosts and ports, URLs, times, versions). Pure text, no editor.
 */
import assert from 'node:assert/strict';
import { findLocations, wholeLocation } from '../../webview/src/locations.js';

const found = (text: string) => findLocations(text).map((m) => `${m.location.path}:${m.location.startLine}-${m.location.endLine}`);

describe('chat locations', () => {
  const cases: [string, string[]][] = [
    ['Sources: src/billing/invoice.ts:7-11, docs/guide.md:5', ['src/billing/invoice.ts:7-11', 'docs/guide.md:5-5']],
    ['1. src/auth/session.ts:1-3 (score 0.812)', ['src/auth/session.ts:1-3']],
    ['see README.md:12–20.', ['README.md:12-20']],
    ['(bin/cairn:4)', ['bin/cairn:4-4']],
    ['in /home/ana/acme/src/a.ts:3', ['/home/ana/acme/src/a.ts:3-3']],
    ['a reversed range src/a.ts:20-10', ['src/a.ts:20-20']],
    ['http://127.0.0.1:11434/v1 and localhost:11434', []],
    ['https://example.com/docs/a.ts:10', []],
    ['at 10:30, version 1.2.3:4, git@github.com:22', []],
    ['src/a.ts:0 and src/a.tsx:7b', []],
  ];
  for (const [text, expected] of cases) {
    it(`finds ${expected.length ? expected.join(', ') : 'nothing'} in “${text}”`, () => {
      assert.deepEqual(found(text), expected);
    });
  }

  it('knows an inline code span that is one location, and one that only contains one', () => {
    assert.deepEqual(wholeLocation(' src/billing/invoice.ts:7-11 '), { path: 'src/billing/invoice.ts', startLine: 7, endLine: 11 });
    assert.equal(wholeLocation('open src/billing/invoice.ts:7-11'), null);
    assert.equal(wholeLocation('packages/platform/configuration/src/browser/configurationService.ts'), null);
  });
});
