import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EmbeddedStore } from '../../daemon/src/store/embedded.js';
import { configFromEnv } from '../../daemon/src/config.js';
import { indexWorkspace } from '../../daemon/src/kb/indexer.js';
import { migratedTemplate } from '../support/db.js';
import { kbEnv, writeFixture, type KbEnv } from './support.js';

const child = resolve(import.meta.dirname, '../fixtures/kb/index-child.ts');

/** Every source with its ordered chunk hashes, and whether each source's chunk_count matches its rows. */
async function snapshot(store: EmbeddedStore) {
  return store.asOwner(async (tx) => {
    const rows = (
      await tx.query<{ uri: string; content_hash: string; chunk_count: number; hashes: string[] }>(
        `select s.uri, s.content_hash, s.chunk_count,
                coalesce(array_agg(c.content_hash order by c.ordinal) filter (where c.id is not null), '{}') as hashes
         from public.kb_sources s left join public.kb_chunks c on c.source_id = s.id
         group by s.id order by s.uri`,
      )
    ).rows;
    return rows;
  });
}

describe('kb resume after kill -9', function () {
  this.timeout(300_000);
  let env: KbEnv;
  let home2: string;
  before(async () => {
    env = await kbEnv();
    home2 = await mkdtemp(join(tmpdir(), 'cairn-kb-killed-'));
    await writeFixture(env);
    for (let i = 0; i < 160; i++) {
      await env.write(`pkg${i % 8}/module${i}.ts`, Array.from({ length: 6 }, (_, k) => `export function op${i}_${k}(x: number): number {\n  return x * ${i} + ${k};\n}\n`).join('\n'));
    }
  });
  after(async () => {
    await env.cleanup();
    await rm(home2, { recursive: true, force: true });
  });

  it('leaves only whole files, and the next run ends with the same index as an uninterrupted one', async () => {
    // Uninterrupted reference run.
    await indexWorkspace(env.deps(), env.ws);
    const reference = await snapshot(env.store);
    assert.equal(reference.length, 164);

    // Prepare the second home's database, then let a child index into it and kill it mid-run.
    await (await EmbeddedStore.open(home2, { template: await migratedTemplate() })).close();
    const proc = spawn(process.execPath, ['--import', 'tsx', child, env.ws], { env: { ...process.env, CAIRN_HOME: home2 }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (d) => (stderr += d));
    const killedAt = await new Promise<number>((resolveKill, reject) => {
      let buf = '';
      proc.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const m = [...buf.matchAll(/indexed (\d+)/g)].pop();
        if (m && Number(m[1]) >= 30) {
          proc.kill('SIGKILL');
          resolveKill(Number(m[1]));
        }
        if (buf.includes('done')) reject(new Error('the child finished before it could be killed'));
      });
      proc.on('exit', (code, sig) => sig !== 'SIGKILL' && reject(new Error(`child exited ${code}: ${stderr}`)));
    });
    await new Promise((r) => proc.exitCode !== null || proc.signalCode !== null ? r(null) : proc.on('exit', r));

    const store = await EmbeddedStore.open(home2);
    try {
      const partial = await snapshot(store);
      assert.ok(partial.length >= killedAt && partial.length < 164, `${partial.length} sources after the kill at ${killedAt}`);
      for (const s of partial) assert.equal(s.hashes.length, s.chunk_count, `${s.uri} is whole`);
      const resumed = await indexWorkspace({ store, config: configFromEnv({}), home: home2 }, env.ws);
      assert.equal(resumed.complete, true);
      assert.equal(resumed.unchanged, partial.length, 'committed files are not redone');
      assert.equal(resumed.indexed, 164 - partial.length);
      const final = await snapshot(store);
      assert.deepEqual(final.map((s) => [s.uri, s.content_hash, s.hashes]), reference.map((s) => [s.uri, s.content_hash, s.hashes]));
    } finally {
      await store.close();
    }
  });
});
