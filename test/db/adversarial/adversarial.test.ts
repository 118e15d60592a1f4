// The generated adversarial suite (suite.ts, judged by the oracle in oracle.ts) on both stores' engines:
// PGlite, as the embedded store runs it, and a throwaway native PostgreSQL server (bootstrap + migrations, as
// the Postgres-URL store applies them). Its findings are reported by the tenant-isolation rule (RULES) they break.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import pg from 'pg';
import { freshDb, type TestDb } from '../../support/db.js';
import { join } from 'node:path';
import { PostgresStore } from '../../../daemon/src/store/postgres.js';
import { startNativePostgres } from '../../support/native-pg.js';
import { pgConn, pgliteConn, type Conn } from './conn.js';
import { KNOWN_GAPS } from './known-gaps.js';
import { Adversary, type Finding } from './suite.js';

const RULES: Array<[string, string]> = [
  ['1', 'joining a team is the invitee’s own act; no account oracle'],
  ['2', 'no folder mapped into a project the user did not choose; bookkeeping columns are not the client’s'],
  ['3', 'the audit log shows a reader only what that reader could read anyway'],
  ['4', 'access to a team’s sessions follows current membership and role'],
  ['5', 'nobody speaks as the system'],
  ['7', 'moving a project takes the rights of both teams and is audited in both'],
  ['8', 'a hidden row is indistinguishable from a missing one'],
  ['9', 'attribution is the server’s'],
  ['unnamed', 'tenant isolation (a hole no rule above names)'],
];

const line = (f: Finding) => `${f.actor} × ${f.target}: ${f.what}`;

/** The findings of `rule` that no known gap (known-gaps.ts) accounts for. */
function report(findings: Finding[], rule: string): string[] {
  const lines = findings.filter((f) => f.rule === rule && !KNOWN_GAPS.some((k) => k.rule === rule && k.match.test(line(f)))).map(line);
  return [...new Set(lines)].sort();
}

function describeSuite(store: string, open: () => Promise<{ conn: Conn; close(): Promise<void> } | { skip: string }>) {
  describe(`Adversarial suite, generated from the catalog (${store})`, function () {
    this.timeout(900_000);
    let adv: Adversary;
    let ms = 0;
    let closer: (() => Promise<void>) | null = null;

    before(async function () {
      const opened = await open();
      if ('skip' in opened) {
        console.log(`      skipped: ${opened.skip}`);
        return this.skip();
      }
      closer = opened.close;
      const started = Date.now();
      adv = await Adversary.prepare(opened.conn);
      for (const c of adv.generate()) await adv.run(c);
      ms = Date.now() - started;
      console.log(`      ${store}: ${adv.cases} cases in ${(ms / 1000).toFixed(1)} s, ${adv.findings.length} findings`);
      for (const k of KNOWN_GAPS) {
        const n = adv.findings.filter((f) => f.rule === k.rule && k.match.test(line(f))).length;
        console.log(`      known gap, rule ${k.rule}: ${k.why}: ${n ? `${n} finding(s)` : 'no longer found, remove it from known-gaps.ts'}`);
      }
      if (process.env.CAIRN_ADVERSARY_FINDINGS) writeFileSync(process.env.CAIRN_ADVERSARY_FINDINGS, adv.findings.map((f) => `${f.rule}\t${line(f)}\n`).join(''));
    });
    after(async () => closer?.());

    it('knows every table, function and argument of the catalog (expectations.ts)', () => {
      const gaps = adv.gaps();
      assert.equal(gaps.length, 0, gaps.join('\n'));
    });

    for (const [rule, title] of RULES) {
      it(`${rule === 'unnamed' ? '' : `rule ${rule}: `}${title}`, () => {
        const lines = report(adv.findings, rule);
        assert.equal(lines.length, 0, `${lines.length} finding(s):\n${lines.slice(0, 60).join('\n')}${lines.length > 60 ? `\n… and ${lines.length - 60} more` : ''}`);
      });
    }
  });
}

describeSuite('PGlite', async () => {
  const t: TestDb = await freshDb();
  return { conn: pgliteConn(t.db), close: () => t.close() };
});

describeSuite('native PostgreSQL', async () => {
  const server = await startNativePostgres();
  if ('skip' in server) return { skip: server.skip };
  const admin = new pg.Client(server.url);
  await admin.connect();
  const { rows } = await admin.query(`select 1 from pg_available_extensions where name = 'vector'`);
  if (rows.length > 0) await admin.query('create database adversary');
  await admin.end();
  if (rows.length === 0) {
    await server.stop();
    return { skip: 'this PostgreSQL server has no pgvector, which the shipped migrations need' };
  }
  // Bootstrap and migrations exactly as the Postgres-URL store applies them.
  const url = server.url.replace(/\/postgres$/, '/adversary');
  await (await PostgresStore.open(url, join(server.home, 'store'))).close();
  const client = new pg.Client(url);
  await client.connect();
  return {
    conn: pgConn(client),
    close: async () => {
      await client.end();
      await server.stop();
    },
  };
});
