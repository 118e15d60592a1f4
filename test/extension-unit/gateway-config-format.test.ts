import assert from 'node:assert/strict';
import { describeGateway, parseLimit, parseModels, validateLimit, validateModels } from '../../extension/src/teams/gateway-config-format.js';

describe('configuring the team model gateway: what the boxes accept', () => {
  it('reads a model list separated by commas or spaces, each once, and refuses an empty one', () => {
    assert.deepEqual(parseModels(' gpt-4o-mini,text-embedding-3-small  gpt-4o-mini ,, o3 '), ['gpt-4o-mini', 'text-embedding-3-small', 'o3']);
    assert.match(String(validateModels(' , ')), /at least one model/);
    assert.match(String(validateModels('x'.repeat(201))), /at most 200 characters/);
    assert.equal(validateModels('gpt-4o-mini'), null);
  });

  it('reads a limit as a whole number or no limit, with thousands separators', () => {
    assert.equal(parseLimit(''), null);
    assert.equal(parseLimit('  '), null);
    assert.equal(parseLimit('5,000,000'), 5_000_000);
    assert.equal(parseLimit('60'), 60);
    assert.equal(validateLimit('', 1), null);
    assert.match(String(validateLimit('0', 1)), /at least 1/);
    assert.match(String(validateLimit('1.5', 0)), /whole number/);
    assert.match(String(validateLimit('lots', 0)), /whole number/);
    assert.equal(validateLimit('0', 0), null);
  });

  it('says in one line what members now get', () => {
    const line = describeGateway('Platform', {
      teamId: '11111111-1111-4111-8111-111111111111',
      enabled: true,
      allowedModels: ['gpt-4o-mini', 'text-embedding-3-small'],
      chatModel: 'gpt-4o-mini',
      embeddingModel: null,
      teamMonthlyTokens: null,
      memberMonthlyTokens: 5_000_000,
      memberRequestsPerMinute: 60,
    });
    assert.equal(
      line,
      "the model gateway of Platform allows gpt-4o-mini, text-embedding-3-small; chat: gpt-4o-mini; indexing: each member's own embedder; budgets: team no limit, each member 5,000,000 tokens a month, 60 requests a minute.",
    );
  });
});
