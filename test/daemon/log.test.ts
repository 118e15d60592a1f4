/**
 * The daemon's log: JSON lines with level and time, rotated by size with a fixed number of generations, and
 * secret-looking fields redacted wherever they are nested.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileLogger } from '../../daemon/src/log/logger.js';

describe('daemon log', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cairn-log-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('rotates by size, keeping three generations of at most maxBytes each', () => {
    const log = new FileLogger({ dir, maxBytes: 2_000, keep: 3 });
    for (let i = 0; i < 300; i++) log.info('request', { method: 'daemon/ping', durationMs: i, connection: 'c1' });
    log.close();
    for (const f of ['daemon.log', 'daemon.log.1', 'daemon.log.2', 'daemon.log.3']) {
      assert.ok(existsSync(join(dir, f)), f);
      assert.ok(statSync(join(dir, f)).size <= 2_000, `${f} is ${statSync(join(dir, f)).size} bytes`);
    }
    assert.equal(existsSync(join(dir, 'daemon.log.4')), false);
    const last = readFileSync(join(dir, 'daemon.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(last.at(-1).durationMs, 299, 'the newest line is in daemon.log');
    assert.ok(last.every((e) => e.level === 'info' && e.msg === 'request' && !Number.isNaN(Date.parse(e.time))));
  });

  it('drops lines below its level', () => {
    const log = new FileLogger({ dir, level: 'warn' });
    log.info('quiet');
    log.debug('quieter');
    log.warn('loud');
    log.close();
    assert.deepEqual(
      readFileSync(join(dir, 'daemon.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).msg),
      ['loud'],
    );
  });

  it('redacts tokens, keys, secrets, passwords and authorization headers at any depth', () => {
    const log = new FileLogger({ dir });
    log.info('initialize', {
      params: { clientName: 'vscode', secrets: { chatApiKey: 'sk-AAA111' }, nested: [{ headers: { Authorization: 'Bearer BBB222' } }] },
      token: 'CCC333',
      refresh_token: 'DDD444',
      password: 'EEE555',
      serviceRoleKey: 'FFF666',
    });
    log.close();
    const text = readFileSync(join(dir, 'daemon.log'), 'utf8');
    for (const s of ['sk-AAA111', 'BBB222', 'CCC333', 'DDD444', 'EEE555', 'FFF666']) assert.ok(!text.includes(s), s);
    const entry = JSON.parse(text);
    assert.equal(entry.params.clientName, 'vscode');
    assert.equal(entry.params.secrets, '[redacted]');
    assert.equal(entry.token, '[redacted]');
  });

  it('cuts very long strings so one request cannot flood the log', () => {
    const log = new FileLogger({ dir });
    log.info('big', { query: 'q'.repeat(100_000) });
    log.close();
    assert.ok(statSync(join(dir, 'daemon.log')).size < 3_000);
  });
});
