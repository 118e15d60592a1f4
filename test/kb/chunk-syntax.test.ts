import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chunkFile, chunkText, DEFAULT_MAX_TOKENS, type Chunk } from '../../daemon/src/kb/chunk.js';
import { grammarLoads, grammarOf, parsersLoaded, releaseParsers, SUPPORTED_GRAMMARS, withParsers } from '../../daemon/src/kb/chunk-syntax.js';

const require = createRequire(import.meta.url);

/** Every non-blank line is in exactly one chunk, in order, and each chunk is exactly its lines. */
function assertExactCover(text: string, chunks: Chunk[]): void {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  let next = 1;
  for (const c of chunks) {
    assert.ok(c.startLine >= next, `chunk ${c.ordinal} starts at ${c.startLine}, expected >= ${next}`);
    for (let l = next; l < c.startLine; l++) assert.equal(lines[l - 1]!.trim(), '', `line ${l} is left out`);
    if (c.startLine !== c.endLine || c.content === lines[c.startLine - 1]) assert.equal(c.content, lines.slice(c.startLine - 1, c.endLine).join('\n'));
    next = c.startLine === c.endLine && c.content !== lines[c.startLine - 1] ? c.startLine : c.endLine + 1;
  }
  for (let l = next; l <= lines.length; l++) assert.equal(lines[l - 1]!.trim(), '', `line ${l} is left out at the end`);
}

const SAMPLES: { path: string; text: string; symbols: string[]; scopeOf: [RegExp, string][] }[] = [
  {
    path: 'src/store.ts',
    text: `import { x } from './x';

/** Keeps sessions. */
export class SessionStore {
  private items = new Map<string, number>();

  /** Adds one. */
  add(id: string): void {
    this.items.set(id, 1);
  }

  remove(id: string): boolean {
    return this.items.delete(id);
  }
}

export interface SessionRow {
  id: string;
}

export function openStore(path: string): SessionStore {
  return new SessionStore();
}
`,
    symbols: ['SessionStore', 'SessionStore.add', 'SessionStore.remove', 'SessionRow', 'openStore'],
    scopeOf: [[/this\.items\.delete/, 'class SessionStore > method remove']],
  },
  {
    path: 'lib/reply.js',
    text: `'use strict'

function Reply (res) {
  this.raw = res
}

Reply.prototype.send = function (payload) {
  return this.raw.end(payload)
}

class Queue {
  push (item) {
    return item
  }
}

module.exports = Reply
`,
    symbols: ['Reply', 'Reply.prototype.send', 'Queue', 'Queue.push'],
    scopeOf: [[/this\.raw\.end/, 'function Reply.prototype.send']],
  },
  {
    path: 'app/models.py',
    text: `import os


class Account:
    """A user account."""

    def __init__(self, name):
        self.name = name

    @property
    def label(self):
        return self.name.title()


def load(path):
    return Account(os.path.basename(path))
`,
    symbols: ['Account', 'Account.__init__', 'Account.label', 'load'],
    scopeOf: [[/name\.title/, 'class Account > function label']],
  },
  {
    path: 'server/handler.go',
    text: `package server

type Handler struct {
\tname string
}

func (h *Handler) Serve(path string) error {
\treturn nil
}

func NewHandler() *Handler {
\treturn &Handler{}
}
`,
    symbols: ['Handler', 'Serve', 'NewHandler'],
    scopeOf: [[/return &Handler/, 'function NewHandler']],
  },
  {
    path: 'src/lib.rs',
    text: `pub struct Cache {
    size: usize,
}

impl Cache {
    pub fn new(size: usize) -> Self {
        Cache { size }
    }
}

pub fn evict(c: &mut Cache) {
    c.size = 0;
}
`,
    symbols: ['Cache', 'Cache.new', 'evict'],
    scopeOf: [[/Cache \{ size \}/, 'impl Cache > function new']],
  },
  {
    path: 'src/Main.java',
    text: `package app;

public class Main {
    private int count;

    public Main() {
        count = 0;
    }

    public int next() {
        return ++count;
    }
}
`,
    symbols: ['Main', 'Main.Main', 'Main.next'],
    scopeOf: [[/\+\+count/, 'class Main > method next']],
  },
  {
    path: 'src/ring.c',
    text: `#include <stdlib.h>

struct ring {
  int head;
};

int ring_push(struct ring *r, int v) {
  r->head = v;
  return 0;
}
`,
    symbols: ['ring', 'ring_push'],
    scopeOf: [[/r->head = v/, 'function ring_push']],
  },
  {
    path: 'src/Greeter.cs',
    text: `namespace App {
  public class Greeter {
    public string Hello(string name) {
      return "hi " + name;
    }
  }
}
`,
    symbols: ['App', 'App.Greeter', 'App.Greeter.Hello'],
    scopeOf: [[/"hi "/, 'namespace App > class Greeter > method Hello']],
  },
  {
    path: 'lib/shop.rb',
    text: `module Shop
  class Cart
    def total
      42
    end
  end
end
`,
    symbols: ['Shop', 'Shop.Cart', 'Shop.Cart.total'],
    scopeOf: [[/42/, 'module Shop > class Cart']],
  },
  {
    path: 'src/Cart.php',
    text: `<?php
class Cart {
  public function total() {
    return 42;
  }
}
`,
    symbols: ['Cart', 'Cart.total'],
    scopeOf: [[/return 42/, 'class Cart > method total']],
  },
  {
    path: 'scripts/build.sh',
    text: `#!/bin/sh
build_all() {
  make all
}
build_all
`,
    symbols: ['build_all'],
    scopeOf: [[/make all/, 'function build_all']],
  },
];

