import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { lintSource } from '@secretlint/core';
import { creator as recommended } from '@secretlint/secretlint-rule-preset-recommend';
import { isSecretFileName, redactText, scanText } from '../../daemon/src/secrets/index.js';
import { presetRuleNames, RULE_TRIGGERS, runSecretlint, setPrefilter } from '../../daemon/src/secrets/secretlint-host.js';
import { chunkFile } from '../../daemon/src/kb/chunk.js';
import { languageOf } from '../../daemon/src/kb/crawl.js';
import { FileLogger } from '../../daemon/src/log/logger.js';
import { command as secretsCommand } from '../../daemon/src/cli/commands/secrets.js';
import { runCommand } from '../support/cli.js';
import { KINDS, leaked, plants } from './corpus.js';

const repo = resolve(import.meta.dirname, '../..');

/** Source files of an ordinary code base: rxjs from the eval cache when present, else this repository and zod. */
async function ordinaryCode(): Promise<Array<{ path: string; text: string }>> {
  const roots = [join(homedir(), '.cache/cairn-eval/rxjs@7.8.2'), join(repo, 'daemon/src'), join(repo, 'node_modules/zod/src')].filter((r) => existsSync(r));
  const out: Array<{ path: string; text: string }> = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (/\.(ts|js|mjs|md|json)$/.test(e.name) && (await stat(p)).size < 512 * 1024) out.push({ path: p, text: await readFile(p, 'utf8') });
    }
  };
  for (const r of roots) await walk(r);
  return out;
}

