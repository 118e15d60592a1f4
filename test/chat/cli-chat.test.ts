import assert from 'node:assert/strict';
import type { CliCommand } from '../../daemon/src/cli/command.js';
import { runCommand, type CommandRun } from '../support/cli.js';
import { command as chat } from '../../daemon/src/cli/commands/chat.js';
import { command as sessions } from '../../daemon/src/cli/commands/sessions.js';
import { startHarness, type Harness } from './harness.js';

/** Runs a command as `cairn <argv>` would, against the harness daemon, capturing its output. */
async function run(h: Harness, cmd: CliCommand, argv: string[]): Promise<CommandRun> {
  return runCommand(cmd, argv, { client: (await h.connect()).client, cwd: h.workspace, env: { TERM: 'dumb' } });
}

describe('cairn chat and cairn sessions', function () {
  this.timeout(60_000);
  let h: Harness;

  afterEach(async () => {
    await h?.close();
  });

  it('cairn chat streams the reply line by line; --json prints sessionId, messageId, content and usage; --session continues', async () => {
    h = await startHarness({ model: { responder: () => ({ content: 'line one\nline two\nline three', chunkDelayMs: 2 }) } });
    const plain = await run(h, chat, ['how', 'are', 'you?']);
    assert.equal(plain.code, 0, plain.err.join('\n'));
    assert.deepEqual(plain.out, ['line one', 'line two', 'line three']);
    assert.match(plain.err.at(-1)!, /^session [0-9a-f-]{36} · gpt-test · \d+\+\d+ tokens$/);

    const json = await run(h, chat, ['second', 'message', '--json']);
    assert.equal(json.code, 0);
    assert.equal(json.out.length, 1, 'exactly one JSON document');
    const doc = JSON.parse(json.out[0]!) as { sessionId: string; messageId: string; content: string; usage: { model: string; promptTokens: number; completionTokens: number } };
    assert.equal(doc.content, 'line one\nline two\nline three');
    assert.equal(doc.usage.model, 'gpt-test');
    assert.ok(doc.usage.promptTokens > 0);

    const cont = await run(h, chat, ['third', '--session', doc.sessionId, '--json']);
    assert.equal(JSON.parse(cont.out[0]!).sessionId, doc.sessionId);
    const got = await (await h.connect()).client.request('sessions/get', { sessionId: doc.sessionId });
    assert.deepEqual(got.messages.filter((m) => m.role === 'user').map((m) => m.content), ['second message', 'third']);
    assert.equal(got.messages.find((m) => m.id === doc.messageId)?.content, doc.content);

    const listed = await run(h, sessions, ['list', '--json']);
    const rows = JSON.parse(listed.out[0]!) as Array<Record<string, unknown>>;
    assert.equal(rows.length, 2);
    assert.deepEqual(Object.keys(rows[0]!).sort(), ['id', 'projectId', 'title', 'updatedAt', 'visibility']);
    assert.equal(rows[0]!.id, doc.sessionId, 'most recent first');
    assert.equal(rows[0]!.title, 'second message');
  });

  it('exit codes: 2 without a message, 1 with the reason when the reply fails', async () => {
    h = await startHarness({ model: {} });
    assert.equal((await run(h, chat, [])).code, 2);
    h.model!.queue({ error: { status: 401 } });
    const failed = await run(h, chat, ['hello']);
    assert.equal(failed.code, 1);
    assert.match(failed.err.at(-1)!, /refused the API key \(HTTP 401\).*\(ProviderError\)/);
    assert.equal((await run(h, sessions, ['show'])).code, 2);
  });
});
