/**
 * The mocha index the extension host loads (`extensionTestsPath`): the `run(): Promise<void>` shape that
 * @vscode/test-electron also accepts. run.ts bundles this file (suites included) to CommonJS; the suites are
 * required after mocha has installed its globals. Counts and spec lines go to $CAIRN_TEST_RESULTS for run.ts.
 */
import Mocha from 'mocha';
import { writeFileSync } from 'node:fs';

function loadSuites(): void {
  require('./activation.test.js');
  // First, while the workspace is new: the status bar offers indexing (connection.test runs commands that index it).
  require('./search.test.js');
  require('./connection.test.js');
  require('./chat.test.js');
  require('./participant.test.js');
  require('./sessions.test.js');
  require('./auth.test.js');
  require('./teams.test.js');
  require('./team-chat.test.js');
  require('./index-state.test.js');
}

export function run(): Promise<void> {
  return new Promise((resolveRun, rejectRun) => {
    const counts = { passed: 0, failed: 0, skipped: 0, lines: [] as string[] };
    const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false });
    mocha.reporter(class Quiet {} as never);
    if (process.env.CAIRN_TEST_GREP) mocha.grep(process.env.CAIRN_TEST_GREP);
    mocha.suite.emit('pre-require', globalThis, 'editor-suites', mocha);
    loadSuites();
    const runner = mocha.run((failures) => {
      const figures = (globalThis as { __cairnFigures?: Record<string, string> }).__cairnFigures ?? {};
      for (const [name, value] of Object.entries(figures)) counts.lines.push(`  figure: ${name}: ${value}`);
      if (process.env.CAIRN_TEST_RESULTS) writeFileSync(process.env.CAIRN_TEST_RESULTS, JSON.stringify(counts));
      if (failures > 0) rejectRun(new Error(`${failures} editor test(s) failed`));
      else resolveRun();
    });
    runner.on('pass', (t) => {
      counts.passed++;
      counts.lines.push(`  ✔ [editor] ${t.fullTitle()} (${t.duration ?? 0} ms)`);
    });
    runner.on('fail', (t, err: Error) => {
      counts.failed++;
      counts.lines.push(`  ✖ [editor] ${t.fullTitle()}\n      ${String(err?.stack ?? err).split('\n').slice(0, 8).join('\n      ')}`);
    });
    runner.on('pending', (t) => {
      counts.skipped++;
      counts.lines.push(`  - [editor] ${t.fullTitle()} (skipped)`);
    });
  });
}
