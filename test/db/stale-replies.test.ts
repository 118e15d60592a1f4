// Replies a crash left `streaming`: a lone embedded daemon fails all of its user's at start; a daemon that
// may share its user with other machines (team sign-in, a shared Postgres) fails only the stale ones, so a
// reply another machine is streaming right now is left alone.
import assert from 'node:assert/strict';
import { expectStoreError, type TestDb } from '../support/db.js';
import { useWorld, type World } from './world.js';

describe('fail_streaming_messages: only stale replies when asked', function () {
  this.timeout(120_000);
  let t: TestDb;
  let w: World;
  useWorld((db, world) => {
    t = db;
    w = world;
  });

  const status = async (id: string) => (await t.admin<{ status: string; error: unknown }>(`select status, metadata->'error' as error from public.messages where id = $1`, [id]))[0]!;
  /** Moves a message's last save into the past (the updated_at trigger is bypassed, as for a replica). */
  const ageBy = async (id: string, seconds: number) => {
    await t.admin(`set session_replication_role = replica`);
    try {
      await t.admin(`update public.messages set updated_at = now() - make_interval(secs => $2) where id = $1`, [id, seconds]);
    } finally {
      await t.admin(`set session_replication_role = origin`);
    }
  };

  it('leaves a reply saved recently streaming, fails one untouched for longer, and refuses a negative age', async () => {
    const member = w.users['A.member'];
    const live = await t.rpc<{ id: string }>(member, 'append_message', { p_session_id: w.A.teamSessionId, p_role: 'assistant', p_content: 'still typing', p_status: 'streaming' });
    await ageBy(w.A.streamingMessageId, 300);
    await ageBy(live.id, 20);

    assert.equal(await t.rpc<number>(member, 'fail_streaming_messages', { p_reason: 'machine gone', p_stale_after_seconds: 120 }), 1);
    assert.deepEqual(await status(w.A.streamingMessageId), { status: 'failed', error: 'machine gone' });
    assert.equal((await status(live.id)).status, 'streaming', 'the reply another machine is streaming is left alone');

    await expectStoreError(t.rpc(member, 'fail_streaming_messages', { p_stale_after_seconds: -1 }), 'invalid_input', /must not be negative/);
    assert.equal((await status(live.id)).status, 'streaming');

    // Without an age (a lone daemon at start), every streaming reply of the caller, and nobody else's.
    const others = await t.count('messages', `status = 'streaming' and author_id <> $1`, [member.id]);
    assert.equal(await t.rpc<number>(member, 'fail_streaming_messages', {}), 1);
    assert.equal((await status(live.id)).status, 'failed');
    assert.equal(await t.count('messages', `status = 'streaming' and author_id <> $1`, [member.id]), others);
  });
});
