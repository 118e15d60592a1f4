/**
 * Syntax-aware chunking: tree-sitter (WebAssembly grammars from `@vscode/tree-sitter-wasm`, loaded from
 * disk, never downloaded) finds the definitions of a file (classes, functions, methods, types, …) with one
 * query per language, and chunks are cut where definitions start, so a function stays whole when it fits
 * the budget and a large class is cut between its members. Every chunk learns the definitions it holds or
 * sits in (`symbols`, `scope`). Line ranges stay exact: chunks are still runs of whole lines.
 *
 * Files in other languages, files the parser gives up on (time limit, grammar missing) and minified
 * one-liners go to the line chunker (chunk.ts).
 */
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type * as TreeSitter from '@vscode/tree-sitter-wasm';
import { collectWhenQuiet } from '../rpc/idle-gc.js';
import type { Chunk } from './chunk.js';

/** One definition found in a file: rows are 0-based and inclusive. */
export interface Definition {
  kind: string;
  name: string;
  /** `Outer.inner` for definitions nested in others. */
  qualified: string;
  startRow: number;
  endRow: number;
  /** First row of the comments, decorators or attributes right above it. */
  leadRow: number;
  depth: number;
  parent: Definition | null;
}

interface Grammar {
  wasm: string;
  /** Captures: `@name` is the definition's name; any other capture is the definition node, named by its kind. */
  query: string;
}

const TS_COMMON = `
(function_declaration name: (_) @name) @function
(generator_function_declaration name: (_) @name) @function
(class_declaration name: (_) @name) @class
(class_body (method_definition name: (_) @name) @method)
(lexical_declaration (variable_declarator name: (identifier) @name)) @variable
(variable_declaration (variable_declarator name: (identifier) @name)) @variable
(program (expression_statement (assignment_expression left: (member_expression) @name right: [(function_expression) (arrow_function) (class)])) @function)
`;
const TS_ONLY = `
(abstract_class_declaration name: (_) @name) @class
(interface_declaration name: (_) @name) @interface
(type_alias_declaration name: (_) @name) @type
(enum_declaration name: (_) @name) @enum
(internal_module name: (_) @name) @namespace
(abstract_method_signature name: (_) @name) @method
(public_field_definition name: (_) @name value: [(arrow_function) (function_expression)]) @method
`;

const GRAMMARS: Record<string, Grammar> = {
  typescript: { wasm: 'tree-sitter-typescript.wasm', query: TS_COMMON + TS_ONLY },
  tsx: { wasm: 'tree-sitter-tsx.wasm', query: TS_COMMON + TS_ONLY },
  javascript: {
    wasm: 'tree-sitter-javascript.wasm',
    query: `${TS_COMMON}(field_definition property: (_) @name value: [(arrow_function) (function_expression)]) @method\n`,
  },
  python: {
    wasm: 'tree-sitter-python.wasm',
    query: `
(class_definition name: (identifier) @name) @class
(function_definition name: (identifier) @name) @function
`,
  },
  go: {
    wasm: 'tree-sitter-go.wasm',
    query: `
(function_declaration name: (identifier) @name) @function
(method_declaration name: (field_identifier) @name) @method
(type_spec name: (type_identifier) @name) @type
`,
  },
  rust: {
    wasm: 'tree-sitter-rust.wasm',
    query: `
(function_item name: (identifier) @name) @function
(function_signature_item name: (identifier) @name) @function
(struct_item name: (type_identifier) @name) @struct
(enum_item name: (type_identifier) @name) @enum
(union_item name: (type_identifier) @name) @union
(trait_item name: (type_identifier) @name) @trait
(impl_item type: (_) @name) @impl
(mod_item name: (identifier) @name) @module
(macro_definition name: (identifier) @name) @macro
`,
  },
  java: {
    wasm: 'tree-sitter-java.wasm',
    query: `
(class_declaration name: (identifier) @name) @class
(interface_declaration name: (identifier) @name) @interface
(enum_declaration name: (identifier) @name) @enum
(record_declaration name: (identifier) @name) @record
(annotation_type_declaration name: (identifier) @name) @interface
(method_declaration name: (identifier) @name) @method
(constructor_declaration name: (identifier) @name) @constructor
`,
  },
  cpp: {
    wasm: 'tree-sitter-cpp.wasm',
    query: `
(function_definition declarator: (function_declarator declarator: (_) @name)) @function
(function_definition declarator: (pointer_declarator declarator: (function_declarator declarator: (_) @name))) @function
(function_definition declarator: (reference_declarator (function_declarator declarator: (_) @name))) @function
(class_specifier name: (_) @name body: (_)) @class
(struct_specifier name: (_) @name body: (_)) @struct
(union_specifier name: (_) @name body: (_)) @union
(enum_specifier name: (_) @name body: (_)) @enum
(namespace_definition name: (_) @name) @namespace
`,
  },
  csharp: {
    wasm: 'tree-sitter-c-sharp.wasm',
    query: `
(class_declaration name: (identifier) @name) @class
(interface_declaration name: (identifier) @name) @interface
(struct_declaration name: (identifier) @name) @struct
(enum_declaration name: (identifier) @name) @enum
(record_declaration name: (identifier) @name) @record
(method_declaration name: (identifier) @name) @method
(constructor_declaration name: (identifier) @name) @constructor
(property_declaration name: (identifier) @name) @property
(namespace_declaration name: (_) @name) @namespace
`,
  },
  ruby: {
    wasm: 'tree-sitter-ruby.wasm',
    query: `
(class name: (_) @name) @class
(module name: (_) @name) @module
(method name: (_) @name) @method
(singleton_method name: (_) @name) @method
`,
  },
  php: {
    wasm: 'tree-sitter-php.wasm',
    query: `
(class_declaration name: (name) @name) @class
(interface_declaration name: (name) @name) @interface
(trait_declaration name: (name) @name) @trait
(function_definition name: (name) @name) @function
(method_declaration name: (name) @name) @method
`,
  },
  bash: {
    wasm: 'tree-sitter-bash.wasm',
    query: `(function_definition name: (word) @name) @function\n`,
  },
};

