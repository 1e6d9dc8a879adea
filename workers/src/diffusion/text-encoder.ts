/**
 * Prompts to the U-Net's conditioning, as diffusers' pipelines compute it:
 * - SD 1.x / 2.x (and custom models): the encoder's `last_hidden_state` for the prompt padded to the
 *   tokenizer's length (77 for CLIP).
 * - SDXL: both encoders' penultimate hidden states (`hidden_states[-2]`, no final layer norm),
 *   concatenated on the feature axis (768 + 1280 = 2048), and the pooled, projected `text_embeds`
 *   of the second encoder for the U-Net's `text_embeds`.
 * The unconditional embedding is the encoding of "" or, where the folder says so (SDXL's
 * force_zeros_for_empty_prompt), zeros.
 *
 * The SDXL path follows diffusers' StableDiffusionXLPipeline.encode_prompt and optimum's output names
 * (`hidden_states.N`, `text_embeds`); it is checked against synthetic encoders, not against a real
 * SDXL export, which no machine here has.
 */
import * as ort from 'onnxruntime-node';
import { loadTokenizer, type Encoding, type Tokenizer } from '../text/tokenizer.ts';
import { float32Data } from './float-data.ts';
import type { ModelFolder, TextEncoderPart } from './model-folder.ts';
import { createSession, type Device } from './providers.ts';

export interface TextEmbeddings {
  /** [batch, tokens, dim], row-major. */
  embeddings: Float32Array;
  dims: [batch: number, tokens: number, dim: number];
  /** SDXL: the second encoder's pooled embedding [batch, dim]. */
  pooled?: { data: Float32Array; dims: [batch: number, dim: number] };
}

/** Embeddings together with how each prompt was tokenized (by the first tokenizer, whose positions index the attention maps). */
export interface PromptEncoding extends TextEmbeddings {
  tokenizer: Tokenizer;
  encodings: Encoding[];
}

interface OpenEncoder {
  part: TextEncoderPart;
  tokenizer: Tokenizer;
  session: ort.InferenceSession;
}

/** The sequence length the encoder takes: its static input length, else the tokenizer's maximum. */
function sequenceLength(encoder: OpenEncoder): number {
  const stated = encoder.part.inputIds.dims?.[1];
  return typeof stated === 'number' ? stated : encoder.tokenizer.modelMaxLength;
}

function tokenTensor(part: TextEncoderPart, ids: number[], dims: number[]): ort.Tensor {
  if (part.inputIds.type === 'int32') return new ort.Tensor('int32', Int32Array.from(ids), dims);
  return new ort.Tensor(
    'int64',
    BigInt64Array.from(ids, (id) => BigInt(id)),
    dims,
  );
}

function checkDims(file: string, output: string, actual: readonly number[], expected: readonly number[]): void {
  if (actual.length !== expected.length || actual.some((d, i) => d !== expected[i])) {
    throw new Error(`${file}: output '${output}' has shape [${actual.join(', ')}], expected [${expected.join(', ')}]`);
  }
}

interface EncoderOutput {
  encodings: Encoding[];
  hidden: Float32Array;
  width: number;
  pooled?: { data: Float32Array; width: number };
}

async function runEncoder(encoder: OpenEncoder, prompts: readonly string[], tokens: number): Promise<EncoderOutput> {
  const { part, tokenizer, session } = encoder;
  const encodings = prompts.map((prompt) => tokenizer.encode(prompt, { length: tokens }));
  const ids = encodings.flatMap((e) => e.ids);
  const fetches = [part.hiddenStates.name, ...(part.pooled ? [part.pooled.name] : [])];
  const out = await session.run({ [part.inputIds.name]: tokenTensor(part, ids, [prompts.length, tokens]) }, fetches);
  const hiddenTensor = out[part.hiddenStates.name]!;
  const width = hiddenTensor.dims[2] ?? 0;
  checkDims(part.file, part.hiddenStates.name, hiddenTensor.dims, [prompts.length, tokens, width]);
  const hidden = float32Data(hiddenTensor, `${part.file} output '${part.hiddenStates.name}'`);
  if (!part.pooled) return { encodings, hidden, width };
  const pooledTensor = out[part.pooled.name]!;
  const pooledWidth = pooledTensor.dims[1] ?? 0;
  checkDims(part.file, part.pooled.name, pooledTensor.dims, [prompts.length, pooledWidth]);
  return { encodings, hidden, width, pooled: { data: float32Data(pooledTensor, `${part.file} output '${part.pooled.name}'`), width: pooledWidth } };
}

/** [batch, tokens, w_k] blocks side by side: [batch, tokens, sum w_k]. */
function concatFeatures(outputs: readonly EncoderOutput[], rows: number): { data: Float32Array; width: number } {
  const width = outputs.reduce((sum, o) => sum + o.width, 0);
  const data = new Float32Array(rows * width);
  let offset = 0;
  for (const o of outputs) {
    for (let r = 0; r < rows; r++) data.set(o.hidden.subarray(r * o.width, (r + 1) * o.width), r * width + offset);
    offset += o.width;
  }
  return { data, width };
}

