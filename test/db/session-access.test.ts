// session_access: what the caller may do in a session they can read, so clients offer only what works.
import assert from 'node:assert/strict';
import { expectStoreError, type TestDb } from '../support/db.js';
import { useWorld, type World } from './world.js';

describe('session_access: owner, write or read', function () {
  this.timeout(120_000);
  let t: TestDb;
  let w: World;
  useWorld((db, world) => {
    t = db;
    w = world;
  });

  it('answers by role for a team session, and not found for someone who cannot read it', async () => {
    const access = (who: keyof World['users']) => t.rpc<string>(w.users[who], 'session_access', { p_session_id: w.A.teamSessionId });
    assert.equal(await access('A.member'), 'owner', 'A.member started it');
    assert.equal(await access('A.owner'), 'write');
    assert.equal(await access('A.admin'), 'write');
    assert.equal(await access('A.viewer'), 'read');
    // What it says is what the database allows: the viewer's post is refused, the admin's is not.
    await expectStoreError(t.rpc(w.users['A.viewer'], 'append_message', { p_session_id: w.A.teamSessionId, p_role: 'user', p_content: 'hi' }), 'permission_denied');
    await t.rpc(w.users['A.admin'], 'append_message', { p_session_id: w.A.teamSessionId, p_role: 'user', p_content: 'hi' });
    for (const who of ['B.owner', 'outsider'] as const) await expectStoreError(access(who), 'not_found', /session not found/);
    await expectStoreError(t.rpc(w.users['A.owner'], 'session_access', { p_session_id: w.A.privateSessionId }), 'not_found');
  });
});