const GRAMMAR_BY_EXTENSION: Record<string, keyof typeof GRAMMARS> = {
  ts: 'typescript', mts: 'typescript', cts: 'typescript', tsx: 'tsx',
  js: 'javascript', jsx: 'javascript', mjs: 'javascript', cjs: 'javascript',
  py: 'python', pyi: 'python', go: 'go', rs: 'rust', java: 'java',
  c: 'cpp', h: 'cpp', cc: 'cpp', cpp: 'cpp', cxx: 'cpp', hpp: 'cpp', hh: 'cpp', hxx: 'cpp',
  cs: 'csharp', rb: 'ruby', php: 'php', sh: 'bash', bash: 'bash',
};

/** The grammar for a path, by extension; null when there is none. */
export function grammarOf(path: string): string | null {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  if (dot <= 0) return null;
  if (/\.min\.[cm]?js$/i.test(base)) return null;
  return GRAMMAR_BY_EXTENSION[base.slice(dot + 1).toLowerCase()] ?? null;
}

/** Every grammar the chunker knows (the .vsix ships exactly these wasm files). */
export const SUPPORTED_GRAMMARS = Object.keys(GRAMMARS);

/**
 * How long a file may take to parse before the line chunker takes over (untrusted input on the daemon's one
 * thread): 1 s plus 2 ms per KB. A warm grammar parses a few MB/s; the first parse of a grammar is slower.
 */
const parseBudgetMs = (chars: number) => 1000 + chars / 512;
/** Longer lines mean generated or minified code: the line chunker cuts it as well, for less. */
const MAX_AVERAGE_LINE = 400;

interface Loaded {
  parser: TreeSitter.Parser;
  query: TreeSitter.Query;
}

let runtime: Promise<typeof TreeSitter | null> | null = null;
const loaded = new Map<string, Promise<Loaded | null>>();

/**
 * A fresh `require` for each load of the module: the one that loads it keeps it in its children, so one shared
 * `require` would keep every released copy alive.
 */
const freshRequire = () => createRequire(import.meta.url);

function wasmDir(): string {
  return dirname(freshRequire().resolve('@vscode/tree-sitter-wasm'));
}

/**
 * How long tree-sitter stays loaded after the last parse or index run (watched edits a few seconds apart
 * reuse it). Its WebAssembly memory (grown by the largest file
 * parsed) and the compiled grammars are 30-40 MB that an idle daemon would otherwise keep all day; loading
 * them again for the next index run or watched edit takes a fraction of a second.
 */
export const PARSERS_IDLE_MS = 20_000;
/** Parses (and grammar loads) under way: the parsers are never released under them. */
let inUse = 0;
let lastUse = 0;
let releaseTimer: NodeJS.Timeout | null = null;

/** Runs `work` with tree-sitter kept loaded (an index run: its pauses between parses never release it). */
export async function withParsers<T>(work: () => Promise<T>): Promise<T> {
  inUse++;
  try {
    return await work();
  } finally {
    inUse--;
    lastUse = performance.now();
    if (!releaseTimer) {
      releaseTimer = setTimeout(releaseWhenIdle, PARSERS_IDLE_MS);
      releaseTimer.unref();
    }
  }
}

