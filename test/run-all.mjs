// Runs every suite that can run on this machine and ends with one line: `tests: N passed, N failed`.
// Usage: node --import tsx test/run-all.mjs [--grep re] [files or dirs...]
// Node suites: test/**/*.test.ts (except test/extension, which runs inside a real VS Code; see
// test/extension/run.ts, included when its editor is installed or CAIRN_EDITOR_TESTS=1).
import Mocha from 'mocha';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';

const root = resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
let grep;
const targets = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--grep') grep = args[++i];
  else targets.push(resolve(args[i]));
}

function collect(dir, out) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (p === join(root, 'test', 'extension') && targets.length === 0) continue;
      collect(p, out);
    } else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const files = [];
for (const t of targets.length ? targets : [join(root, 'test')]) {
  if (statSync(t).isDirectory()) collect(t, files);
  else files.push(t);
}

const mocha = new Mocha({ timeout: 60_000, reporter: 'spec', grep });
// Test files are imported as ES modules, as the daemon runs. Mocha would `require()` them where Node has
// require(esm), and tsx then compiles the whole static graph to CommonJS, while a module the daemon loads
// lazily (`import()`) comes through the ESM loader: a second instance of every module both reach, so
// `instanceof RpcError` fails across the two. Same events as Mocha's own loadFilesAsync.
for (const f of files) {
  mocha.suite.emit('pre-require', globalThis, f, mocha);
  const m = await import(pathToFileURL(f).href);
  mocha.suite.emit('require', m, f, mocha);
  mocha.suite.emit('post-require', globalThis, f, mocha);
}
mocha.lazyLoadFiles(true);

let passed = 0;
let failed = 0;
let pending = 0;
await new Promise((done) => {
  const runner = mocha.run(() => done());
  runner.on('pass', () => passed++);
  runner.on('fail', () => failed++);
  runner.on('pending', () => pending++);
});

// The real-editor suites print their own `editor-tests: N passed, N failed` line, which is folded in here.
const editorRunner = join(root, 'test', 'extension', 'run.ts');
if (targets.length === 0 && existsSync(editorRunner) && !process.env.CAIRN_SKIP_EDITOR_TESTS) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', editorRunner], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', cwd: root });
  process.stdout.write(r.stdout ?? '');
  const m = /editor-tests: (\d+) passed, (\d+) failed(?:, (\d+) skipped)?/.exec(r.stdout ?? '');
  if (m) {
    passed += Number(m[1]);
    failed += Number(m[2]);
    pending += Number(m[3] ?? 0);
  } else {
    console.error(`editor tests did not report a result (exit ${r.status})`);
    failed += 1;
  }
}

console.log(`tests: ${passed} passed, ${failed} failed${pending ? `, ${pending} skipped` : ''}`);
process.exitCode = failed > 0 ? 1 : 0;
// Suites may leave sockets in keep-alive; the summary is final.
setTimeout(() => process.exit(process.exitCode), 500).unref();
