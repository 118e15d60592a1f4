/**
 * A refusal a client acts on travels as a SQLSTATE, never as wording: the SQL raises it, the store keeps it, the
 * daemon's error carries its reason (`data.reason`, protocol/errors.ts), and the extension offers the fix by
 * that reason alone. Each SQLSTATE is raised here by a small SQL function with a message that says nothing,
 * and the same words under another SQLSTATE get no special treatment.
 */
import assert from 'node:assert/strict';
import { ErrorReasons, type ErrorReason } from '../../daemon/src/protocol/errors.js';
import { RpcServer } from '../../daemon/src/rpc/server.js';
import type { Logger } from '../../daemon/src/log/logger.js';
import type { Store } from '../../daemon/src/store/types.js';
import { explain, needsSecondFactor, SECOND_FACTOR_ACTION } from '../../extension/src/errors.js';
import { teamRefusal } from '../../extension/src/teams/team-format.js';
import { freshDb, type TestDb, type TestUser } from '../support/db.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

describe('error reasons travel by SQLSTATE', function () {
  this.timeout(60_000);
  let t: TestDb;
  let user: TestUser;
  const server = new RpcServer({ store: {} as Store, log: quiet, shutdownSignal: new AbortController().signal });

  before(async () => {
    t = await freshDb();
    user = await t.createUser('ada');
    await t.admin(`create function public.test_refuse(p_sqlstate text, p_message text) returns void language plpgsql as $$
      begin raise exception using errcode = p_sqlstate, message = p_message; end $$`);
    await t.admin('grant execute on function public.test_refuse(text, text) to authenticated');
  });
  after(() => t?.close());

  /** What a client receives when the SQL raises `sqlstate` with `message`: the JSON-RPC error, as sent. */
  async function refusal(sqlstate: string, message: string): Promise<{ code: number; message: string; data?: { sqlstate?: string; reason?: string } }> {
    const { error } = await t.attemptRpc(user, 'test_refuse', { p_sqlstate: sqlstate, p_message: message });
    assert.ok(error, `${sqlstate} was raised`);
    return JSON.parse(JSON.stringify(server.toErrorObject(error, 'test/refuse', 'c1')));
  }

  const expected: Record<ErrorReason, number> = {
    projectChoice: -31909, // Conflict; workspace/resolveProject turns it into ProjectChoiceNeeded with the candidates
    secondFactor: -31902, // PermissionDenied
    lastOwner: -31910, // InvalidInput
    notMember: -31902, // PermissionDenied
    overBudget: -31912, // QuotaExceeded
    modelChanged: -31909, // Conflict; kb/search reads the active model again and retries once before it lets this through
  };
  for (const [reason, { sqlstate }] of Object.entries(ErrorReasons) as [ErrorReason, { sqlstate: string }][]) {
    it(`${sqlstate} reaches the client as reason ${reason}`, async () => {
      const err = await refusal(sqlstate, 'refused');
      assert.equal(err.code, expected[reason]);
      assert.deepEqual(err.data, { sqlstate, reason });
    });
  }

  it('the extension offers the second factor for CR002, whatever the words', async () => {
    const err = await refusal('CR002', 'refused');
    assert.equal(needsSecondFactor(err), true);
    assert.equal(teamRefusal(err), 'secondFactor');
    assert.deepEqual(explain(err).actions, [SECOND_FACTOR_ACTION]);
  });

  it('the extension explains the last owner for CR003, whatever the words', async () => {
    assert.equal(teamRefusal(await refusal('CR003', 'refused')), 'lastOwner');
  });

  it('the same words under another SQLSTATE get no second-factor fix, nor a last-owner one', async () => {
    const aal = await refusal('42501', 'managing team members requires a second factor (aal2)');
    assert.equal(aal.data?.reason, undefined);
    assert.equal(needsSecondFactor(aal), false);
    assert.equal(teamRefusal(aal), null);
    assert.deepEqual(explain(aal).actions, []);
    assert.equal(teamRefusal(await refusal('23514', 'a team must keep at least one owner')), null);
  });

  it("Supabase Auth's own insufficient_aal code still asks for the second factor", () => {
    assert.equal(needsSecondFactor({ name: 'AuthApiError', code: 'insufficient_aal', message: 'AAL2 session is required' }), true);
  });
});