function releaseWhenIdle(): void {
  releaseTimer = null;
  const idleFor = performance.now() - lastUse;
  if (inUse === 0 && idleFor >= PARSERS_IDLE_MS) releaseParsers();
  else {
    releaseTimer = setTimeout(releaseWhenIdle, inUse ? PARSERS_IDLE_MS : PARSERS_IDLE_MS - idleFor);
    releaseTimer.unref();
  }
}

/**
 * Drops tree-sitter: the grammars, the parsers and the runtime module itself (its WebAssembly instance holds
 * the memory, and the package keeps it in a module-level variable, so the module is evaluated anew on the next
 * load). False when a parse is under way or nothing is loaded.
 */
export function releaseParsers(): boolean {
  if (inUse > 0 || !runtime) return false;
  runtime = null;
  loaded.clear();
  const require = freshRequire();
  delete require.cache[require.resolve('@vscode/tree-sitter-wasm')];
  collectWhenQuiet({ released: true });
  return true;
}

/** Whether tree-sitter is loaded now (tests). */
export function parsersLoaded(): boolean {
  return runtime !== null;
}

async function treeSitter(): Promise<typeof TreeSitter | null> {
  runtime ??= (async () => {
    try {
      const mod = freshRequire()('@vscode/tree-sitter-wasm') as typeof TreeSitter;
      const dir = wasmDir();
      await mod.Parser.init({ locateFile: (file: string) => join(dir, file) });
      return mod;
    } catch {
      return null;
    }
  })();
  return runtime;
}

async function grammar(key: string): Promise<Loaded | null> {
  let p = loaded.get(key);
  if (!p) {
    p = (async () => {
      const mod = await treeSitter();
      const g = GRAMMARS[key];
      if (!mod || !g) return null;
      try {
        const language = await mod.Language.load(await readFile(join(wasmDir(), g.wasm)));
        const parser = new mod.Parser();
        parser.setLanguage(language);
        return { parser, query: new mod.Query(language, g.query) };
      } catch {
        return null;
      }
    })();
    loaded.set(key, p);
  }
  return p;
}

/** Whether the grammar for `key` loads and its query compiles (tests check every supported one). */
export async function grammarLoads(key: string): Promise<boolean> {
  return withParsers(async () => (await grammar(key)) !== null);
}

