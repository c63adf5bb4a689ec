// The `image_generation` tool, run by the server through a configured images endpoint (backend.ts).
// The model sees one function `image_generation({prompt})`; the tool's settings (model, size,
// quality, output_format, background, output_compression, moderation, partial_images) come from the
// request's tool, as with OpenAI. Each call is an `image_generation_call` item
//   { id: "ig_…", type, status: in_progress → generating → completed | failed, result: <base64> | null,
//     revised_prompt, size, quality, background, output_format }
// with events response.image_generation_call.in_progress / .generating / .partial_image (when the
// endpoint streams partial images) / .completed. The model reads back a line saying the image was
// made (never its bytes): the client shows the image from the item.
import type { FunctionToolDef } from '../../providers/types.js';
import { errors } from '../../wire/errors.js';
import type { EventSink } from '../../wire/events.js';
import { newId } from '../../wire/ids.js';
import type { Item } from '../../wire/types.js';
import { toAbortSignal, type CancelSignal } from '../../util/cancel.js';
import { closeItem, itemEvent, openItem } from '../emit.js';
import type { ImagesBackend } from './backend.js';

export const IMAGE_GENERATION_TYPE = 'image_generation';
export const IMAGE_GENERATION_FUNCTION = 'image_generation';

export const imageGenerationFunctionDef: FunctionToolDef = {
  name: IMAGE_GENERATION_FUNCTION,
  description: 'Generate an image, which the user is shown. Give `prompt`: a full, detailed description of the image ' +
    '(subject, style, composition, colours, any text to draw).',
  parameters: {
    type: 'object',
    properties: { prompt: { type: 'string', description: 'The detailed description of the image to draw.' } },
    required: ['prompt'],
    additionalProperties: false,
  },
  strict: false,
};

const ENUMS: Record<string, readonly string[]> = {
  quality: ['low', 'medium', 'high', 'auto'],
  output_format: ['png', 'webp', 'jpeg'],
  background: ['transparent', 'opaque', 'auto'],
  moderation: ['auto', 'low'],
  action: ['generate', 'edit', 'auto'],
  input_fidelity: ['high', 'low'],
};

/**
 * The tool's shape, with OpenAI's defaults echoed. `size` also takes any WIDTHxHEIGHT, which local
 * servers (stable-diffusion.cpp, LocalAI) draw at; OpenAI's models take 1024x1024, 1024x1536, 1536x1024.
 */
export function normalizeImageGenerationTool(t: Record<string, any>, p: string): Item {
  const given = (k: string) => t[k] !== undefined && t[k] !== null;
  for (const [k, allowed] of Object.entries(ENUMS)) {
    if (given(k) && !allowed.includes(t[k])) throw errors.invalid(`'${p}.${k}' must be one of ${allowed.map((a) => `'${a}'`).join(', ')}.`, `${p}.${k}`);
  }
  if (given('model') && (typeof t.model !== 'string' || !t.model || t.model.length > 200)) throw errors.invalid(`'${p}.model' must be a model name.`, `${p}.model`);
  if (given('size') && (typeof t.size !== 'string' || !/^(auto|[1-9]\d{1,4}x[1-9]\d{1,4})$/.test(t.size))) {
    throw errors.invalid(`'${p}.size' must be 'auto' or WIDTHxHEIGHT, such as '1024x1024'.`, `${p}.size`);
  }
  if (given('partial_images') && (!Number.isInteger(t.partial_images) || t.partial_images < 0 || t.partial_images > 3)) {
    throw errors.invalid(`'${p}.partial_images' must be an integer from 0 to 3.`, `${p}.partial_images`);
  }
  if (given('output_compression') && (!Number.isInteger(t.output_compression) || t.output_compression < 0 || t.output_compression > 100)) {
    throw errors.invalid(`'${p}.output_compression' must be an integer from 0 to 100.`, `${p}.output_compression`);
  }
  if (given('input_image_mask') && (typeof t.input_image_mask !== 'object' || Array.isArray(t.input_image_mask))) {
    throw errors.invalid(`'${p}.input_image_mask' must be an object with image_url or file_id.`, `${p}.input_image_mask`);
  }
  return {
    ...t, type: IMAGE_GENERATION_TYPE, background: t.background ?? 'auto', moderation: t.moderation ?? 'auto',
    output_compression: t.output_compression ?? 100, output_format: t.output_format ?? 'png', quality: t.quality ?? 'auto',
    size: t.size ?? 'auto', partial_images: t.partial_images ?? 0,
  };
}

export interface ImageGenerationRun {
  item: Item;
  /** What the model reads back. */
  resultText: string;
}

export function imageResultText(item: Item): string {
  if (item.status !== 'completed') return 'The image generation failed.';
  return `The image was generated (${item.size}, ${item.output_format}) and is shown to the user; do not describe it as text unless asked.`;
}

export async function runImageGeneration(log: EventSink, backend: ImagesBackend, tool: Item, args: Record<string, unknown>, signal: CancelSignal): Promise<ImageGenerationRun> {
  const prompt = typeof args.prompt === 'string' ? args.prompt.trim() : '';
  const item: Item = { id: newId('ig'), type: 'image_generation_call', status: 'in_progress', result: null };
  const index = openItem(log, item);
  itemEvent(log, 'response.image_generation_call.in_progress', index, item.id!);
  itemEvent(log, 'response.image_generation_call.generating', index, item.id!);
  let done: Item;
  let why = '';
  try {
    if (!prompt) throw new Error('give a prompt describing the image');
    const image = await backend.generate({
      prompt, model: tool.model, size: tool.size, quality: tool.quality, outputFormat: tool.output_format, background: tool.background,
      outputCompression: tool.output_compression === 100 ? undefined : tool.output_compression, moderation: tool.moderation,
      partialImages: tool.partial_images ?? 0,
    }, (b64, i) => {
      if (i >= (tool.partial_images ?? 0)) return; // no more than the client asked for
      log.append({ type: 'response.image_generation_call.partial_image', item_id: item.id!, output_index: index, partial_image_index: i, partial_image_b64: b64 });
    }, toAbortSignal(signal));
    done = {
      ...item, status: 'completed', background: image.background ?? tool.background ?? 'auto', output_format: image.outputFormat ?? tool.output_format ?? 'png',
      quality: image.quality ?? tool.quality ?? 'auto', result: image.b64, revised_prompt: image.revisedPrompt ?? prompt, size: image.size ?? tool.size ?? 'auto',
    };
    itemEvent(log, 'response.image_generation_call.completed', index, item.id!);
  } catch (err) {
    // A cancelled response ends the call too (failed: the item type has no other end), then the run stops.
    why = signal.aborted ? 'the response was cancelled' : (err as Error).message;
    done = { ...item, status: 'failed', result: null, revised_prompt: prompt || null };
  }
  closeItem(log, index, done);
  return { item: done, resultText: done.status === 'completed' ? imageResultText(done) : `The image generation failed: ${why}` };
}
