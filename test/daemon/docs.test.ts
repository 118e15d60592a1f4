/**
 * The protocol documents other editors rely on stay true: docs/protocol.md and docs/protocol.schema.json
 * are exactly what the generator makes from the protocol module, every example fits its schemas, and the
 * composed daemon answers every declared request.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { protocolMarkdown, protocolSchema } from '../../daemon/src/protocol/gen-docs.js';
import { notifications, requests, type NotificationDef, type RequestDef } from '../../daemon/src/protocol/index.js';
import { connectWs, migratedHome, removeHome, repoRoot, startDaemon, stopDaemon } from '../support/daemon.js';

const regenerate = 'run `node --import tsx daemon/src/protocol/gen-docs.ts` and commit the result';

describe('protocol documents', () => {
  it('docs/protocol.md is up to date with the protocol module', async () => {
    const onDisk = await readFile(join(repoRoot, 'docs', 'protocol.md'), 'utf8');
    assert.ok(onDisk === protocolMarkdown(), `docs/protocol.md is stale: ${regenerate}`);
  });

  it('docs/protocol.schema.json is up to date with the protocol module', async () => {
    const onDisk = JSON.parse(await readFile(join(repoRoot, 'docs', 'protocol.schema.json'), 'utf8'));
    assert.deepEqual(onDisk, protocolSchema(), `docs/protocol.schema.json is stale: ${regenerate}`);
  });

  for (const def of Object.values(requests) as unknown as RequestDef[]) {
    it(`the example of ${def.method} fits its params and result schemas`, () => {
      const p = def.params.safeParse(def.example.params);
      assert.ok(p.success, `params: ${JSON.stringify(p.error?.issues)}`);
      const r = def.result.safeParse(def.example.result);
      assert.ok(r.success, `result: ${JSON.stringify(r.error?.issues)}`);
    });
  }

  for (const def of Object.values(notifications) as unknown as NotificationDef[]) {
    it(`the example of notification ${def.method} fits its schema`, () => {
      const p = def.params.safeParse(def.example);
      assert.ok(p.success, JSON.stringify(p.error?.issues));
    });
  }
});

describe('the composed daemon', function () {
  this.timeout(120_000);

  it('has a handler for every declared request, and no undeclared one', async () => {
    const home = await migratedHome();
    const daemon = await startDaemon(home);
    try {
      const conn = await connectWs(daemon.info);
      const init = await conn.call('initialize', { clientName: 'docs-test' });
      await conn.close();
      const declared = Object.keys(requests).sort();
      const answered: string[] = init.result.capabilities.methods;
      assert.deepEqual(
        declared.filter((m) => !answered.includes(m)),
        [],
        'declared requests without a handler',
      );
      assert.deepEqual([...answered].sort(), declared);
      assert.deepEqual([...init.result.capabilities.notifications].sort(), Object.keys(notifications).sort());
    } finally {
      await stopDaemon(daemon);
      await removeHome(home);
    }
  });
});
