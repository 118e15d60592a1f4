/**
 * The same in-editor suites on desktop VS Code, through @vscode/test-electron (which downloads VS Code, so it
 * runs where that is possible, not on the offline test machine, where run.ts uses the VS Code server instead).
 * Usage: node --import tsx test/extension/desktop.ts
 */
import { runTests } from '@vscode/test-electron';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, stopDaemonAndRemove } from './support/toolchain.js';
import { makeWorkspace } from './support/workspace.js';
import { startTestServices } from './support/services.js';
import { bundleSuites } from './support/bundle.js';

const tmp = await mkdtemp(join(tmpdir(), 'cairn-desktop-'));
const services = await startTestServices();
let code = 1;
try {
  const workspace = await makeWorkspace(join(tmp, 'workspace'), services.settings);
  code = await runTests({
    extensionDevelopmentPath: repoRoot,
    extensionTestsPath: await bundleSuites(),
    launchArgs: [workspace, '--disable-extensions', '--user-data-dir', join(tmp, 'user-data')],
    extensionTestsEnv: { CAIRN_HOME: join(tmp, 'cairn-home'), CAIRN_TEST_WORKSPACE: workspace, ...services.env },
  });
} catch (err) {
  console.error('desktop editor tests failed to run:', err);
} finally {
  await services.stop();
  await stopDaemonAndRemove(join(tmp, 'cairn-home'), tmp);
  await rm(tmp, { recursive: true, force: true });
}
process.exit(code);