const LEAD_LINE = /^\s*(\/\/|\/\*|\*|#(?!\s*(include|define|if|ifdef|ifndef|endif|else|elif|pragma|undef)\b)|@|\[|--|"""|''')/;

/**
 * The definitions of `text`, outermost first within each position; null when the file has no grammar or
 * could not be parsed within the time budget.
 */
export async function definitionsOf(path: string, text: string, lines: string[]): Promise<Definition[] | null> {
  const key = grammarOf(path);
  if (!key || text.length / Math.max(1, lines.length) > MAX_AVERAGE_LINE) return null;
  return withParsers(async () => {
    const g = await grammar(key);
    return g ? parseDefinitions(g, text, lines) : null;
  });
}

function parseDefinitions(g: Loaded, text: string, lines: string[]): Definition[] | null {
  const deadline = performance.now() + parseBudgetMs(text.length);
  let tree: TreeSitter.Tree | null = null;
  try {
    tree = g.parser.parse(text, null, { progressCallback: (() => performance.now() > deadline) as unknown as (s: TreeSitter.ParseState) => void });
    if (!tree) return null;
    const raw: Omit<Definition, 'qualified' | 'leadRow' | 'depth' | 'parent'>[] = [];
    for (const m of g.query.matches(tree.rootNode)) {
      let node: TreeSitter.Node | null = null;
      let kind = '';
      let name = '';
      for (const c of m.captures) {
        if (c.name === 'name') name = c.node.text;
        else {
          node = c.node;
          kind = c.name;
        }
      }
      if (!node || !name) continue;
      let endRow = node.endPosition.row;
      if (node.endPosition.column === 0 && endRow > node.startPosition.row) endRow--;
      raw.push({ kind, name: name.replace(/\s+/g, ' ').slice(0, 120), startRow: node.startPosition.row, endRow });
    }
    return nest(raw, lines);
  } catch {
    return null;
  } finally {
    tree?.delete();
    g.parser.reset();
  }
}

const FUNCTION_KINDS = new Set(['function', 'method', 'constructor']);

/** Orders definitions, links each to its parent, drops local variables, finds the lead rows. */
function nest(raw: Omit<Definition, 'qualified' | 'leadRow' | 'depth' | 'parent'>[], lines: string[]): Definition[] {
  raw.sort((a, b) => a.startRow - b.startRow || b.endRow - a.endRow);
  const out: Definition[] = [];
  const stack: Definition[] = [];
  // Where the previous definition at each depth ended: comments above a definition never reach into it.
  const lastEnd: number[] = [];
  for (const r of raw) {
    while (stack.length && stack[stack.length - 1]!.endRow < r.startRow) stack.pop();
    const parent = stack[stack.length - 1] ?? null;
    if (parent && parent.startRow === r.startRow && parent.endRow === r.endRow && parent.name === r.name) continue;
    // Variables inside functions are locals, not definitions anyone searches for.
    if (r.kind === 'variable' && stack.some((d) => FUNCTION_KINDS.has(d.kind))) continue;
    // A variable holding something small is not a place to cut.
    if (r.kind === 'variable' && r.endRow - r.startRow < 2) continue;
    const depth = stack.length;
    lastEnd.length = depth + 1;
    const floor = Math.max(parent ? parent.startRow + 1 : 0, (lastEnd[depth] ?? -1) + 1);
    let lead = r.startRow;
    while (lead - 1 >= floor && lead - 1 < lines.length && LEAD_LINE.test(lines[lead - 1]!)) lead--;
    const d: Definition = { ...r, qualified: parent ? `${parent.qualified}.${r.name}` : r.name, leadRow: lead, depth, parent };
    out.push(d);
    stack.push(d);
    lastEnd[depth] = Math.max(lastEnd[depth] ?? -1, r.endRow);
  }
  return out;
}

/** `class Foo > method bar`: the chain of definitions around (and including) `d`. */
export function scopeOf(d: Definition): string {
  const chain: string[] = [];
  for (let x: Definition | null = d; x; x = x.parent) chain.unshift(`${x.kind} ${x.name}`);
  return chain.join(' > ');
}

/** Boundary strength before each line (index = 0-based line): the higher, the better a place to cut. */
export function boundaryRanks(lines: string[], defs: Definition[]): Float32Array {
  const rank = new Float32Array(lines.length + 1);
  for (let i = 1; i < lines.length; i++) if (lines[i - 1]!.trim() === '') rank[i] = 1;
  for (const d of defs) {
    const r = d.depth === 0 ? 3 : d.depth === 1 ? 2 : 1.5;
    if (d.leadRow < rank.length) rank[d.leadRow] = Math.max(rank[d.leadRow]!, r);
    if (d.endRow + 1 < lines.length) rank[d.endRow + 1] = Math.max(rank[d.endRow + 1]!, r - 0.5);
  }
  rank[lines.length] = 4;
  return rank;
}

/**
 * Packs lines into chunks under the token budget. In each window that fits, the cut goes where
 * `rank + fill / 2` is highest (fill: the share of the budget used before the cut), so whole definitions
 * are kept together and small ones share a chunk; a window with no boundary is cut at its end.
 */
export function packLines(
  lines: string[],
  tokens: number[],
  rank: Float32Array,
  maxTokens: number,
  push: (start: number, end: number) => void,
  pushLong: (line: number) => void,
): void {
  const n = lines.length;
  let start = 0;
  while (start < n) {
    if (tokens[start]! > maxTokens) {
      pushLong(start);
      start++;
      continue;
    }
    let end = start;
    let budget = tokens[start]!;
    while (end + 1 < n && budget + tokens[end + 1]! <= maxTokens) budget += tokens[++end]!;
    if (end + 1 >= n) {
      push(start, n - 1);
      break;
    }
    let best = end + 1;
    let bestScore = rank[end + 1]! + 0.5;
    let filled = budget;
    for (let c = end; c > start; c--) {
      filled -= tokens[c]!;
      const fill = filled / maxTokens;
      if (fill < 0.1) break;
      const score = rank[c]! + fill / 2;
      if (score > bestScore) {
        bestScore = score;
        best = c;
      }
    }
    push(start, best - 1);
    start = best;
  }
}

/** The symbols and scope of the chunk spanning rows `start..end`. */
export function chunkSymbols(defs: Definition[], start: number, end: number): { symbols: string[]; scope: string | null } {
  const symbols: string[] = [];
  let enclosing: Definition | null = null;
  let first: Definition | null = null;
  for (const d of defs) {
    if (d.leadRow > end) break;
    if (d.endRow < start) continue;
    if (symbols.length < 24 && !symbols.includes(d.qualified)) symbols.push(d.qualified);
    if (d.leadRow <= start) enclosing = d;
    else first ??= d;
  }
  const at = enclosing ?? first;
  return { symbols, scope: at ? scopeOf(at) : null };
}

export type { Chunk };