/** `copies` copies of a batch-of-one encoding. */
function repeatBatch(single: PromptEncoding, copies: number): PromptEncoding {
  const tile = (data: Float32Array) => {
    const out = new Float32Array(data.length * copies);
    for (let k = 0; k < copies; k++) out.set(data, k * data.length);
    return out;
  };
  const [, tokens, dim] = single.dims;
  return {
    tokenizer: single.tokenizer,
    encodings: Array.from({ length: copies }, () => single.encodings[0]!),
    embeddings: tile(single.embeddings),
    dims: [copies, tokens, dim],
    pooled: single.pooled && { data: tile(single.pooled.data), dims: [copies, single.pooled.dims[1]] },
  };
}

/** The same encoding with every embedding value zero. */
function zeroed(encoding: PromptEncoding): PromptEncoding {
  const { embeddings, pooled } = encoding;
  return { ...encoding, embeddings: new Float32Array(embeddings.length), pooled: pooled && { ...pooled, data: new Float32Array(pooled.data.length) } };
}

export class PromptEncoder {
  /** The token count of every encoding (77 for CLIP). */
  readonly tokens: number;
  private unconditionalOne?: Promise<PromptEncoding>;

  constructor(
    private readonly encoders: readonly OpenEncoder[],
    private readonly zeroUnconditional: boolean,
  ) {
    const lengths = encoders.map(sequenceLength);
    if (lengths.some((n) => n !== lengths[0])) {
      throw new Error(`the text encoders take different sequence lengths (${encoders.map((e, k) => `${e.part.file}: ${lengths[k]}`).join(', ')})`);
    }
    this.tokens = lengths[0]!;
  }

  /** The tokenizer whose token positions index the attention maps' token axis (SDXL: the first; both split text alike). */
  get tokenizer(): Tokenizer {
    return this.encoders[0]!.tokenizer;
  }

  /** A prompt as the encoder sees it, with each word's token positions (for finding the objects' tokens). */
  tokenize(prompt: string): Encoding {
    return this.tokenizer.encode(prompt, { length: this.tokens });
  }

  async encode(prompts: readonly string[]): Promise<PromptEncoding> {
    if (prompts.length === 0) throw new Error('encode: no prompts');
    const outputs: EncoderOutput[] = [];
    // One encoder at a time: SDXL's two are large, and running them together saves nothing on one device.
    for (const encoder of this.encoders) outputs.push(await runEncoder(encoder, prompts, this.tokens));
    const { data, width } = concatFeatures(outputs, prompts.length * this.tokens);
    const pooled = outputs.find((o) => o.pooled)?.pooled;
    return {
      tokenizer: this.tokenizer,
      encodings: outputs[0]!.encodings,
      embeddings: data,
      dims: [prompts.length, this.tokens, width],
      pooled: pooled && { data: pooled.data, dims: [prompts.length, pooled.width] },
    };
  }

  /** The unconditional embedding for classifier-free guidance, `batch` times (zeros where the folder asks for them). */
  async unconditional(batch: number): Promise<PromptEncoding> {
    this.unconditionalOne ??= this.encode(['']).then((e) => (this.zeroUnconditional ? zeroed(e) : e));
    return repeatBatch(await this.unconditionalOne, batch);
  }

  async release(): Promise<void> {
    await Promise.all(this.encoders.map((e) => e.session.release()));
  }
}

/** Loads the folder's tokenizer(s) and opens its text encoder(s) on `device`. */
export async function openPromptEncoder(folder: ModelFolder, device: Device): Promise<PromptEncoder> {
  const encoders: OpenEncoder[] = [];
  try {
    for (const part of folder.textEncoders) {
      const tokenizer = loadTokenizer(part.tokenizerDir);
      encoders.push({ part, tokenizer, session: await createSession(part.file, device) });
    }
    return new PromptEncoder(encoders, folder.zeroUnconditional);
  } catch (err) {
    await Promise.all(encoders.map((e) => e.session.release()));
    throw err;
  }
}

/**
 * Encodes prompts in one go (opening and closing the encoders); `zeros` gives an all-zero
 * embedding of the same shape, as for SDXL's unconditional input.
 */
export async function encodePrompts(
  folder: ModelFolder,
  prompts: readonly string[],
  device: Device,
  options: { zeros?: boolean } = {},
): Promise<PromptEncoding> {
  const encoder = await openPromptEncoder(folder, device);
  try {
    const encoding = await encoder.encode(prompts);
    return options.zeros ? zeroed(encoding) : encoding;
  } finally {
    await encoder.release();
  }
}
