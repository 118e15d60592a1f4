import { strict as assert } from 'node:assert';
import { mkdir, mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DaemonClient, DaemonResponseError } from '../../daemon/src/protocol/client/client.js';
import { readModel2Vec, model2vecId } from '../../daemon/src/kb/model2vec.js';
import { ProviderError } from '../../daemon/src/kb/embed.js';
import { configFromEnv } from '../../daemon/src/config.js';
import { headerLength, parseSafetensors, readFloats, SafetensorsError } from '../../daemon/src/kb/safetensors.js';
import { startKbDaemon, type KbDaemon } from './support.js';
import { safetensorsBytes, writeModel2Vec, type Vocab } from './model2vec-model.js';

// Four axes: money, network, interface, and a little of everything for common words.
const VOCAB: Vocab = {
  payment: [1, 0, 0, 0],
  invoice: [1, 0, 0, 0],
  refund: [1, 0, 0, 0],
  socket: [0, 1, 0, 0],
  timeout: [0, 1, 0, 0],
  disconnect: [0, 1, 0, 0],
  button: [0, 0, 1, 0],
  colour: [0, 0, 1, 0],
  customer: [0, 0, 0, 1],
  the: [0, 0, 0, 0.25],
  '##s': [0, 0, 0, 0.25],
};
// Every special token (and [UNK]) points somewhere else entirely: embedding one would show.
const SPECIAL_ROW = [0, 0, 5, 5];

const unit = (v: number[]) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};
const close = (a: ArrayLike<number>, b: number[], eps = 1e-3) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < eps, `${Array.from(a).join(',')} ≉ ${b.join(',')}`);
};

async function rejectsBadModel(work: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(work, (e: unknown) => {
    assert.ok(e instanceof ProviderError, String(e));
    assert.equal(e.reason, 'bad_model');
    assert.match(e.message, message);
    return true;
  });
}