describe('kb syntax-aware chunker', function () {
  this.timeout(60_000);

  it('loads every grammar it names and compiles its query', async () => {
    for (const g of SUPPORTED_GRAMMARS) assert.equal(await grammarLoads(g), true, g);
  });

  for (const s of SAMPLES) {
    it(`${s.path}: names the definitions and where each chunk sits`, async () => {
      const chunks = await chunkFile(s.path, s.text, null);
      assertExactCover(s.text, chunks);
      const all = [...new Set(chunks.flatMap((c) => c.symbols ?? []))];
      for (const sym of s.symbols) assert.ok(all.includes(sym), `${sym} not among ${all.join(', ')}`);
      // Small files fit one chunk; the scope then names the first definition. Cut them small to see scopes.
      const small = await chunkFile(s.path, s.text, null, { maxTokens: 24 });
      assertExactCover(s.text, small);
      for (const [re, scope] of s.scopeOf) {
        const c = small.find((x) => re.test(x.content));
        assert.ok(c, `no chunk has ${re}`);
        assert.equal(c.scope, scope, `${re} in ${JSON.stringify(small.map((x) => [x.startLine, x.endLine, x.scope]))}`);
      }
    });
  }

  it('keeps a definition whole when it fits, where the line chunker splits it', async () => {
    // Each function is ~100 tokens with a blank line inside; the budget holds two, so cuts must fall between
    // functions. The line chunker sees no declaration at `Pipe.prototype.x = function` and cuts at blank lines.
    const fns = Array.from({ length: 12 }, (_, i) => {
      const body = (op: string) => Array.from({ length: 3 }, (_, k) => `  input = input.${op}((v) => v + ${i * 10 + k});`).join('\n');
      return `Pipe.prototype.step${i} = function (input) {\n${body('map')}\n\n${body('filter')}\n  return input;\n}\n`;
    });
    const text = `function Pipe() {}\n\n${fns.join('\n')}`;
    const cutsAFunction = (c: Chunk) => (c.content.match(/= function/g) ?? []).length !== (c.content.match(/^}/gm) ?? []).length;
    const chunks = await chunkFile('steps.js', text, 'javascript', { maxTokens: 220 });
    assertExactCover(text, chunks);
    for (const c of chunks) assert.ok(!cutsAFunction(c), `chunk ${c.startLine}-${c.endLine} cuts a function:\n${c.content}`);
    assert.ok(chunkText(text, 'javascript', { maxTokens: 220 }).some(cutsAFunction), 'the line chunker cuts inside a function here');
  });

  it('cuts a class too large for one chunk between its methods, each chunk naming its class and method', async () => {
    const methods = Array.from({ length: 10 }, (_, i) => `  /** Step ${i}. */\n  step${i}(x: number): number {\n${Array.from({ length: 8 }, (_, k) => `    x = x * ${k + 2} + ${i};`).join('\n')}\n    return x;\n  }\n`);
    const text = `export class Pipeline {\n${methods.join('\n')}}\n`;
    const chunks = await chunkFile('pipeline.ts', text, 'typescript');
    assertExactCover(text, chunks);
    assert.ok(chunks.length >= 2);
    for (const c of chunks.slice(1)) {
      assert.match(c.content, /^ {2}\/\*\* Step \d+\. \*\//, 'a chunk starts at a method, with its doc comment');
      assert.match(c.scope ?? '', /^class Pipeline > method step\d+$/);
      assert.ok(c.symbols?.includes('Pipeline'));
    }
  });

  it('covers real sources exactly and within budget', async () => {
    const minisearch = require.resolve('minisearch').replace(/dist\/.*$/, 'src/MiniSearch.ts');
    for (const path of [require.resolve('typescript/lib/lib.es5.d.ts'), require.resolve('pg/lib/client.js'), minisearch]) {
      const mod = path.slice(path.lastIndexOf('node_modules/') + 13);
      const text = readFileSync(path, 'utf8');
      const chunks = await chunkFile(path, text, null);
      assertExactCover(text, chunks);
      assert.ok(chunks.some((c) => (c.symbols ?? []).length > 0), `${mod}: no symbols`);
      for (const c of chunks) assert.ok(c.tokenCount <= DEFAULT_MAX_TOKENS * 1.01 || c.startLine === c.endLine, `${mod}: chunk of ${c.tokenCount}`);
    }
  });

  it('falls back to the line chunker for other languages, minified code and CAIRN_CHUNKER=lines', async () => {
    assert.equal(grammarOf('notes.txt'), null);
    assert.equal(grammarOf('vendor/app.min.js'), null);
    const minified = `${'var a=1;'.repeat(2000)}\n`;
    const chunks = await chunkFile('bundle.js', minified, 'javascript');
    assert.deepEqual(chunks.map((c) => c.content), chunkText(minified, 'javascript').map((c) => c.content));
    const text = SAMPLES[0]!.text;
    process.env.CAIRN_CHUNKER = 'lines';
    try {
      assert.deepEqual(await chunkFile('src/store.ts', text, 'typescript'), chunkText(text, 'typescript'));
    } finally {
      delete process.env.CAIRN_CHUNKER;
    }
  });

  it('lets go of tree-sitter when released and loads it again for the next file, chunking it the same way', async () => {
    const s = SAMPLES[0]!;
    const before = await chunkFile(s.path, s.text, null, { maxTokens: 24 });
    assert.equal(parsersLoaded(), true);
    assert.equal(releaseParsers(), true);
    assert.equal(parsersLoaded(), false);
    const after = await chunkFile(s.path, s.text, null, { maxTokens: 24 });
    assert.equal(parsersLoaded(), true);
    assert.deepEqual(after, before);
    assert.ok(after.some((c) => c.scope === 'class SessionStore > method remove'));
  });

  it('keeps tree-sitter loaded through an index run, however long its pauses between parses', async () => {
    await withParsers(async () => {
      await chunkFile('a.ts', 'export function a() {\n  return 1;\n}\n', null);
      assert.equal(releaseParsers(), false);
    });
    assert.equal(parsersLoaded(), true);
  });

  it('survives input the grammar cannot make sense of', async () => {
    const junk = Array.from({ length: 300 }, (_, i) => `}}} class ( ${i} => {{ function ) ;; <<<`).join('\n');
    const chunks = await chunkFile('junk.ts', junk, 'typescript');
    assertExactCover(junk, chunks);
  });

  it('gives markdown chunks the headings they sit under', async () => {
    const md = `# Guide\n\nIntro.\n\n## Install\n\n${'Run the installer and wait. '.repeat(40)}\n\n\`\`\`sh\n# not a heading\n\`\`\`\n\n## Use\n\n${'Open the view and search. '.repeat(40)}\n`;
    const chunks = await chunkFile('docs/guide.md', md, 'markdown', { maxTokens: 200 });
    const use = chunks.find((c) => c.content.includes('Open the view'));
    assert.equal(use?.scope, '# Guide > ## Use');
    assert.ok(use?.symbols?.includes('Guide'));
    assert.ok(chunks.every((c) => !(c.symbols ?? []).includes('not a heading')));
  });
});