describe('secrets: detection and redaction', function () {
  this.timeout(120_000);

  it('finds every planted kind (26 kinds, 200 plants) and redactText leaves none of their values, keeping line numbers', () => {
    const list = plants(200);
    assert.ok(Object.keys(KINDS).length >= 20);
    // Plants embedded in ordinary code, several per file, as in a real repository.
    const rulesByKind = new Map<string, Set<string>>();
    for (let i = 0; i < list.length; i += 5) {
      const group = list.slice(i, i + 5);
      const text = group.map((p, k) => `// config ${k}\nexport const value${k} = compute(${k});\n${p.text}\nfunction use${k}() { return value${k}; }\n`).join('\n');
      const findings = scanText(text, { path: `src/config${i}.ts` });
      const red = redactText(text, findings);
      assert.deepEqual(leaked(red, group), [], `left in:\n${red}`);
      assert.equal(red.split('\n').length, text.split('\n').length, 'line count kept');
      for (const p of group) {
        const f = scanText(p.text);
        assert.ok(f.length > 0, `${p.kind} not found`);
        rulesByKind.set(p.kind, new Set([...(rulesByKind.get(p.kind) ?? []), ...f.map((x) => x.rule)]));
      }
      assert.match(red, /\[redacted: [a-z0-9-]+\]/);
    }
    // Most kinds come from secretlint's own rules, not from the three added ones.
    const bySecretlint = [...rulesByKind.values()].filter((r) => [...r].some((x) => !['jwt', 'assigned-secret', 'url-password'].includes(x))).length;
    assert.ok(bySecretlint >= 18, `secretlint rules found ${bySecretlint} kinds: ${JSON.stringify([...rulesByKind].map(([k, v]) => [k, [...v]]))}`);
  });

  it('the synchronous host reports what @secretlint/core lintSource reports, and the prefilter changes nothing', async () => {
    const list = plants(60, 7);
    const texts = list.map((p) => `const a = 1;\n${p.text}\n`);
    const code = (await ordinaryCode()).slice(0, 400);
    for (const [i, text] of [...texts, ...code.map((c) => c.text)].entries()) {
      const path = i < texts.length ? `f${i}.txt` : code[i - texts.length]!.path;
      const core = await lintSource({
        source: { content: text, filePath: path, ext: path.slice(path.lastIndexOf('.')), contentType: 'text' },
        options: { config: { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: recommended }] } },
      });
      const want = core.messages.map((m) => `${m.ruleId.replace('@secretlint/secretlint-rule-', '')}@${m.range[0]}-${m.range[1]}`).sort();
      const got = runSecretlint(text, path).map((f) => `${f.rule}@${f.start}-${f.end}`).sort();
      assert.deepEqual(got, want, path);
      setPrefilter(false);
      try {
        assert.deepEqual(runSecretlint(text, path).map((f) => `${f.rule}@${f.start}-${f.end}`).sort(), want, `${path} without prefilter`);
      } finally {
        setPrefilter(true);
      }
    }
    assert.deepEqual(presetRuleNames().filter((r) => !(r in RULE_TRIGGERS)), [], 'every rule of the preset has its trigger literals');
  });

  it('ordinary code: fewer than 1% of its chunks get a redaction', async () => {
    const files = await ordinaryCode();
    let chunks = 0;
    const redacted: string[] = [];
    for (const f of files) {
      for (const c of await chunkFile(f.path, f.text, languageOf(f.path))) {
        chunks++;
        const found = scanText(c.content, { path: f.path });
        if (found.length) redacted.push(`${f.path}:${c.startLine} ${found.map((x) => x.rule).join(',')}`);
      }
    }
    const rate = redacted.length / chunks;
    console.log(`      ordinary code: ${redacted.length} of ${chunks} chunks redacted (${(rate * 100).toFixed(3)}%) in ${files.length} files`);
    assert.ok(chunks > 1000, `corpus too small: ${chunks}`);
    assert.ok(rate < 0.01, redacted.slice(0, 20).join('\n'));
  });

  it('code that only names secrets is left alone', () => {
    const text = [
      'const password = options.password;',
      'const token = await getToken(req.headers.authorization);',
      'apiKey: process.env.OPENAI_API_KEY,',
      "const SECRET_KEY_NAME = 'SECRET_KEY';",
      'password: "changeme"',
      'url: "postgres://user:${PASSWORD}@localhost/db"',
      "const cacheKey = 'users:list:page:12345678';",
      'const fileKey = hashOf(path);',
    ].join('\n');
    assert.deepEqual(scanText(text), []);
  });

  it('isSecretFileName knows the usual secret files', () => {
    for (const p of ['.env', 'app/.env.local', '.env.production', 'certs/server.pem', 'tls.key', 'home/.ssh/id_rsa', 'id_ed25519', '.npmrc', '.pypirc', 'credentials.json', 'client_secret_123.apps.json', '.aws/credentials', 'prod.env', 'keystore.jks', 'secrets.yaml']) {
      assert.ok(isSecretFileName(p), p);
    }
    for (const p of ['.env.example', '.env.sample', 'id_rsa.pub', 'src/env.ts', 'keys.ts', 'README.md', 'package.json', 'src/token.ts', 'credentials.ts']) {
      assert.ok(!isSecretFileName(p), p);
    }
  });

  it('the log file never carries a planted value: messages, fields, nested values and errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cairn-secrets-log-'));
    try {
      const list = plants(52, 3);
      const log = new FileLogger({ dir });
      for (const [i, p] of list.entries()) {
        if (i % 4 === 0) log.info(`request failed: ${p.text}`);
        else if (i % 4 === 1) log.warn('tool step', { args: { query: p.text }, note: [p.text] });
        else if (i % 4 === 2) log.error('model error', { error: new Error(`upstream said ${p.text}`) });
        else log.info('config', { url: p.text });
      }
      log.close();
      const text = await readFile(join(dir, 'daemon.log'), 'utf8');
      assert.deepEqual(leaked(text, list), []);
      assert.match(text, /\[redacted: /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('cairn secrets scan --json lists rule, path, line and column, and no value', async () => {
    const ws = await mkdtemp(join(tmpdir(), 'cairn-secrets-scan-'));
    try {
      const list = plants(30, 11);
      const files: Record<string, string> = {};
      list.forEach((p, i) => {
        const rel = `pkg${i % 3}/file${i}.${i % 2 ? 'ts' : 'yml'}`;
        files[rel] = `# line 1\n# line 2\n${p.text}\n`;
      });
      files['src/plain.ts'] = 'export const x = 1;\n';
      files['.gitignore'] = 'ignored/\n';
      files['ignored/x.ts'] = `${list[0]!.text}\n`;
      for (const [rel, text] of Object.entries(files)) {
        await mkdir(dirname(join(ws, rel)), { recursive: true });
        await writeFile(join(ws, rel), text);
      }
      const run = await runCommand(secretsCommand, ['scan', ws, '--json'], { client: null, cwd: ws, env: { CAIRN_HOME: join(ws, '..', 'no-home') } });
      assert.equal(run.code, 0, run.err.join('\n'));
      const out = run.out.join('\n');
      const json = JSON.parse(out) as { findings: Array<{ rule: string; path: string; line: number; column: number }> };
      assert.deepEqual(leaked(out, list), []);
      const paths = new Set(json.findings.map((f) => f.path));
      for (const rel of Object.keys(files).filter((r) => r.startsWith('pkg'))) assert.ok(paths.has(rel), `${rel} listed`);
      assert.ok(!paths.has('ignored/x.ts') && !paths.has('src/plain.ts'));
      for (const f of json.findings) {
        assert.deepEqual(Object.keys(f).sort(), ['column', 'line', 'path', 'rule']);
        assert.ok(f.line >= 3 && f.column >= 1, JSON.stringify(f));
      }
    } finally {
      await rm(ws, { recursive: true, force: true });
    }
  });
});
