/**
 * The live suite cannot reach a real Supabase project here, so it would rot unseen. This runs it, unchanged
 * and as its own process, against the contract-faithful test servers (a "project" on 127.0.0.1, signing up
 * fresh users as CAIRN_LIVE_SIGNUP does on a throwaway project), so what it does on a real project is at
 * least known to work against the documented contract. The project's Edge Functions run as deployed (Deno,
 * test/support/deno.ts): model-gateway in front of the contract-faithful OpenAI server, and cairn-api over
 * the project's PGlite through a socket.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { startEdgeFunction, type EdgeFunction } from '../support/deno.js';
import { startOpenAIServer, type FakeOpenAIServer } from '../support/openai-server.js';
import { startModelGateway, type ModelGateway } from './gateway.js';
import { startProject, type Project } from './harness.js';

const PROVIDER_KEY = 'sk-live-selfcheck-provider';

const root = join(import.meta.dirname, '..', '..');

function runLiveSuite(env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'test', 'run-all.mjs'), join(root, 'test', 'team', 'live.test.ts')], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('the live suite, run against the local test servers', function () {
  this.timeout(400_000);
  let project: Project;
  let provider: FakeOpenAIServer;
  let gateway: ModelGateway;
  let socket: PGLiteSocketServer;
  let api: EdgeFunction;
  before(async () => {
    project = await startProject();
    // The project's Edge Functions, as deployed: the model gateway in front of a provider, and cairn-api.
    provider = await startOpenAIServer({ apiKey: PROVIDER_KEY, embeddingDims: 1536 });
    gateway = await startModelGateway(project, { CAIRN_PROVIDER_BASE_URL: provider.baseURL, CAIRN_PROVIDER_API_KEY: PROVIDER_KEY });
    socket = new PGLiteSocketServer({ db: project.tdb!.db, host: '127.0.0.1', port: 0, maxConnections: 4 });
    await socket.start();
    api = await startEdgeFunction('cairn-api', {
      SUPABASE_URL: project.url,
      SUPABASE_ANON_KEY: project.anonKey,
      SUPABASE_DB_URL: `postgresql://postgres:postgres@${socket.getServerConn()}/postgres`,
    });
    project.servers!.addFunction('cairn-api', api.origin, { verifyJwt: false });
  });
  after(async () => {
    await api?.stop();
    await socket?.stop();
    await gateway?.stop();
    await provider?.close();
    await project?.close();
  });

  it('passes every scenario when pointed at a project (SUPABASE_URL, SUPABASE_ANON_KEY, CAIRN_LIVE_SIGNUP)', async () => {
    const { code, output } = await runLiveSuite({
      ...process.env,
      SUPABASE_URL: project.url,
      SUPABASE_ANON_KEY: project.anonKey,
      CAIRN_LIVE_SIGNUP: '1',
      // Email confirmations are on, as configured: the suite confirms its fresh users as the project's admin.
      CAIRN_LIVE_SERVICE_ROLE_KEY: project.serviceRoleKey!,
      CAIRN_LIVE_EMAIL_DOMAIN: 'example.test',
      CAIRN_LIVE_USERS: '',
      CAIRN_LIVE_OWNER_TOTP_SECRET: '',
      CAIRN_LIVE_GATEWAY_CHAT_MODEL: 'gpt-4o-mini',
      CAIRN_LIVE_GATEWAY_EMBEDDING_MODEL: 'text-embedding-3-small',
    });
    const summary = /tests: (\d+) passed, (\d+) failed(?:, (\d+) skipped)?/.exec(output);
    assert.ok(summary, `no summary line in the live suite's output:\n${output.slice(-3000)}`);
    assert.deepEqual([Number(summary[1]), Number(summary[2]), Number(summary[3] ?? 0)], [7, 0, 0], output.slice(-3000));
    assert.equal(code, 0);
  });
});
