/**
 * SupabaseStore's error mapping, data driven: each row raises a SQLSTATE inside a function called through the
 * PostgREST test server, and the store must answer with the StoreError kind docs/sql-api.md promises.
 */
import assert from 'node:assert/strict';
import type { SupabaseStore } from '../../daemon/src/store/supabase.js';
import { StoreError } from '../../daemon/src/store/types.js';
import { rpcUntyped } from '../support/db.js';
import { signUp, startProject, storeFor, type Project } from './harness.js';

const CASES: [sqlstate: string, kind: StoreError['kind']][] = [
  ['42501', 'permission_denied'],
  ['P0002', 'not_found'],
  ['22023', 'invalid_input'],
  ['22001', 'invalid_input'],
  ['23514', 'invalid_input'],
  ['23502', 'invalid_input'],
  ['22P02', 'invalid_input'],
  ['P0001', 'invalid_input'],
  ['23505', 'conflict'],
  ['28000', 'not_signed_in'],
  ['53300', 'unavailable'],
  ['XX000', 'internal'],
  // Cairn's own, each with a reason a client acts on (protocol/errors.ts ErrorReasons).
  ['CR001', 'conflict'],
  ['CR002', 'permission_denied'],
  ['CR003', 'invalid_input'],
  ['CR004', 'permission_denied'],
  ['CR005', 'quota_exceeded'],
];

describe('SupabaseStore error mapping (through PostgREST)', function () {
  this.timeout(60_000);
  let project: Project;
  let store: SupabaseStore;

  before(async () => {
    project = await startProject();
    await project.tdb!.db.exec(`
      create function public.t_raise(p_code text) returns void language plpgsql as $$
      begin raise exception using errcode = p_code, message = 'raised ' || p_code; end $$;
      grant execute on function public.t_raise(text) to authenticated;`);
    store = await storeFor(project, await signUp(project, 'errs'));
  });
  after(async () => {
    await store?.close();
    await project?.close();
  });

  for (const [code, kind] of CASES) {
    it(`SQLSTATE ${code} → ${kind}, with the database's message and code`, async () => {
      await assert.rejects(rpcUntyped(store, 't_raise', { p_code: code }), (err: unknown) => {
        assert.ok(err instanceof StoreError, String(err));
        assert.equal(err.kind, kind);
        assert.equal(err.sqlstate, code);
        assert.equal(err.message, `raised ${code}`);
        return true;
      });
    });
  }

  it('a call without a user is refused before it leaves the daemon', async () => {
    const other = await storeFor(project, await signUp(project, 'gone'));
    other.clearSession();
    await assert.rejects(rpcUntyped(other, 't_raise', { p_code: '22023' }), (err: unknown) => err instanceof StoreError && err.kind === 'not_signed_in');
    assert.equal(other.user(), null);
    await other.close();
  });

  it('an aborted call rejects with the abort reason', async () => {
    const ctl = new AbortController();
    ctl.abort(new Error('cancelled by the user'));
    await assert.rejects(rpcUntyped(store, 't_raise', { p_code: '22023' }, { signal: ctl.signal }), /cancelled by the user|abort/i);
  });
});
