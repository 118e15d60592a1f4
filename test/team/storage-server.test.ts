/**
 * The Storage test server's contract, through the real `@supabase/supabase-js` `storage` client: the shapes
 * and errors storage-api answers with (HTTP 400 with the real status in `statusCode`), multipart and raw
 * uploads, `x-upsert`, list by folder level, remove by prefixes, and the gateway's apikey check.
 */
import assert from 'node:assert/strict';
import { createClient } from '@supabase/supabase-js';
import { KB_DOCUMENTS_BUCKET } from '../../daemon/src/store/supabase.js';
import { realtimeTransport, signUp, startProject, type Project } from './harness.js';
import { buildTeam, leaveAll, type Member, type Team } from './scenarios.js';

describe('Storage test server (storage-api contract)', function () {
  this.timeout(120_000);
  let project: Project;
  let team: Team;

  const bucket = (m: Member) =>
    createClient(project.url, project.anonKey, {
      accessToken: async () => m.person.session().accessToken,
      realtime: { transport: realtimeTransport },
    }).storage.from(KB_DOCUMENTS_BUCKET);
  const folder = () => `${team.teamId}/${team.projectId}`;

  before(async () => {
    project = await startProject();
    team = await buildTeam({ project, person: (name) => signUp(project, name) }, 'store');
  });
  after(async () => {
    if (team) await leaveAll([team.owner, team.member, team.viewer, team.outsider]);
    await project?.close();
  });

  it('uploads raw and multipart bodies, refuses a duplicate without x-upsert, replaces with it, downloads and reports info', async () => {
    const b = bucket(team.member);
    const raw = await b.upload(`${folder()}/a.md`, Buffer.from('# A\n'), { contentType: 'text/markdown' });
    assert.equal(raw.error, null);
    assert.deepEqual({ path: raw.data?.path, fullPath: raw.data?.fullPath }, { path: `${folder()}/a.md`, fullPath: `${KB_DOCUMENTS_BUCKET}/${folder()}/a.md` });
    assert.match(raw.data?.id ?? '', /^[0-9a-f-]{36}$/);

    const multipart = await b.upload(`${folder()}/b.txt`, new Blob(['plain words'], { type: 'text/plain' }));
    assert.equal(multipart.error, null);
    const dl = await b.download(`${folder()}/b.txt`);
    assert.equal(await dl.data?.text(), 'plain words');
    assert.equal(dl.data?.type, 'text/plain');

    const dup = await b.upload(`${folder()}/a.md`, Buffer.from('# A again\n'), { contentType: 'text/markdown' });
    assert.equal((dup.error as { status?: number } | null)?.status, 400);
    assert.equal((dup.error as { statusCode?: string } | null)?.statusCode, '409');
    assert.equal(dup.error?.message, 'The resource already exists');
    const upsert = await b.upload(`${folder()}/a.md`, Buffer.from('# A again\n'), { contentType: 'text/markdown', upsert: true });
    assert.equal(upsert.error, null);
    assert.equal(await (await b.download(`${folder()}/a.md`)).data?.text(), '# A again\n');

    const info = await b.info(`${folder()}/a.md`);
    assert.equal(info.error, null);
    assert.equal(info.data?.size, Buffer.byteLength('# A again\n'));
    assert.equal(info.data?.contentType, 'text/markdown');

    const missing = await b.download(`${folder()}/nope.md`);
    assert.equal((missing.error as { statusCode?: string } | null)?.statusCode, '404');
  });

  it('lists one level at a time, as the caller may see it, and removes by prefixes returning what went', async () => {
    const member = bucket(team.member);
    const top = await member.list('');
    assert.deepEqual(top.data?.map((o) => ({ name: o.name, id: o.id })), [{ name: team.teamId, id: null }], 'a folder per team the member may read');
    const teamLevel = await member.list(team.teamId);
    assert.deepEqual(teamLevel.data?.map((o) => o.name), [team.projectId]);
    const files = await member.list(folder(), { sortBy: { column: 'name', order: 'desc' } });
    assert.deepEqual(files.data?.map((o) => o.name), ['b.txt', 'a.md']);
    assert.equal((files.data?.[1]?.metadata as { mimetype?: string }).mimetype, 'text/markdown');
    assert.deepEqual((await bucket(team.outsider).list('')).data, [], 'the outsider sees no folder at all');

    const viewer = await bucket(team.viewer).remove([`${folder()}/a.md`]);
    assert.deepEqual(viewer.data, [], 'a viewer deletes nothing (the delete policy hides the row)');
    const removed = await member.remove([`${folder()}/a.md`, `${folder()}/b.txt`, `${folder()}/never.md`]);
    assert.deepEqual(removed.data?.map((o) => o.name).sort(), [`${folder()}/a.md`, `${folder()}/b.txt`]);
    assert.deepEqual((await member.list(folder())).data, []);
  });

  it('answers 401 without an apikey, as the gateway does', async () => {
    const res = await fetch(`${project.url}/storage/v1/object/list/${KB_DOCUMENTS_BUCKET}`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { message?: string }).message, 'No API key found in request');
  });
});
