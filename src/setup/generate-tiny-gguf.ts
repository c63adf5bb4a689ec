// Writes a tiny but real llama-architecture GGUF (v3) model with deterministic pseudo-random weights.
// Why: `npm start` / `npm test` must always have *some* local model to serve, even on a machine without
// the shared TinyStories file and without network access. The output is gibberish, but it exercises the
// whole llama.cpp path (tokenizer, sampling, grammars, batching) exactly like a trained model would.
//
// Layout follows the GGUF v3 spec (as read by llama.cpp and node-llama-cpp's own reader):
//   header: magic "GGUF", u32 version, u64 tensor count, u64 metadata count
//   metadata: (string key, u32 value type, value)*
//   tensor infos: (string name, u32 n_dims, u64 dims[n_dims], u32 ggml type, u64 data offset)*
//   padding to `general.alignment`, then tensor data (each tensor aligned too).
// Metadata key names and value types mirror llama.cpp's conversion of llama2.c's stories260K.

import { mkdir, writeFile, rename } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

// GGUF metadata value types.
const T_UINT32 = 4;
const T_INT32 = 5;
const T_FLOAT32 = 6;
const T_STRING = 8;
const T_ARRAY = 9;
const GGML_TYPE_F32 = 0;
const ALIGNMENT = 32;

// Model shape: small enough to stay well under 1 MB, big enough to be a "normal" llama graph
// (grouped-query attention, SwiGLU FFN, RMS norm, untied output head).
const N_EMBD = 64;
const N_LAYER = 2;
const N_HEAD = 4;
const N_HEAD_KV = 2;
const N_FF = 128;
// Context the model declares (metadata only: the file does not grow). 2048, like the default context, so a
// prompt with tool definitions fits: at 512 the tool tests' prompts (~1,000 tokens) were refused.
const N_CTX = 2048;
const HEAD_DIM = N_EMBD / N_HEAD;

// Token types as llama.cpp defines them (llama_token_type).
const TOKEN_TYPE_NORMAL = 1;
const TOKEN_TYPE_UNKNOWN = 2;
const TOKEN_TYPE_CONTROL = 3;
const TOKEN_TYPE_BYTE = 6;

type MetaValue =
  | { t: typeof T_UINT32 | typeof T_INT32 | typeof T_FLOAT32; v: number }
  | { t: typeof T_STRING; v: string }
  | { t: typeof T_ARRAY; elem: typeof T_INT32 | typeof T_FLOAT32 | typeof T_STRING; v: (number | string)[] };

