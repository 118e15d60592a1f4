import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import { chunkText, DEFAULT_MAX_TOKENS } from '../../daemon/src/kb/chunk.js';

const enc = new Tiktoken(cl100k);
const require = createRequire(import.meta.url);

describe('kb chunker', () => {
  const tsSource = readFileSync(require.resolve('typescript/lib/lib.es5.d.ts'), 'utf8');

  it('covers a real source file exactly, in order, with 1-based inclusive line ranges', () => {
    const chunks = chunkText(tsSource, 'typescript');
    const lines = tsSource.split('\n');
    assert.ok(chunks.length > 50);
    let next = 1;
    for (const c of chunks) {
      assert.ok(c.startLine >= next, `chunk ${c.ordinal} starts at ${c.startLine}, expected >= ${next}`);
      for (let l = next; l < c.startLine; l++) assert.equal(lines[l - 1]!.trim(), '', 'only blank lines are left out');
      assert.equal(c.content, lines.slice(c.startLine - 1, c.endLine).join('\n'));
      next = c.endLine + 1;
    }
  });

  it('keeps every chunk within the token budget as cl100k counts it', () => {
    const chunks = chunkText(tsSource, 'typescript');
    const worst = Math.max(...chunks.map((c) => enc.encode(c.content).length));
    assert.ok(worst <= DEFAULT_MAX_TOKENS, `largest chunk has ${worst} tokens`);
    const cjk = '知識ベースの検索はチームの記憶です。'.repeat(400);
    for (const c of chunkText(cjk, 'markdown')) assert.ok(enc.encode(c.content).length <= DEFAULT_MAX_TOKENS);
  });

  it('cuts code before top-level declarations', () => {
    const code = Array.from({ length: 40 }, (_, i) => `export function f${i}(a: number): number {\n  const x = a * ${i};\n  return x + ${i};\n}`).join('\n');
    const chunks = chunkText(code, 'typescript', { maxTokens: 120 });
    assert.ok(chunks.length > 3);
    for (const c of chunks) assert.match(c.content, /^export function f\d+/);
  });

  it('splits markdown at headings', () => {
    const md = ['# Guide', '', 'intro text '.repeat(40), '', '## Install', '', 'npm install cairn '.repeat(30), '', '## Configure', '', 'set the model '.repeat(30)].join('\n');
    const chunks = chunkText(md, 'markdown', { maxTokens: 200 });
    assert.deepEqual(chunks.map((c) => c.content.split('\n', 1)[0]), ['# Guide', '## Install', '## Configure']);
  });

  it('splits an enormous single line into pieces on that line, never crashing', () => {
    const line = `const data=[${Array.from({ length: 200_000 }, (_, i) => i).join(',')}];`;
    const chunks = chunkText(line, 'javascript');
    assert.ok(chunks.length > 10);
    assert.equal(chunks.map((c) => c.content).join(''), line);
    for (const c of chunks) {
      assert.equal(c.startLine, 1);
      assert.equal(c.endLine, 1);
      assert.ok(enc.encode(c.content).length <= DEFAULT_MAX_TOKENS);
    }
  });

  it('gives the same hashes for the same text', () => {
    const a = chunkText(tsSource.slice(0, 20_000), 'typescript');
    const b = chunkText(tsSource.slice(0, 20_000), 'typescript');
    assert.deepEqual(a.map((c) => c.contentHash), b.map((c) => c.contentHash));
    assert.match(a[0]!.contentHash, /^[0-9a-f]{64}$/);
  });
});
