// What the image_generation tool needs: an images endpoint speaking OpenAI's images API
// (POST {base}/images/generations → {created, data:[{b64_json, revised_prompt?}], size?, quality?, …}).
// With partial images asked for, the request says `stream: true`; a server that streams answers with
// server-sent events `image_generation.partial_image` / `image_generation.completed` (OpenAI's
// protocol), one that does not (LocalAI, stable-diffusion.cpp) answers with the JSON above, and the
// tool then has no partial images to relay.
import type { ImagesConfig } from '../../config/images.js';

/** A generation failed; the message is safe to show the model and the client (never the key). */
export class ImagesError extends Error {}

export interface ImageRequest {
  prompt: string;
  model?: string;
  size?: string;
  quality?: string;
  outputFormat?: string;
  background?: string;
  outputCompression?: number;
  moderation?: string;
  partialImages: number;
}

export interface GeneratedImage {
  b64: string;
  revisedPrompt?: string;
  size?: string;
  quality?: string;
  background?: string;
  outputFormat?: string;
}

export interface ImagesBackend {
  generate(req: ImageRequest, onPartial: (b64: string, index: number) => void, signal: AbortSignal): Promise<GeneratedImage>;
}

const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

async function failure(res: Response): Promise<ImagesError> {
  let detail = '';
  try {
    const body = await res.text();
    const parsed = JSON.parse(body);
    detail = str(parsed?.error?.message) ?? str(parsed?.error) ?? str(parsed?.message) ?? '';
  } catch {
    /* not JSON: the status says enough */
  }
  return new ImagesError(`the images endpoint answered HTTP ${res.status}${detail ? `: ${detail.slice(0, 300)}` : ''}`);
}

function fromJson(body: any): GeneratedImage {
  const first = Array.isArray(body?.data) ? body.data[0] : undefined;
  const b64 = str(first?.b64_json);
  if (!b64) throw new ImagesError(first?.url ? 'the images endpoint answered with a URL, not b64_json' : 'the images endpoint returned no image');
  return { b64, revisedPrompt: str(first.revised_prompt), size: str(body.size), quality: str(body.quality), background: str(body.background), outputFormat: str(body.output_format) };
}

/** Reads OpenAI's image streaming events until `image_generation.completed`. */
async function fromStream(res: Response, onPartial: (b64: string, index: number) => void): Promise<GeneratedImage> {
  const decoder = new TextDecoder();
  let buf = '';
  const handle = (block: string): GeneratedImage | undefined => {
    const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
    if (!data || data === '[DONE]') return undefined;
    let ev: any;
    try {
      ev = JSON.parse(data);
    } catch {
      throw new ImagesError('the images endpoint sent an event that is not JSON');
    }
    if (ev?.type === 'image_generation.partial_image' && str(ev.b64_json)) onPartial(ev.b64_json, Number(ev.partial_image_index) || 0);
    else if (ev?.type === 'image_generation.completed' && str(ev.b64_json)) {
      return { b64: ev.b64_json, revisedPrompt: str(ev.revised_prompt), size: str(ev.size), quality: str(ev.quality), background: str(ev.background), outputFormat: str(ev.output_format) };
    } else if (ev?.type === 'error' || ev?.error) throw new ImagesError(`the images endpoint failed: ${String(ev.error?.message ?? ev.message ?? 'error').slice(0, 300)}`);
    return undefined;
  };
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true }).replace(/\r\n/g, '\n');
    let end;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      const done = handle(buf.slice(0, end));
      buf = buf.slice(end + 2);
      if (done) return done;
    }
  }
  const done = buf.trim() ? handle(buf) : undefined;
  if (done) return done;
  throw new ImagesError('the images stream ended without a completed image');
}

export function imagesBackend(cfg: ImagesConfig): ImagesBackend {
  return {
    async generate(req, onPartial, signal) {
      const model = req.model ?? cfg.model;
      const body: Record<string, unknown> = {
        prompt: req.prompt, n: 1,
        ...(model ? { model } : {}),
        // gpt-image models always answer in base64 and refuse the parameter; the others (dall-e,
        // LocalAI, stable-diffusion.cpp) answer with a URL unless asked for b64_json.
        ...(model?.startsWith('gpt-image') ? {} : { response_format: 'b64_json' }),
        ...(req.size && req.size !== 'auto' ? { size: req.size } : {}),
        ...(req.quality && req.quality !== 'auto' ? { quality: req.quality } : {}),
        ...(req.outputFormat ? { output_format: req.outputFormat } : {}),
        ...(req.background && req.background !== 'auto' ? { background: req.background } : {}),
        ...(req.outputCompression !== undefined ? { output_compression: req.outputCompression } : {}),
        ...(req.moderation && req.moderation !== 'auto' ? { moderation: req.moderation } : {}),
      };
      const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
      if (cfg.apiKey) headers.authorization = `Bearer ${cfg.apiKey}`;
      const both = AbortSignal.any([signal, AbortSignal.timeout(cfg.timeoutMs)]);
      const post = (b: Record<string, unknown>) => fetch(`${cfg.baseUrl}/images/generations`, { method: 'POST', headers, body: JSON.stringify(b), signal: both });
      try {
        let res = await post(req.partialImages > 0 ? { ...body, stream: true, partial_images: req.partialImages } : body);
        // A server that refuses the streaming parameters still draws the image, without partials.
        if (req.partialImages > 0 && res.status === 400) {
          await res.body?.cancel();
          res = await post(body);
        }
        if (!res.ok) throw await failure(res);
        if ((res.headers.get('content-type') ?? '').includes('text/event-stream')) return await fromStream(res, onPartial);
        return fromJson(await res.json());
      } catch (err) {
        if (err instanceof ImagesError) throw err;
        if (signal.aborted) throw err;
        const e = err as Error;
        throw new ImagesError(e.name === 'TimeoutError' ? `the images endpoint did not answer within ${cfg.timeoutMs} ms` : `the images endpoint could not be reached (${e.message})`);
      }
    },
  };
}
