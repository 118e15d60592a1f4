/**
 * The warning before a chat message with a secret in it is sent (extension/src/chat/secret-guard.ts): the user's
 * three choices decide what leaves, and the question names kinds and lines, never values. The check is the
 * daemon's detection itself (what `secrets/check` answers); the user's click is the only thing scripted.
 */
import assert from 'node:assert/strict';
import { redactText, scanText } from '../../daemon/src/secrets/index.js';
import {
  SECRET_CHOICES,
  describeShareFindings,
  findingsInMessages,
  screenOutgoing,
  type SecretCheck,
  type SecretChoice,
} from '../../extension/src/chat/secret-guard.js';

// Built at run time, so no scanner takes this file for one holding real credentials.
const token = `ghp_${'a1B2'.repeat(9)}`;
const password = 'Zq9'.repeat(4);
const message = `please deploy\nGITHUB_TOKEN ${token}\nand db postgres://app:${password}@db.example.com/app`;

async function daemonCheck(text: string): Promise<SecretCheck> {
  const findings = scanText(text);
  return { findings, redacted: redactText(text, findings) };
}

describe('chat: the warning before a secret is sent', () => {
  const asked: string[] = [];
  const answer = (choice: SecretChoice | undefined) => async (question: string) => {
    asked.push(question);
    return choice;
  };
  beforeEach(() => (asked.length = 0));

  it('asks nothing for a message without secrets, and sends it as written', async () => {
    assert.equal(await screenOutgoing('how does retry work in src/net.ts?', daemonCheck, answer('cancel')), 'how does retry work in src/net.ts?');
    assert.deepEqual(asked, []);
  });

  it('"Redact and send" sends the message with each secret replaced, the rest intact', async () => {
    const sent = await screenOutgoing(message, daemonCheck, answer('redact'));
    assert.equal(sent, 'please deploy\nGITHUB_TOKEN [redacted: github]\nand db [redacted: database-connection-string]');
    assert.equal(asked.length, 1);
    assert.match(asked[0]!, /contains 2 things that look like secrets \(github on line 2, database-connection-string on line 3\)/);
    assert.ok(!asked[0]!.includes(token) && !asked[0]!.includes(password), 'the question shows no secret value');
  });

  it('"Send anyway" sends it unchanged; "Cancel" or dismissing sends nothing', async () => {
    assert.equal(await screenOutgoing(message, daemonCheck, answer('send')), message);
    assert.equal(await screenOutgoing(message, daemonCheck, answer('cancel')), null);
    assert.equal(await screenOutgoing(message, daemonCheck, answer(undefined)), null);
  });

  it('the buttons say what each choice does to the message', () => {
    assert.deepEqual(Object.values(SECRET_CHOICES), ['Redact and send', 'Send anyway', 'Cancel']);
  });

  it('before sharing a session, names each secret by rule and message number', async () => {
    const found = await findingsInMessages(
      [
        { seq: 1, content: 'hello' },
        { seq: 2, content: message },
      ],
      daemonCheck,
    );
    assert.deepEqual(found, [
      { seq: 2, rule: 'github' },
      { seq: 2, rule: 'database-connection-string' },
    ]);
    assert.match(describeShareFindings('Deploy', found), /^“Deploy” contains 2 things that look like secrets \(github in message #2, database-connection-string in message #2\)/);
  });
});
