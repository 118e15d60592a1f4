/**
 * Runs the extension's tests in a real VS Code (1.139, the server that code-server bundles) driven by Debian's
 * Chromium, and prints one line: `editor-tests: N passed, N failed[, N skipped]`.
 *
 * Two phases:
 *  1. integration: the mocha suites in test/extension/suite/ run inside the extension host against the real
 *     `vscode` API (the `run()` index that @vscode/test-electron also accepts, so they run on desktop too);
 *  2. ui: the mocha suites in test/extension/ui/ run here and drive the workbench like a person (command
 *     palette, QuickPick, the chat webview two iframes deep), saving screenshots under test-results/.
 *
 * Usage: node --import tsx test/extension/run.ts [--phase integration|ui] [--grep re]
 * Without the toolchain (.ci/install-editor) it reports the suites as skipped, unless CI is set.
 */
import Mocha from 'mocha';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium as pwChromium } from 'playwright-core';
import { chromium, chromiumArgs, missingToolchain, repoRoot, startServer, stopDaemonAndRemove, workbenchUrl } from './support/toolchain.js';
import { makeWorkspace } from './support/workspace.js';
import { startTestServices } from './support/services.js';
import { bundleSuites } from './support/bundle.js';

const args = process.argv.slice(2);
const phase = args.includes('--phase') ? args[args.indexOf('--phase') + 1] : 'all';
const grep = args.includes('--grep') ? args[args.indexOf('--grep') + 1] : undefined;

const suiteDir = join(repoRoot, 'test', 'extension', 'suite');
const uiDir = join(repoRoot, 'test', 'extension', 'ui');
const countTests = (dir: string, suffix: string) =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith(suffix))
        .reduce((n, f) => n + (readFileSync(join(dir, f), 'utf8').match(/^\s*it\(/gm)?.length ?? 0), 0)
    : 0;

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

async function runIntegration(): Promise<Counts> {
  const tmp = await mkdtemp(join(tmpdir(), 'cairn-editor-'));
  const services = await startTestServices();
  try {
    const bundle = await bundleSuites();
    const workspace = await makeWorkspace(join(tmp, 'workspace'), services.settings);
    const resultsFile = join(tmp, 'results.json');
    const server = await startServer({ home: join(tmp, 'home'), data: join(tmp, 'vscode') });
    const browser = await pwChromium.launch({ executablePath: chromium!, args: chromiumArgs });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const exit = new Promise<number>((resolveExit) => {
        void page.exposeFunction('codeAutomationExit', (code: number) => resolveExit(code));
      });
      await page.exposeFunction('codeAutomationLog', (type: string, logArgs: unknown[]) => {
        if (process.env.CAIRN_EDITOR_VERBOSE) console.error(`[workbench ${type}]`, ...logArgs);
      });
      await page.goto(
        workbenchUrl(server.port, workspace, {
          testsPath: bundle,
          env: {
            CAIRN_HOME: join(tmp, 'cairn-home'),
            CAIRN_TEST_RESULTS: resultsFile,
            CAIRN_TEST_GREP: grep ?? '',
            CAIRN_TEST_WORKSPACE: workspace,
            ...services.env,
          },
        }),
      );
      const timeout = new Promise<number>((r) => setTimeout(() => r(-1), 8 * 60_000).unref());
      const code = await Promise.race([exit, timeout]);
      if (!existsSync(resultsFile)) {
        console.error(`integration suites reported nothing (workbench exit ${code})`);
        return { passed: 0, failed: 1, skipped: 0 };
      }
      const results = JSON.parse(readFileSync(resultsFile, 'utf8')) as Counts & { lines: string[] };
      for (const line of results.lines) console.log(line);
      return { passed: results.passed, failed: results.failed + (code === -1 ? 1 : 0), skipped: results.skipped };
    } finally {
      await browser.close();
      await server.stop();
    }
  } finally {
    await services.stop();
    await stopDaemonAndRemove(join(tmp, 'cairn-home'), tmp);
  }
}

async function runUi(): Promise<Counts> {
  if (!existsSync(uiDir)) return { passed: 0, failed: 0, skipped: 0 };
  const mocha = new Mocha({ timeout: 120_000, reporter: 'spec', grep });
  for (const f of readdirSync(uiDir).sort()) if (f.endsWith('.ui.ts')) mocha.addFile(join(uiDir, f));
  await mocha.loadFilesAsync();
  const counts = { passed: 0, failed: 0, skipped: 0 };
  await new Promise<void>((done) => {
    const runner = mocha.run(() => done());
    runner.on('pass', () => counts.passed++);
    runner.on('fail', () => counts.failed++);
    runner.on('pending', () => counts.skipped++);
  });
  return counts;
}

const missing = missingToolchain();
if (missing.length > 0) {
  const total = countTests(suiteDir, '.test.ts') + countTests(uiDir, '.ui.ts');
  if (process.env.CI) {
    console.error(`editor toolchain missing in CI: ${missing.join(', ')} (run .ci/install-editor)`);
    console.log(`editor-tests: 0 passed, 1 failed, ${total} skipped`);
    process.exit(1);
  }
  console.error(`editor tests skipped: missing ${missing.join(', ')}; run .ci/install-editor`);
  console.log(`editor-tests: 0 passed, 0 failed, ${total} skipped`);
  process.exit(0);
}

const totals: Counts = { passed: 0, failed: 0, skipped: 0 };
for (const [name, fn] of [
  ['integration', runIntegration],
  ['ui', runUi],
] as const) {
  if (phase !== 'all' && phase !== name) continue;
  try {
    const c = await fn();
    totals.passed += c.passed;
    totals.failed += c.failed;
    totals.skipped += c.skipped;
  } catch (err) {
    console.error(`${name} phase failed to run:`, err);
    totals.failed += 1;
  }
}
console.log(`editor-tests: ${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`);
process.exitCode = totals.failed > 0 ? 1 : 0;
setTimeout(() => process.exit(process.exitCode), 500).unref();
