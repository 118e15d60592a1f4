/**
 * The team's knowledge base in team mode: one index per project shared by its members. B indexing a clone
 * of the repository A already indexed pays the embedding provider only for text the team does not have yet;
 * B searches A's index; removing B from the team takes the index away from B at once.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFromEnv } from '../../daemon/src/config.js';
import { LocalHashEmbedder, type Embedder } from '../../daemon/src/kb/embed.js';
import { indexWorkspace } from '../../daemon/src/kb/indexer.js';
import { chooseProject } from '../../daemon/src/workspace/project.js';
import { signUp, startProject, type Project } from './harness.js';
import { buildTeam, expectFailure, leaveAll, type Team } from './scenarios.js';

/** The embedding provider, counted: every text it is asked to embed costs money in real life. */
class CountingEmbedder implements Embedder {
  private readonly inner = new LocalHashEmbedder();
  readonly id = this.inner.id;
  readonly dims = this.inner.dims;
  texts = 0;
  async embed(texts: string[], signal?: AbortSignal) {
    this.texts += texts.length;
    return this.inner.embed(texts, signal);
  }
}

const BILLING = `export function computeQuarterlyTaxRebate(amountCents: number): number {
  // The rebate is seven percent, rounded to the cent.
  return Math.round(amountCents * 0.07);
}
`;
const README = '# Shop\n\nInvoices, rebates and the quarterly tax report live in src/billing.\n';

async function clone(dir: string, remote: string, files: Record<string, string>): Promise<void> {
  await mkdir(join(dir, '.git'), { recursive: true });
  await writeFile(join(dir, '.git', 'config'), `[core]\n\tbare = false\n[remote "origin"]\n\turl = ${remote}\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n`);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), text);
  }
}

interface Hit {
  uri: string;
  content: string;
}

describe('shared team knowledge base through the Supabase store', function () {
  this.timeout(120_000);
  let project: Project;
  let team: Team;
  let tmp: string;

  before(async () => {
    project = await startProject();
    team = await buildTeam({ project, person: (name) => signUp(project, name) }, 'shop');
    tmp = await mkdtemp(join(tmpdir(), 'cairn-team-kb-'));
  });
  after(async () => {
    if (team) await leaveAll([team.owner, team.member, team.viewer, team.outsider]);
    await project?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('B indexing a clone reuses A\'s embeddings, searches A\'s index, and loses it when removed', async () => {
    // buildTeam made the team project for https://github.com/example/shop.git.
    const remote = 'https://github.com/example/shop.git';
    const teamProject = { id: team.projectId };
    const dirA = join(tmp, 'ann', 'shop');
    const dirB = join(tmp, 'bob', 'shop-clone');
    await clone(dirA, remote, { 'src/billing/invoice.ts': BILLING, 'README.md': README });
    // B's clone: the same files, one copied to a new path, and one file nobody has indexed.
    await clone(dirB, 'git@github.com:Example/shop.git', {
      'src/billing/invoice.ts': BILLING,
      'README.md': README,
      'src/legacy/invoice-copy.ts': BILLING,
      'NOTES.md': 'Bob keeps his notes on the refund flow here.\n',
    });

    const config = configFromEnv({});
    // Each folder is mapped to the team project by its user's choice (never by its git remote alone), as the editor asks.
    await chooseProject(team.owner.store, dirA, { projectId: teamProject.id });
    const annEmbedder = new CountingEmbedder();
    const annRun = await indexWorkspace({ store: team.owner.store, config, home: join(tmp, 'ann-home'), embedder: annEmbedder }, dirA);
    assert.equal(annRun.projectId, teamProject.id, 'A\'s folder maps to the team project A chose');
    assert.ok(annEmbedder.texts > 0);
    assert.equal(annRun.errors.length, 0, JSON.stringify(annRun.errors));

    await chooseProject(team.member.store, dirB, { projectId: teamProject.id });
    const bobEmbedder = new CountingEmbedder();
    const bobRun = await indexWorkspace({ store: team.member.store, config, home: join(tmp, 'bob-home'), embedder: bobEmbedder }, dirB);
    assert.equal(bobRun.projectId, teamProject.id, 'B\'s clone lands in the same project');
    assert.equal(bobRun.errors.length, 0, JSON.stringify(bobRun.errors));
    assert.ok(bobRun.reused >= 1, 'the copied file reuses A\'s stored vectors');
    assert.equal(bobEmbedder.texts, 1, 'B paid only for NOTES.md, the one text the team did not have');

    const search = (store: typeof team.member.store) =>
      store.rpc('kb_search', { p_project_id: teamProject.id, p_query: 'quarterly tax rebate', p_query_embedding: null, p_embedding_model: annEmbedder.id, p_limit: 5 });
    const found = await search(team.member.store);
    assert.ok(found.some((h) => h.uri === 'src/billing/invoice.ts'), `B finds A's file: ${JSON.stringify(found.map((h) => h.uri))}`);
    const outsider = await search(team.outsider.store).catch((err) => err);
    assert.ok(Array.isArray(outsider) ? outsider.length === 0 : outsider.kind === 'not_found' || outsider.kind === 'permission_denied', 'the outsider finds nothing');

    await team.owner.store.rpc('remove_team_member', { p_team_id: team.teamId, p_user_id: team.member.person.id });
    const after = await search(team.member.store).catch((err) => err);
    if (Array.isArray(after)) assert.equal(after.length, 0, 'a removed member finds nothing');
    else await expectFailure(Promise.reject(after), ['not_found', 'permission_denied'], 'search after removal');
  });
});
