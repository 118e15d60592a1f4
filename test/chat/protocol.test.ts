import assert from 'node:assert/strict';
import { chatNotifications, chatRequests } from '../../daemon/src/protocol/chat.js';
import { sessionsNotifications, sessionsRequests } from '../../daemon/src/protocol/sessions.js';
import { agentsRequests } from '../../daemon/src/protocol/agents.js';
import { tasksRequests } from '../../daemon/src/protocol/tasks.js';
import { deriveTitle } from '../../daemon/src/chat/orchestrator.js';

describe('chat, sessions, agents and tasks protocol declarations', () => {
  const requests = { ...chatRequests, ...sessionsRequests, ...agentsRequests, ...tasksRequests };
  for (const [method, def] of Object.entries(requests)) {
    it(`${method}: its documented example matches its schemas`, () => {
      assert.equal(def.method, method);
      const params = def.params.safeParse(def.example.params);
      assert.ok(params.success, JSON.stringify(params.error?.issues));
      const result = def.result.safeParse(def.example.result);
      assert.ok(result.success, JSON.stringify(result.error?.issues));
    });
  }
  for (const [method, def] of Object.entries({ ...chatNotifications, ...sessionsNotifications })) {
    it(`${method}: its documented example matches its schema`, () => {
      const parsed = def.params.safeParse(def.example);
      assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
    });
  }

  it('rejects what a client could get wrong', () => {
    assert.equal(chatRequests['chat/send'].params.safeParse({ content: '' }).success, false);
    assert.equal(chatRequests['chat/cancel'].params.safeParse({}).success, false, 'cancel needs a session or a message');
    assert.equal(sessionsRequests['sessions/list'].params.safeParse({ limit: 0 }).success, false);
    assert.equal(sessionsRequests['sessions/share'].params.safeParse({ sessionId: '6f1d3c2a-8b7e-4c1f-9a2d-0e5b7c9d1a23', visibility: 'public' }).success, false);
    assert.equal(agentsRequests['agents/create'].params.safeParse({ name: 'x', systemPrompt: 'y', tools: ['rm_rf'] }).success, false);
  });
});

describe('session titles from the first message', () => {
  const cases: Array<[string, string]> = [
    ['How does indexing resume?', 'How does indexing resume?'],
    ['  \n## Why is search slow?\nmore text', 'Why is search slow?'],
    ['```ts\nconst x = 1;\n```\nexplain this code', 'explain this code'],
    ['Please explain in detail how the embeddings cache is keyed and when it is invalidated', 'Please explain in detail how the embeddings cache is keyed…'],
    ['', 'New chat'],
  ];
  for (const [input, want] of cases) {
    it(JSON.stringify(input.slice(0, 30)), () => assert.equal(deriveTitle(input), want));
  }
});
