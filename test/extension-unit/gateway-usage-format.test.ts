import assert from 'node:assert/strict';
import { renderGatewayUsage } from '../../extension/src/teams/gateway-usage-format.js';

const ana = '11111111-1111-4111-8111-111111111111';
const bob = '22222222-2222-4222-8222-222222222222';

describe('gateway usage as a readable table', () => {
  it('lists members and models biggest first, with per-member and team totals', () => {
    const md = renderGatewayUsage(
      'Plat|form',
      {
        since: '2026-12-01T00:00:00.000Z',
        rows: [
          { userId: ana, email: 'ana@x.dev', displayName: 'Ana', model: 'gpt-4o-mini', kind: 'chat', requests: 3, promptTokens: 1200, completionTokens: 300 },
          { userId: bob, email: 'bob@x.dev', displayName: null, model: 'gpt-4o-mini', kind: 'chat', requests: 10, promptTokens: 40000, completionTokens: 2000 },
          { userId: ana, email: 'ana@x.dev', displayName: 'Ana', model: 'text-embedding-3-small', kind: 'embedding', requests: 2, promptTokens: 900, completionTokens: 0 },
        ],
      },
      new Date('2026-12-07T16:00:00Z'),
    );
    assert.match(md, /^# Plat\\\|form: model usage/);
    const table = md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Member'));
    assert.equal(table[0], '| bob@x.dev | gpt-4o-mini | chat | 10 | 40,000 | 2,000 | 42,000 |');
    assert.equal(table[1], '| Ana (ana@x.dev) | gpt-4o-mini | chat | 3 | 1,200 | 300 | 1,500 |');
    assert.ok(md.includes('| Ana (ana@x.dev) | 5 | 2,400 |'));
    assert.ok(md.includes('| **Team** | **15** | **44,400** |'));
  });

  it('says so when nothing went through the gateway', () => {
    assert.match(renderGatewayUsage('T', { since: '2026-12-01T00:00:00.000Z', rows: [] }), /No requests through the gateway/);
  });
});
