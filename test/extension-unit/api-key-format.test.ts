/**
 * What Create API Key and Manage API Keys show: names checked as the daemon checks them, the expiry a choice
 * gives, a key's state and its row (scope by project name, never the key), and the function's URL. Pure.
 */
import assert from 'node:assert/strict';
import { apiKeysRequests } from '../../daemon/src/protocol/api-keys.js';
import { apiUrl, expiryFrom, keyRow, keyState, scopeText, validateKeyName, type ApiKey } from '../../extension/src/teams/api-key-format.js';

const now = new Date('2026-12-07T15:00:00.000Z');
const projects = [
  { id: '3d0f6a43-0c2e-4f0e-9d36-0f1f9a3a7d21', name: 'shop', teamId: '0b8e7c52-4f1a-4d7e-9a61-2c3d4e5f6a7b' },
  { id: '4e1f7b54-1d3f-4a1f-8e47-1a2b3c4d5e6f', name: 'notes', teamId: null },
];
const key: ApiKey = {
  id: '6f1d2c3b-4a59-4e8f-9a0b-1c2d3e4f5a6b',
  name: 'CI docs job',
  prefix: 'cairn_3f9a',
  projectIds: [projects[0]!.id],
  expiresAt: '2027-03-07T00:00:00.000Z',
  lastUsedAt: null,
  revokedAt: null,
  createdAt: '2026-12-07T15:00:00.000Z',
  uses: 0,
};

describe('API key formatting (extension, pure)', () => {
  it('checks a name as auth/createApiKey does', () => {
    const schema = apiKeysRequests['auth/createApiKey'].params;
    for (const name of ['', '   ', 'x'.repeat(101), 'CI docs job', 'x'.repeat(100)]) {
      const ok = validateKeyName(name) === undefined;
      assert.equal(ok, schema.safeParse({ name: name.trim() }).success && name.trim().length > 0, JSON.stringify(name));
    }
  });

  it('turns an expiry choice into an instant the daemon accepts, or none', () => {
    assert.equal(expiryFrom(now, 90), '2027-03-07T15:00:00.000Z');
    assert.equal(expiryFrom(now, null), null);
    assert.ok(apiKeysRequests['auth/createApiKey'].params.safeParse({ name: 'k', expiresAt: expiryFrom(now, 30) }).success);
  });

  it('says whether a key is active, revoked or expired', () => {
    const rows: Array<[Partial<ApiKey>, string]> = [
      [{}, 'active'],
      [{ revokedAt: '2026-12-01T00:00:00.000Z' }, 'revoked'],
      [{ expiresAt: '2026-12-07T14:59:59.000Z' }, 'expired'],
      [{ expiresAt: null }, 'active'],
    ];
    for (const [patch, state] of rows) assert.equal(keyState({ ...key, ...patch }, now), state, JSON.stringify(patch));
  });

  it('shows a key by name, prefix, state and projects, never the key', () => {
    assert.equal(scopeText(null, projects), 'every project you can read');
    assert.equal(scopeText([projects[0]!.id, 'ffffffff-ffff-4fff-8fff-ffffffffffff'], projects), 'shop, 1 other');
    const row = keyRow({ ...key, revokedAt: '2026-12-08T00:00:00.000Z' }, projects, now);
    assert.equal(row.label, 'CI docs job');
    assert.equal(row.description, 'cairn_3f9a… · revoked · shop');
    assert.match(row.detail, /revoked/);
    assert.match(keyRow({ ...key, lastUsedAt: '2026-12-07T14:00:00.000Z', uses: 3 }, projects, now).detail, /3 requests/);
    assert.match(keyRow(key, projects, now).detail, /never used/);
  });

  it('points at the project\'s cairn-api function', () => {
    assert.equal(apiUrl('https://abc.supabase.co/'), 'https://abc.supabase.co/functions/v1/cairn-api');
  });
});
