/**
 * Writes a tiny Model2Vec model in the format potion models ship (tokenizer.json with a WordPiece model,
 * model.safetensors with an "embeddings" tensor, config.json), with vectors a test chooses per token.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export type Vocab = Record<string, number[]>;

const SPECIAL = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

/** IEEE half precision of a finite number in the normal range (or 0): enough for test vectors. */
export function toHalf(x: number): number {
  if (x === 0) return 0;
  const sign = x < 0 ? 0x8000 : 0;
  const a = Math.abs(x);
  let e = Math.floor(Math.log2(a));
  let m = Math.round((a / 2 ** e - 1) * 1024);
  if (m === 1024) {
    m = 0;
    e++;
  }
  return sign | ((e + 15) << 10) | m;
}

/** A safetensors file: 8-byte little-endian header length, JSON header, raw little-endian data. */
export function safetensorsBytes(tensors: Record<string, { dtype: 'F32' | 'F16'; shape: number[]; values: number[] }>): Buffer {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  const parts: Buffer[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const size = t.dtype === 'F32' ? 4 : 2;
    const data = Buffer.alloc(t.values.length * size);
    t.values.forEach((v, i) => (t.dtype === 'F32' ? data.writeFloatLE(v, i * 4) : data.writeUInt16LE(toHalf(v), i * 2)));
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + data.length] };
    parts.push(data);
    offset += data.length;
  }
  let json = JSON.stringify(header);
  // The format pads the header with spaces to a multiple of 8 bytes.
  while ((json.length + 8) % 8) json += ' ';
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([len, Buffer.from(json), ...parts]);
}

/** A BERT-style WordPiece tokenizer.json over SPECIAL + the vocabulary's tokens, in that id order. */
export function wordPieceTokenizer(tokens: string[]): object {
  const vocab: Record<string, number> = {};
  [...SPECIAL, ...tokens].forEach((t, i) => (vocab[t] = i));
  const special = (content: string) => ({ id: vocab[content], content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL.map(special),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [vocab['[CLS]']], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [vocab['[SEP]']], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}

/**
 * Writes the model into `dir`: the special tokens get `specialRow` (so a test sees if one is embedded), every
 * token of `vocab` its vector. Returns the folder.
 */
export async function writeModel2Vec(dir: string, vocab: Vocab, opts: { dtype?: 'F32' | 'F16'; specialRow?: number[] } = {}): Promise<string> {
  const tokens = Object.keys(vocab);
  const dims = vocab[tokens[0]!]!.length;
  const specialRow = opts.specialRow ?? new Array<number>(dims).fill(0);
  const rows = [...SPECIAL.map(() => specialRow), ...tokens.map((t) => vocab[t]!)];
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(wordPieceTokenizer(tokens)));
  await writeFile(join(dir, 'model.safetensors'), safetensorsBytes({ embeddings: { dtype: opts.dtype ?? 'F32', shape: [rows.length, dims], values: rows.flat() } }));
  await writeFile(join(dir, 'config.json'), JSON.stringify({ model_type: 'model2vec', normalize: true, hidden_dim: dims }));
  return dir;
}