/** Growable little-endian byte writer. */
class ByteWriter {
  private buf = Buffer.alloc(1 << 16);
  length = 0;
  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = Buffer.alloc(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  u32(v: number): void { this.ensure(4); this.buf.writeUInt32LE(v >>> 0, this.length); this.length += 4; }
  i32(v: number): void { this.ensure(4); this.buf.writeInt32LE(v, this.length); this.length += 4; }
  u64(v: number): void { this.ensure(8); this.buf.writeBigUInt64LE(BigInt(v), this.length); this.length += 8; }
  f32(v: number): void { this.ensure(4); this.buf.writeFloatLE(v, this.length); this.length += 4; }
  str(s: string): void {
    const bytes = Buffer.from(s, 'utf8');
    this.u64(bytes.length);
    this.ensure(bytes.length);
    bytes.copy(this.buf, this.length);
    this.length += bytes.length;
  }
  bytes(b: Uint8Array): void { this.ensure(b.length); this.buf.set(b, this.length); this.length += b.length; }
  padTo(alignment: number): void {
    const pad = (alignment - (this.length % alignment)) % alignment;
    this.ensure(pad);
    this.buf.fill(0, this.length, this.length + pad);
    this.length += pad;
  }
  result(): Buffer { return this.buf.subarray(0, this.length); }
}

/** mulberry32: tiny deterministic PRNG, so every generated file is byte-identical. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface TensorSpec { name: string; dims: number[]; data: Float32Array }

function buildVocab(): { tokens: string[]; scores: number[]; types: number[] } {
  // Byte-level vocabulary: <unk>, <s>, </s>, then one token per byte value (<0x00>..<0xFF>).
  // llama.cpp's SPM ("llama") tokenizer falls back to byte tokens for any text it cannot match,
  // so every input is tokenizable and every output detokenizes to valid bytes.
  const tokens = ['<unk>', '<s>', '</s>'];
  const types = [TOKEN_TYPE_UNKNOWN, TOKEN_TYPE_CONTROL, TOKEN_TYPE_CONTROL];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(TOKEN_TYPE_BYTE);
  }
  // SentencePiece's word-boundary marker (spaces are rewritten to U+2581 before lookup) plus printable
  // ASCII as ordinary pieces: without "▁" text would not round-trip (spaces would come back as "▁").
  tokens.push('\u2581');
  types.push(TOKEN_TYPE_NORMAL);
  for (let c = 0x21; c <= 0x7e; c++) {
    tokens.push(String.fromCharCode(c));
    types.push(TOKEN_TYPE_NORMAL);
  }
  return { tokens, scores: tokens.map(() => 0), types };
}

function buildTensors(nVocab: number): TensorSpec[] {
  const rand = mulberry32(0x5eed1234);
  // Uniform in [-scale, scale]; scales chosen so activations stay O(1) through the tiny network.
  const random = (n: number, scale: number): Float32Array => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = (rand() * 2 - 1) * scale;
    return a;
  };
  const ones = (n: number): Float32Array => new Float32Array(n).fill(1);
  const kvDim = HEAD_DIM * N_HEAD_KV;
  const w = 1 / Math.sqrt(N_EMBD);
  // GGUF dims are listed innermost-first: a [in, out] tensor maps `in` features to `out` features.
  const tensors: TensorSpec[] = [
    { name: 'token_embd.weight', dims: [N_EMBD, nVocab], data: random(N_EMBD * nVocab, 1) },
    { name: 'output_norm.weight', dims: [N_EMBD], data: ones(N_EMBD) },
    { name: 'output.weight', dims: [N_EMBD, nVocab], data: random(N_EMBD * nVocab, w * 4) },
  ];
  for (let l = 0; l < N_LAYER; l++) {
    const p = `blk.${l}.`;
    tensors.push(
      { name: `${p}attn_norm.weight`, dims: [N_EMBD], data: ones(N_EMBD) },
      { name: `${p}attn_q.weight`, dims: [N_EMBD, N_EMBD], data: random(N_EMBD * N_EMBD, w) },
      { name: `${p}attn_k.weight`, dims: [N_EMBD, kvDim], data: random(N_EMBD * kvDim, w) },
      { name: `${p}attn_v.weight`, dims: [N_EMBD, kvDim], data: random(N_EMBD * kvDim, w) },
      { name: `${p}attn_output.weight`, dims: [N_EMBD, N_EMBD], data: random(N_EMBD * N_EMBD, w) },
      { name: `${p}ffn_norm.weight`, dims: [N_EMBD], data: ones(N_EMBD) },
      { name: `${p}ffn_gate.weight`, dims: [N_EMBD, N_FF], data: random(N_EMBD * N_FF, w) },
      { name: `${p}ffn_up.weight`, dims: [N_EMBD, N_FF], data: random(N_EMBD * N_FF, w) },
      { name: `${p}ffn_down.weight`, dims: [N_FF, N_EMBD], data: random(N_FF * N_EMBD, 1 / Math.sqrt(N_FF)) },
    );
  }
  return tensors;
}

function writeValue(out: ByteWriter, value: MetaValue): void {
  out.u32(value.t);
  switch (value.t) {
    case T_UINT32: out.u32(value.v); break;
    case T_INT32: out.i32(value.v); break;
    case T_FLOAT32: out.f32(value.v); break;
    case T_STRING: out.str(value.v); break;
    case T_ARRAY:
      out.u32(value.elem);
      out.u64(value.v.length);
      for (const item of value.v) {
        if (value.elem === T_STRING) out.str(item as string);
        else if (value.elem === T_INT32) out.i32(item as number);
        else out.f32(item as number);
      }
      break;
  }
}

/** Serialises the whole model into memory (it is well under 1 MB). */
export function buildTinyGguf(): Buffer {
  const vocab = buildVocab();
  const tensors = buildTensors(vocab.tokens.length);
  const u32 = (v: number): MetaValue => ({ t: T_UINT32, v });
  const metadata: [string, MetaValue][] = [
    ['general.architecture', { t: T_STRING, v: 'llama' }],
    ['general.name', { t: T_STRING, v: 'respd-tiny' }],
    ['general.alignment', u32(ALIGNMENT)],
    ['llama.context_length', u32(N_CTX)],
    ['llama.embedding_length', u32(N_EMBD)],
    ['llama.block_count', u32(N_LAYER)],
    ['llama.feed_forward_length', u32(N_FF)],
    ['llama.attention.head_count', u32(N_HEAD)],
    ['llama.attention.head_count_kv', u32(N_HEAD_KV)],
    ['llama.rope.dimension_count', u32(HEAD_DIM)],
    ['llama.attention.layer_norm_rms_epsilon', { t: T_FLOAT32, v: 1e-5 }],
    ['tokenizer.ggml.model', { t: T_STRING, v: 'llama' }],
    ['tokenizer.ggml.tokens', { t: T_ARRAY, elem: T_STRING, v: vocab.tokens }],
    ['tokenizer.ggml.scores', { t: T_ARRAY, elem: T_FLOAT32, v: vocab.scores }],
    ['tokenizer.ggml.token_type', { t: T_ARRAY, elem: T_INT32, v: vocab.types }],
    ['tokenizer.ggml.unknown_token_id', u32(0)],
    ['tokenizer.ggml.bos_token_id', u32(1)],
    ['tokenizer.ggml.eos_token_id', u32(2)],
  ];

  const out = new ByteWriter();
  out.bytes(Buffer.from('GGUF', 'ascii'));
  out.u32(3); // GGUF version
  out.u64(tensors.length);
  out.u64(metadata.length);
  for (const [key, value] of metadata) {
    out.str(key);
    writeValue(out, value);
  }
  // Tensor infos: offsets are relative to the start of the (aligned) data section.
  let offset = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    offsets.push(offset);
    out.str(t.name);
    out.u32(t.dims.length);
    for (const d of t.dims) out.u64(d);
    out.u32(GGML_TYPE_F32);
    out.u64(offset);
    offset += t.data.byteLength;
    offset += (ALIGNMENT - (offset % ALIGNMENT)) % ALIGNMENT;
  }
  out.padTo(ALIGNMENT);
  const dataStart = out.length;
  for (let i = 0; i < tensors.length; i++) {
    const t = tensors[i]!;
    if (out.length - dataStart !== offsets[i]) throw new Error(`internal: misaligned tensor ${t.name}`);
    out.bytes(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    out.padTo(ALIGNMENT);
  }
  return out.result();
}

/** Writes the tiny model to `path` atomically (temp file + rename), creating parent folders. */
export async function generateTinyGguf(path: string): Promise<void> {
  const target = resolve(path);
  await mkdir(dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.tmp`;
  await writeFile(tmp, buildTinyGguf());
  await rename(tmp, target);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const target = process.argv[2] ?? 'models/respd-tiny.gguf';
  generateTinyGguf(target).then(
    () => console.log(`wrote ${target}`),
    (err: unknown) => {
      console.error(`generate-tiny-gguf: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
