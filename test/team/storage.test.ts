/**
 * Team documents in Supabase Storage, through the daemon's kb handlers over JSON-RPC and
 * the real supabase-js against the local test servers (Storage decides through the `storage.objects`
 * policies on PGlite). A member adds a document; a teammate finds it by search and opens the downloaded file;
 * a viewer cannot upload; an outsider can neither list nor download; deleting removes it from Storage and the
 * index; a file over the limit or of the wrong type is refused with a typed error and nothing changes.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonClient, DaemonResponseError } from '../../daemon/src/protocol/client/client.js';
import { startDaemon, type RunningDaemon } from '../../daemon/src/host/daemon.js';
import { registerKb } from '../../daemon/src/kb/handlers.js';
import { chooseProject } from '../../daemon/src/workspace/project.js';
import { KB_DOCUMENTS_BUCKET } from '../../daemon/src/store/supabase.js';
import { TEAM_DOCUMENT_MAX_BYTES } from '../../daemon/src/kb/team-documents.js';
import { signInClient, signUp, startProject, type Project } from './harness.js';
import { buildTeam, leaveAll, type Member, type Team } from './scenarios.js';
import { pdfWith } from '../support/pdf.js';

const RUNBOOK = '# Incident runbook\n\nWhen the payment gateway answers 502, fail over to the secondary region within five minutes.\n';

interface Seat {
  daemon: RunningDaemon;
  client: DaemonClient;
  root: string;
}

async function rpcError(p: Promise<unknown>): Promise<DaemonResponseError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(err instanceof DaemonResponseError, `expected a typed daemon error, got ${String(err)}`);
  return err;
}

describe('team documents in Supabase Storage', function () {
  this.timeout(180_000);
  let project: Project;
  let team: Team;
  let tmp: string;
  const seats: Seat[] = [];
  let bob: Seat;
  let ann: Seat;
  let vic: Seat;
  let folder: string;

  /** A daemon in this process acting as `m` (its SupabaseStore), with a folder mapped to the team project. */
  async function seat(m: Member, name: string): Promise<Seat> {
    const home = join(tmp, `${name}-home`);
    const root = join(tmp, name, 'shop');
    await mkdir(home, { recursive: true });
    await mkdir(root, { recursive: true });
    await chooseProject(m.store, root, { projectId: team.projectId });
    const started = await startDaemon({ home, env: { CAIRN_HOME: home, CAIRN_PORT: '0' }, openStore: async () => m.store, subsystems: [registerKb] });
    if (started.kind !== 'started') throw new Error('daemon already running');
    const client = await DaemonClient.connect(started.daemon.info);
    const s = { daemon: started.daemon, client, root };
    seats.push(s);
    return s;
  }

  const bucketOf = (m: Member) => {
    const c = signInClient(project);
    return { c, ready: c.auth.setSession({ access_token: m.person.session().accessToken, refresh_token: m.person.session().refreshToken ?? '' }) };
  };
  /** What `m` sees in the project's folder of the bucket, through their own supabase-js client. */
  async function listed(m: Member): Promise<string[]> {
    const { c, ready } = bucketOf(m);
    await ready;
    const { data, error } = await c.storage.from(KB_DOCUMENTS_BUCKET).list(`${team.teamId}/${team.projectId}`);
    assert.equal(error, null, String(error?.message));
    return (data ?? []).map((o) => o.name).sort();
  }
  const search = (s: Seat, query: string) => s.client.request('kb/search', { root: s.root, query, limit: 10 });
  const sources = async (s: Seat) => (await s.client.request('kb/status', { root: s.root, stale: false })).models.reduce((n, m) => n + m.sources, 0);

  before(async () => {
    project = await startProject();
    team = await buildTeam({ project, person: (name) => signUp(project, name) }, 'docs');
    tmp = await mkdtemp(join(tmpdir(), 'cairn-team-docs-'));
    folder = join(tmp, 'files');
    await mkdir(folder, { recursive: true });
    bob = await seat(team.member, 'bob');
    ann = await seat(team.owner, 'ann');
    vic = await seat(team.viewer, 'vic');
  });
  after(async () => {
    for (const s of seats) {
      await s.client.close().catch(() => undefined);
      await s.daemon.shutdown('test finished');
    }
    if (team) await leaveAll([team.owner, team.member, team.viewer, team.outsider]);
    await project?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('a member uploads a document; a teammate finds it by search and opens the downloaded file', async () => {
    const path = join(folder, 'oncall-runbook.md');
    await writeFile(path, RUNBOOK);
    const added = await bob.client.request('kb/addDocument', { root: bob.root, path });
    assert.equal(added.uri, 'doc:oncall-runbook.md');
    assert.equal(added.storagePath, `${KB_DOCUMENTS_BUCKET}/${team.teamId}/${team.projectId}/oncall-runbook.md`);
    assert.deepEqual(await listed(team.owner), ['oncall-runbook.md'], 'the file is in the team folder of the bucket');

    const hits = await search(ann, 'payment gateway fail over');
    const hit = hits.find((h) => h.kind === 'document');
    assert.ok(hit, `Ann finds Bob's document: ${JSON.stringify(hits.map((h) => h.path))}`);
    assert.equal(hit.path, 'doc:oncall-runbook.md');
    const opened = await ann.client.request('kb/openDocument', { root: ann.root, uri: hit.path });
    assert.equal(opened.text, RUNBOOK, 'Ann downloads the very file Bob added');
    assert.equal(opened.format, 'markdown');
    assert.equal(opened.contentType, 'text/markdown');

    // The viewer reads too (search and download), as the team's policies allow.
    const viewerOpened = await vic.client.request('kb/openDocument', { root: vic.root, uri: hit.path });
    assert.equal(viewerOpened.size, Buffer.byteLength(RUNBOOK));
  });

  it('a PDF and an HTML file are stored with their types and open for a teammate', async () => {
    const html = join(folder, 'escalation.html');
    await writeFile(html, '<!doctype html><html><head><title>Escalation</title></head><body><h1>Escalation</h1><p>Call the duty manager about refund disputes.</p></body></html>');
    const added = await bob.client.request('kb/addDocument', { root: bob.root, path: html });
    assert.ok(added.chunks >= 1);
    const opened = await ann.client.request('kb/openDocument', { root: ann.root, uri: added.uri });
    assert.equal(opened.format, 'html');
    assert.match(opened.text ?? '', /duty manager/);
    assert.ok((await search(ann, 'duty manager refund disputes')).some((h) => h.path === 'doc:escalation.html'));

    const pdf = pdfWith('Quarterly chargeback ledger reconciliation');
    const pdfPath = join(folder, 'ledger.pdf');
    await writeFile(pdfPath, pdf);
    await bob.client.request('kb/addDocument', { root: bob.root, path: pdfPath });
    const pdfHit = (await search(ann, 'chargeback ledger reconciliation')).find((h) => h.path === 'doc:ledger.pdf');
    assert.ok(pdfHit, 'Ann finds the PDF by its text');
    const openedPdf = await ann.client.request('kb/openDocument', { root: ann.root, uri: pdfHit.path });
    assert.equal(openedPdf.format, 'pdf');
    assert.equal(openedPdf.contentType, 'application/pdf');
    assert.equal(openedPdf.text, undefined);
    assert.deepEqual(Buffer.from(openedPdf.base64 ?? '', 'base64'), pdf, 'the same bytes come back');
  });

  it('a viewer cannot upload: PermissionDenied, and nothing is stored or indexed', async () => {
    const before = { objects: await listed(team.owner), sources: await sources(ann) };
    const path = join(folder, 'viewer-notes.md');
    await writeFile(path, '# Viewer notes\n\nThe viewer would like to add this.\n');
    const err = await rpcError(vic.client.request('kb/addDocument', { root: vic.root, path }));
    assert.equal(err.codeName, 'PermissionDenied', err.message);
    assert.deepEqual(await listed(team.owner), before.objects);
    assert.equal(await sources(ann), before.sources);
  });

  it('an outsider can neither list nor download the team documents, nor can anon', async () => {
    assert.deepEqual(await listed(team.outsider), [], 'the outsider lists nothing');
    const { c, ready } = bucketOf(team.outsider);
    await ready;
    const name = `${team.teamId}/${team.projectId}/oncall-runbook.md`;
    const dl = await c.storage.from(KB_DOCUMENTS_BUCKET).download(name);
    assert.equal(dl.data, null);
    assert.ok(dl.error, 'the outsider cannot download');
    assert.equal((dl.error as { statusCode?: string }).statusCode, '404');
    // The outsider's own daemon store: Storage answers as for an object that does not exist.
    await assert.rejects(team.outsider.store.documents().download(name), (e: { kind?: string }) => e.kind === 'not_found');
    // Nor may the outsider write into the team's folder.
    await assert.rejects(team.outsider.store.documents().upload(`${team.teamId}/${team.projectId}/planted.md`, Buffer.from('# planted\n'), 'text/markdown'), (e: { kind?: string }) => e.kind === 'permission_denied');
    const anon = signInClient(project).storage.from(KB_DOCUMENTS_BUCKET);
    assert.deepEqual((await anon.list(`${team.teamId}/${team.projectId}`)).data, []);
    assert.ok((await anon.download(name)).error, 'anon cannot download');
    assert.deepEqual(await listed(team.owner), ['escalation.html', 'ledger.pdf', 'oncall-runbook.md'], 'nothing planted');
  });

  it('a file over the size limit or of a wrong type is refused with a typed error, and nothing changes', async () => {
    const before = { objects: await listed(team.owner), sources: await sources(ann) };
    const big = join(folder, 'huge.md');
    await writeFile(big, Buffer.alloc(TEAM_DOCUMENT_MAX_BYTES + 1, 'a'));
    const tooLarge = await rpcError(bob.client.request('kb/addDocument', { root: bob.root, path: big }));
    assert.equal(tooLarge.codeName, 'TooLarge');
    assert.equal((tooLarge.data as { max?: number }).max, TEAM_DOCUMENT_MAX_BYTES);

    const cases: [string, Buffer, string][] = [
      ['fake.pdf', Buffer.from('# not a pdf at all\n'), 'not-pdf'],
      ['program.md', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]), 'binary'],
      ['report.md', Buffer.from('%PDF-1.4\n1 0 obj\n<<>>\nendobj\n'), 'pdf'],
      ['sheet.xlsx', Buffer.from('PK\u0003\u0004 zip'), '.xlsx'],
    ];
    for (const [name, bytes, detected] of cases) {
      const path = join(folder, name);
      await writeFile(path, bytes);
      const err = await rpcError(bob.client.request('kb/addDocument', { root: bob.root, path }));
      assert.equal(err.codeName, 'InvalidInput', `${name}: ${err.message}`);
      assert.equal((err.data as { reason?: string }).reason, 'unsupportedType', name);
      assert.equal((err.data as { detected?: string }).detected, detected, name);
    }
    assert.deepEqual(await listed(team.owner), before.objects, 'nothing uploaded');
    assert.equal(await sources(ann), before.sources, 'nothing indexed');
  });

  it('Storage itself refuses a type outside the bucket and a file over its limit (storage-api errors)', async () => {
    const docs = team.member.store.documents();
    const folderName = `${team.teamId}/${team.projectId}`;
    await assert.rejects(docs.upload(`${folderName}/tool.sh`, Buffer.from('echo hi\n'), 'application/x-sh'), (e: { kind?: string; message?: string }) => e.kind === 'invalid_input' && /mime type/.test(e.message ?? ''));
    await assert.rejects(docs.upload(`${folderName}/big.txt`, Buffer.alloc(TEAM_DOCUMENT_MAX_BYTES + 1, 'b'), 'text/plain'), (e: { kind?: string; message?: string }) => e.kind === 'invalid_input' && /maximum allowed size/.test(e.message ?? ''));
    // A path outside `<team>/<project>/<file>` is refused by the policies even to a member.
    await assert.rejects(docs.upload(`${team.teamId}/loose.md`, Buffer.from('# loose\n'), 'text/markdown'), (e: { kind?: string }) => e.kind === 'permission_denied');
  });

  it('deleting a document removes it from Storage and the index', async () => {
    const viewerTry = await vic.client.request('kb/remove', { root: vic.root, uri: 'doc:oncall-runbook.md', kind: 'document' }).catch((e: unknown) => e);
    if (!(viewerTry instanceof DaemonResponseError)) assert.deepEqual(viewerTry, { removed: 0, storageRemoved: false }, 'a viewer removes nothing');
    assert.ok((await listed(team.owner)).includes('oncall-runbook.md'), 'still stored after the viewer tried');

    const result = await bob.client.request('kb/remove', { root: bob.root, uri: 'doc:oncall-runbook.md', kind: 'document' });
    assert.ok(result.removed >= 1);
    assert.equal(result.storageRemoved, true);
    assert.deepEqual(await listed(team.owner), ['escalation.html', 'ledger.pdf']);
    assert.ok(!(await search(ann, 'payment gateway fail over')).some((h) => h.path === 'doc:oncall-runbook.md'), 'gone from the index');
    const gone = await rpcError(ann.client.request('kb/openDocument', { root: ann.root, uri: 'doc:oncall-runbook.md' }));
    assert.equal(gone.codeName, 'NotFound');
  });
});
