/**
 * A reader of the safetensors format (as Hugging Face models ship their weights): an 8-byte little-endian
 * length N, N bytes of JSON naming each tensor's dtype, shape and byte range, then the raw little-endian data.
 * Only what a static embedding model needs: whole tensors decoded to Float32Array (floats, and 8-bit ints as
 * quantized models store them) or to integer arrays (a token mapping). Every bound is checked, so a truncated or
 * hostile file fails with a SafetensorsError naming what is wrong, never a RangeError or a huge allocation.
 */

export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

/** Bytes per element of the dtypes this reader decodes. */
const DTYPE_BYTES = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1 } as const;
export type Dtype = keyof typeof DTYPE_BYTES;

export interface TensorInfo {
  dtype: Dtype;
  shape: number[];
  /** Byte range in the file (absolute, header included). */
  begin: number;
  end: number;
}

/** The header limit the reference implementation keeps (100 MB); a larger "length" is a corrupt file. */
const MAX_HEADER_BYTES = 100_000_000;

/** The length of the header and the data offset, from the first 8 bytes; `fileSize` bounds them. */
export function headerLength(first8: Uint8Array, fileSize: number): number {
  if (first8.length < 8 || fileSize < 8) throw new SafetensorsError(`file of ${fileSize} bytes is too short to hold a safetensors header`);
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n < 2n || n > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError(`header length ${n} is not plausible (2 bytes to 100 MB)`);
  if (n > BigInt(fileSize - 8)) throw new SafetensorsError(`header length ${n} runs past the end of the ${fileSize}-byte file`);
  return Number(n);
}

/**
 * The tensors a header describes. `headerBytes` is the JSON (without the 8-byte length); `fileSize` is the whole
 * file's, so every tensor's byte range is checked against it and against its dtype and shape.
 */
export function parseHeader(headerBytes: Uint8Array, fileSize: number): Map<string, TensorInfo> {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (e) {
    throw new SafetensorsError(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new SafetensorsError('header is not a JSON object');
  const dataStart = 8 + headerBytes.length;
  const dataSize = fileSize - dataStart;
  const out = new Map<string, TensorInfo>();
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    const t = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (!t || typeof t !== 'object') throw new SafetensorsError(`tensor "${name}" is not described by an object`);
    if (typeof t.dtype !== 'string' || !(t.dtype in DTYPE_BYTES)) {
      throw new SafetensorsError(`tensor "${name}" has dtype ${JSON.stringify(t.dtype)}; supported: ${Object.keys(DTYPE_BYTES).join(', ')}`);
    }
    const dtype = t.dtype as Dtype;
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new SafetensorsError(`tensor "${name}" has no valid shape`);
    }
    const offsets = t.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
      throw new SafetensorsError(`tensor "${name}" has no valid data_offsets`);
    }
    const [from, to] = offsets as [number, number];
    if (to > dataSize) throw new SafetensorsError(`tensor "${name}" ends at byte ${to} of a ${dataSize}-byte data section (truncated file?)`);
    const elements = (t.shape as number[]).reduce((a, b) => a * b, 1);
    if (elements * DTYPE_BYTES[dtype] !== to - from) {
      throw new SafetensorsError(`tensor "${name}" holds ${to - from} bytes, but ${dtype} ${JSON.stringify(t.shape)} needs ${elements * DTYPE_BYTES[dtype]}`);
    }
    out.set(name, { dtype, shape: t.shape as number[], begin: dataStart + from, end: dataStart + to });
  }
  return out;
}

/** Parses a whole safetensors file held in memory. */
export function parseSafetensors(file: Uint8Array): Map<string, TensorInfo> {
  const n = headerLength(file.subarray(0, 8), file.length);
  return parseHeader(file.subarray(8, 8 + n), file.length);
}

/** IEEE 754 half precision to a JS number. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** A tensor's values as 32-bit floats (integers converted as they are; a quantized model's scale cancels in a mean that is normalised). */
export function readFloats(file: Uint8Array, t: TensorInfo): Float32Array {
  const count = (t.end - t.begin) / DTYPE_BYTES[t.dtype];
  const view = new DataView(file.buffer, file.byteOffset + t.begin, t.end - t.begin);
  const out = new Float32Array(count);
  switch (t.dtype) {
    case 'F32':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      break;
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      break;
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      break;
    case 'BF16': {
      // bfloat16 is the top half of a float32.
      const bits = new Uint32Array(1);
      const asFloat = new Float32Array(bits.buffer);
      for (let i = 0; i < count; i++) {
        bits[0] = view.getUint16(i * 2, true) << 16;
        out[i] = asFloat[0]!;
      }
      break;
    }
    default:
      for (let i = 0; i < count; i++) out[i] = readInt(view, t.dtype, i);
  }
  return out;
}

/** A tensor of integers (a token-to-row mapping) as numbers. */
export function readInts(file: Uint8Array, t: TensorInfo): number[] {
  if (t.dtype.startsWith('F') || t.dtype === 'BF16') throw new SafetensorsError(`expected an integer tensor, found ${t.dtype}`);
  const count = (t.end - t.begin) / DTYPE_BYTES[t.dtype];
  const view = new DataView(file.buffer, file.byteOffset + t.begin, t.end - t.begin);
  const out = new Array<number>(count);
  for (let i = 0; i < count; i++) out[i] = readInt(view, t.dtype, i);
  return out;
}

function readInt(view: DataView, dtype: Dtype, i: number): number {
  switch (dtype) {
    case 'I64':
      return Number(view.getBigInt64(i * 8, true));
    case 'I32':
      return view.getInt32(i * 4, true);
    case 'I16':
      return view.getInt16(i * 2, true);
    case 'I8':
      return view.getInt8(i);
    case 'U8':
      return view.getUint8(i);
    default:
      throw new SafetensorsError(`expected an integer tensor, found ${dtype}`);
  }
}
