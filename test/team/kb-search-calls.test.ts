/**
 * A search in team mode is one PostgREST round trip: the project's active embedding model is kept in the
 * database, so every member's daemon searches the generation the team's indexer made active (whatever model
 * that member configured), caches it, and learns of a switch from kb_search's answer (CR006).
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigHolder, configFromEnv } from '../../daemon/src/config.js';
import { OpenAIEmbedder } from '../../daemon/src/kb/embed.js';
import { indexWorkspace } from '../../daemon/src/kb/indexer.js';
import { searchKnowledgeBase } from '../../daemon/src/kb/search.js';
import { chooseProject } from '../../daemon/src/workspace/project.js';
import { startOpenAIServer, type FakeOpenAIServer } from '../support/openai-server.js';
import { signUp, startProject, type Project } from './harness.js';
import { buildTeam, leaveAll, type Team } from './scenarios.js';

const BILLING = `export function computeQuarterlyTaxRebate(amountCents: number): number {
  // The rebate is seven percent, rounded to the cent.
  return Math.round(amountCents * 0.07);
}
`;
const DEPLOY = 'def deploy_to_kubernetes(cluster_name):\n    """Rolls the deployment out to the given kubernetes cluster."""\n';

async function clone(dir: string, remote: string): Promise<void> {
  await mkdir(join(dir, '.git'), { recursive: true });
  await writeFile(join(dir, '.git', 'config'), `[remote "origin"]\n\turl = ${remote}\n`);
  await mkdir(join(dir, 'src', 'billing'), { recursive: true });
  await writeFile(join(dir, 'src', 'billing', 'invoice.ts'), BILLING);
  await writeFile(join(dir, 'deploy.py'), DEPLOY);
}

describe('kb search round trips in team mode', function () {
  this.timeout(180_000);
  let project: Project;
  let team: Team;
  let tmp: string;
  let embeddings: FakeOpenAIServer;

  before(async () => {
    project = await startProject();
    team = await buildTeam({ project, person: (name) => signUp(project, name) }, 'calls');
    tmp = await mkdtemp(join(tmpdir(), 'cairn-team-kb-calls-'));
    embeddings = await startOpenAIServer({ embeddingDims: 24 });
  });
  after(async () => {
    if (team) await leaveAll([team.owner, team.member, team.viewer, team.outsider]);
    await project?.close();
    await embeddings?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('costs one call per search, and a teammate switching the model costs one re-read', async () => {
    const rest = project.servers!.rest;
    const remote = 'https://github.com/example/calls.git';
    const dirA = join(tmp, 'ann', 'calls');
    const dirB = join(tmp, 'bob', 'calls');
    await clone(dirA, remote);
    await clone(dirB, remote);
    await chooseProject(team.owner.store, dirA, { projectId: team.projectId });
    await chooseProject(team.member.store, dirB, { projectId: team.projectId });

    // Ann indexes with the offline model; Bob has configured a provider's model, which nobody indexed yet.
    const annConfig = configFromEnv({});
    await indexWorkspace({ store: team.owner.store, config: annConfig, home: join(tmp, 'ann-home') }, dirA);
    const provider = { provider: 'openai' as const, model: 'team-embedder', baseUrl: embeddings.baseURL, dimensions: 24, apiKey: null };
    const bob = new ConfigHolder({ ...configFromEnv({}), embeddings: provider });

    const search = (query: string) => searchKnowledgeBase(team.member.store, bob, { root: dirB, query });
    const first = await search('quarterly tax rebate');
    assert.equal(first[0]?.path, 'src/billing/invoice.ts', "Bob searches the team's active generation");
    rest.calls.length = 0;
    for (const q of ['quarterly tax rebate', 'deploy kubernetes', 'rebate cents']) await search(q);
    assert.deepEqual(rest.calls, ['kb_search', 'kb_search', 'kb_search'], 'one round trip per search');

    // Ann switches the project to the provider's model: her complete run makes it active for everyone.
    const next = await OpenAIEmbedder.create({ model: provider.model, baseUrl: provider.baseUrl, apiKey: null, dimensions: 24 });
    const annNext = { ...annConfig, embeddings: provider };
    const run = await indexWorkspace({ store: team.owner.store, config: annNext, home: join(tmp, 'ann-home'), embedder: next }, dirA);
    assert.equal(run.activeModel, 'team-embedder@24');

    rest.calls.length = 0;
    const after = await search('deploy kubernetes');
    assert.equal(after[0]?.path, 'deploy.py');
    assert.deepEqual(rest.calls, ['kb_search', 'kb_active_model', 'kb_search'], 'the stale model is answered CR006, re-read once');
    rest.calls.length = 0;
    await search('quarterly tax rebate');
    assert.deepEqual(rest.calls, ['kb_search']);
  });
});
