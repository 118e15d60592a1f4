// Test hooks that the production bundle defines away (esbuild.mjs), so a user's environment cannot reach
// them: the daemon's start delay the editor suites use (daemon/src/store/index.ts). Checked by
// test/daemon/test-hooks.test.ts.
export const PRODUCTION_DEFINES = { 'process.env.CAIRN_TEST_STORE_OPEN_DELAY_MS': 'undefined' };