describe('Model2Vec static embeddings from a folder', function () {
  this.timeout(180_000);
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'cairn-m2v-'));
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('embeds a text as the normalised mean of its token rows, without special or unknown tokens, in F32 and F16 alike', async () => {
    const f32 = await readModel2Vec(await writeModel2Vec(join(tmp, 'tiny-f32'), VOCAB, { specialRow: SPECIAL_ROW }));
    const f16 = await readModel2Vec(await writeModel2Vec(join(tmp, 'tiny-f16'), VOCAB, { dtype: 'F16', specialRow: SPECIAL_ROW }));
    assert.equal(f32.id, 'model2vec:tiny-f32-4');
    assert.equal(f16.dims, 4);
    for (const m of [f32, f16]) {
      const [refund, mixed, unknown, cased, plural] = await m.embed(['refund', 'Refund the customer', 'refund xylophone [CLS] [PAD]', 'REFUND', 'refunds']);
      close(refund!, [1, 0, 0, 0]);
      close(mixed!, unit([1, 0, 0, 1.25]));
      close(unknown!, [1, 0, 0, 0]);
      close(cased!, [1, 0, 0, 0]);
      close(plural!, unit([1, 0, 0, 0.25]));
      const [nothing] = await m.embed(['zzz qqq']);
      close(nothing!, [0, 0, 0, 0]);
    }
  });

  it('names the model by folder and dimension from the header alone, and says what is wrong with a bad folder', async () => {
    const dir = await writeModel2Vec(join(tmp, 'potion-mini'), VOCAB);
    assert.equal(model2vecId(dir), 'model2vec:potion-mini-4');
    assert.equal(configFromEnv({ CAIRN_EMBEDDINGS: `model2vec:${dir}` }).embeddings.provider, 'model2vec');
    assert.equal(configFromEnv({ CAIRN_EMBEDDINGS: `model2vec:${dir}` }).embeddings.model, dir);

    await rejectsBadModel(readModel2Vec(join(tmp, 'nowhere')), /no such folder/);
    const noTokenizer = join(tmp, 'no-tokenizer');
    await mkdir(noTokenizer);
    await rejectsBadModel(readModel2Vec(noTokenizer), /no tokenizer\.json/);
    const truncated = await writeModel2Vec(join(tmp, 'truncated'), VOCAB);
    const bytes = await readFile(join(truncated, 'model.safetensors'));
    await writeFile(join(truncated, 'model.safetensors'), bytes.subarray(0, bytes.length - 10));
    await rejectsBadModel(readModel2Vec(truncated), /not a valid safetensors file: .*truncated/);
    assert.throws(() => model2vecId(join(tmp, 'no-tokenizer')), /no model\.safetensors/);
    const badTokenizer = await writeModel2Vec(join(tmp, 'bad-tokenizer'), VOCAB);
    await writeFile(join(badTokenizer, 'tokenizer.json'), '{"model": ');
    await rejectsBadModel(readModel2Vec(badTokenizer), /tokenizer\.json is not a JSON object/);
    const noEmbeddings = await writeModel2Vec(join(tmp, 'no-embeddings'), VOCAB);
    await writeFile(join(noEmbeddings, 'model.safetensors'), safetensorsBytes({ other: { dtype: 'F32', shape: [1, 2], values: [1, 2] } }));
    await rejectsBadModel(readModel2Vec(noEmbeddings), /no "embeddings" tensor \(it has: other\)/);
  });

  it('rejects malformed safetensors with a SafetensorsError, never a RangeError or a huge allocation', () => {
    const good = safetensorsBytes({ embeddings: { dtype: 'F16', shape: [2, 3], values: [1, 2, 3, -0.5, 0.25, 0] } });
    const t = parseSafetensors(good).get('embeddings')!;
    assert.deepEqual(Array.from(readFloats(good, t)), [1, 2, 3, -0.5, 0.25, 0]);

    const withHeader = (json: string, data = Buffer.alloc(0)) => {
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
      return Buffer.concat([len, Buffer.from(json), data]);
    };
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['empty file', new Uint8Array(0), /too short/],
      ['seven bytes', new Uint8Array(7), /too short/],
      ['header length past the end', (() => { const b = Buffer.alloc(16); b.writeBigUInt64LE(1000n); return b; })(), /runs past the end/],
      ['absurd header length', (() => { const b = Buffer.alloc(16); b.writeBigUInt64LE(2n ** 63n); return b; })(), /not plausible/],
      ['header not JSON', withHeader('{"embeddings": [}'), /not valid UTF-8 JSON/],
      ['header an array', withHeader('[1,2]'), /not a JSON object/],
      ['unknown dtype', withHeader('{"e":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}', Buffer.alloc(1)), /dtype "F8_E4M3"/],
      ['negative shape', withHeader('{"e":{"dtype":"F32","shape":[-1,4],"data_offsets":[0,16]}}', Buffer.alloc(16)), /no valid shape/],
      ['offsets reversed', withHeader('{"e":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}', Buffer.alloc(4)), /no valid data_offsets/],
      ['data past the end', withHeader('{"e":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', Buffer.alloc(8)), /ends at byte 16 of a 8-byte data section/],
      ['size not the shape', withHeader('{"e":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', Buffer.alloc(8)), /needs 12/],
    ];
    for (const [name, bytes, message] of cases) {
      assert.throws(() => parseSafetensors(bytes), (e: unknown) => e instanceof SafetensorsError && message.test(e.message), name);
    }
    assert.throws(() => headerLength(new Uint8Array(8), 8), SafetensorsError);
  });

  describe('through the daemon (CAIRN_EMBEDDINGS=model2vec:<folder>)', () => {
    let home: string;
    let ws: string;
    let daemon: KbDaemon;
    let client: DaemonClient;
    let modelDir: string;
    // Each file mentions the customer once: the words alone cannot tell which answers a question about money.
    const FILES: Record<string, string> = {
      'src/billing.ts': '// take the payment and send the invoice to the customer\nexport const billing = 1;\n',
      'src/network.ts': '// on a socket timeout we disconnect the customer\nexport const network = 2;\n',
      'src/theme.ts': '// the button colour shown to the customer\nexport const theme = 3;\n',
    };

    before(async () => {
      home = await mkdtemp(join(tmpdir(), 'cairn-m2v-daemon-'));
      ws = join(home, 'workspace');
      for (const [rel, text] of Object.entries(FILES)) {
        await mkdir(dirname(join(ws, rel)), { recursive: true });
        await writeFile(join(ws, rel), text);
      }
      modelDir = await writeModel2Vec(join(home, 'models', 'tiny-code'), VOCAB, { dtype: 'F16', specialRow: SPECIAL_ROW });
      daemon = await startKbDaemon(home, { CAIRN_EMBEDDINGS: `model2vec:${modelDir}` });
      client = daemon.client;
    });
    after(async () => {
      await daemon?.stop();
      await rm(home, { recursive: true, force: true });
    });

    it('indexes with the model, stores its name, and ranks by its vectors', async () => {
      const summary = await client.request('kb/index', { root: ws, watch: false });
      assert.equal(summary.indexed, 3);
      const status = await client.request('kb/status', { root: ws, stale: false });
      assert.equal(status.configuredModel, 'model2vec:tiny-code-4');
      assert.equal(status.activeModel, 'model2vec:tiny-code-4');
      assert.deepEqual(status.models.map((m) => [m.model, m.dims]), [['model2vec:tiny-code-4', 4]]);

      // The same words in every file ("customer"); only the model knows a refund is about money and a
      // disconnect about the network.
      const money = await client.request('kb/search', { root: ws, query: 'refund customer' });
      assert.equal(money[0]?.path, 'src/billing.ts', JSON.stringify(money.map((h) => [h.path, h.score])));
      const network = await client.request('kb/search', { root: ws, query: 'disconnect customer' });
      assert.equal(network[0]?.path, 'src/network.ts', JSON.stringify(network.map((h) => [h.path, h.score])));
      const looks = await client.request('kb/search', { root: ws, query: 'customer button' });
      assert.equal(looks[0]?.path, 'src/theme.ts');
    });

    it('a folder that is not a model is a ProviderError naming it; the daemon keeps answering', async () => {
      const broken = join(home, 'models', 'broken');
      await mkdir(broken, { recursive: true });
      await writeFile(join(broken, 'tokenizer.json'), '{}');
      await writeFile(join(broken, 'model.safetensors'), 'not a model');
      await client.request('daemon/configure', { settings: { embeddings: { provider: 'model2vec', model: broken } } });
      await assert.rejects(client.request('kb/index', { root: ws, watch: false }), (e: unknown) => {
        assert.ok(e instanceof DaemonResponseError, String(e));
        assert.equal(e.codeName, 'ProviderError');
        assert.match(e.message, /Model2Vec folder .*broken cannot be used: model\.safetensors is not a valid safetensors file/);
        return true;
      });
      // Search still answers from the complete generation of the working model.
      const hits = await client.request('kb/search', { root: ws, query: 'payment' });
      assert.equal(hits[0]?.path, 'src/billing.ts');
      const status = await client.request('kb/status', { root: ws, stale: false });
      assert.equal(status.configuredModel, 'model2vec:broken');
      assert.equal(status.activeModel, 'model2vec:tiny-code-4');
    });
  });
});
